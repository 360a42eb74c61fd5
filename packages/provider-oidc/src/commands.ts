// `claude-key oidc login` (device flow, stores the refresh token) and `claude-key oidc logout`.
import * as z from 'zod';
import { AuthError, defineCommand, type CommandIO } from '@claude-key/core';
import { discover } from './client.js';
import type { OidcDeps } from './deps.js';
import { browserLogin } from './browser-login.js';
import { deviceLogin } from './device-login.js';
import { jwtClaims } from './credential.js';
import { oidcError } from './errors.js';
import { checkIssuerScheme, clientFields, DEFAULT_USER_SCOPE, scopeList, sessionFields } from './options.js';
import type { SignInUi } from './sign-in-ui.js';
import type { SessionKey } from './store/session-store.js';
import { tokenParameters } from './token-parameters.js';

const loginOptions = z
  .object({
    ...sessionFields,
    ...clientFields,
    flow: z
      .enum(['device', 'browser'])
      .default('device')
      .describe('device: show a code to enter on any device (works over SSH); browser: authorization code + PKCE via a loopback redirect'),
    redirectPort: z.number().int().min(0).max(65535).default(0).describe('Loopback port for --flow browser (0: any free port; set it if your IdP registered one)'),
    browser: z.boolean().default(true).describe('Open the sign-in page in a browser when one can be shown (--no-browser to skip)'),
  })
  .superRefine(checkIssuerScheme);

const logoutOptions = z
  .object({
    ...sessionFields,
    ...clientFields,
    revoke: z.boolean().default(true).describe('Also revoke the refresh token at the provider (RFC 7009) when it offers revocation'),
  })
  .superRefine(checkIssuerScheme);

type SessionOptions = z.output<typeof loginOptions> | z.output<typeof logoutOptions>;

function sessionKey(o: SessionOptions): SessionKey {
  return { issuer: o.issuer, clientId: o.clientId, scope: scopeList(o.scope, DEFAULT_USER_SCOPE) };
}

async function connect(o: SessionOptions, io: CommandIO) {
  const secret = o.clientSecret === undefined ? undefined : await io.context.secret(o.clientSecret);
  return discover(o, secret, io.signal);
}

export function oidcCommands(deps: OidcDeps) {
  const storeFor = (o: SessionOptions, io: CommandIO) =>
    deps.openStore(o.storage, io.env, io.context.log);

  const login = defineCommand({
    summary: 'Sign in (device flow, or --flow browser with PKCE) and keep the refresh token (OS keychain, else a 0600 file)',
    options: loginOptions,
    examples: [
      'claude-key oidc login --issuer https://login.example.com --client-id claude-code',
      'claude-key oidc login --issuer https://login.example.com --client-id claude-code --no-browser',
      'claude-key oidc login --issuer https://login.example.com --client-id claude-code --flow browser',
    ],
    async run(o, io) {
      const key = sessionKey(o);
      const { client, config } = await connect(o, io);
      const ui: SignInUi = {
        say: (line) => io.stderr(`${line}\n`),
        openBrowser: o.browser && io.isInteractive ? deps.browserFor(io.env) : undefined,
        signal: io.signal,
      };
      const params = tokenParameters(o, key.scope);
      const response =
        o.flow === 'browser'
          ? await browserLogin(client, config, o.issuer, params, o.redirectPort, ui)
          : await deviceLogin(client, config, o.issuer, params, ui);
      if (!response.refresh_token) {
        throw new AuthError(`${o.issuer} signed you in but issued no refresh token`, {
          hint: 'request the offline_access scope, and check the client may use the refresh_token grant',
        });
      }
      const where = await storeFor(o, io).save(key, response.refresh_token);
      const who = signedInAs(response.id_token);
      io.stderr(`Signed in to ${o.issuer}${who ? ` as ${who}` : ''}; session stored in ${where}\n`);
    },
  });

  const logout = defineCommand({
    summary: 'Forget the stored OIDC session (and revoke its refresh token at the provider)',
    options: logoutOptions,
    examples: ['claude-key oidc logout --issuer https://login.example.com --client-id claude-code'],
    async run(o, io) {
      const key = sessionKey(o);
      const store = storeFor(o, io);
      const refreshToken = await store.load(key);
      if (refreshToken === undefined) {
        io.stderr(`No stored OIDC session for ${o.clientId} at ${o.issuer}\n`);
        return;
      }
      if (o.revoke) await revoke(o, io, refreshToken);
      await store.remove(key);
      io.stderr(`Signed out of ${o.issuer}\n`);
    },
  });

  return { login, logout };
}

/** Best effort: a provider that is down or offers no revocation must not keep the session alive locally. */
async function revoke(o: SessionOptions, io: CommandIO, refreshToken: string): Promise<void> {
  try {
    const { client, config } = await connect(o, io);
    if (!config.serverMetadata().revocation_endpoint) {
      io.stderr(`${o.issuer} offers no revocation endpoint; the refresh token stays valid there until it expires\n`);
      return;
    }
    await client.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
  } catch (err) {
    const line = (oidcError(err, { issuer: o.issuer, action: 'revoke the refresh token' }) as { line?: string }).line;
    io.stderr(`warning: ${line ?? 'revocation failed'}; the local session is removed anyway\n`);
  }
}

function signedInAs(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  const claims = jwtClaims(idToken);
  const name = claims?.email ?? claims?.preferred_username ?? claims?.sub;
  return typeof name === 'string' ? name : undefined;
}
