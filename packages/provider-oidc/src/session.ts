// The `refresh` grant: the stored login's refresh token buys a fresh token; rotation is saved first.
import { AuthError, type Credential, type ProviderContext } from '@claude-key/core';
import { discover } from './client.js';
import { credentialFrom, type TokenResponse } from './credential.js';
import type { OidcDeps } from './deps.js';
import { deviceLogin } from './device-login.js';
import { isInvalidGrant, oidcError } from './errors.js';
import { loginCommandLine } from './login-hint.js';
import { DEFAULT_USER_SCOPE, scopeList, type FetchOptions } from './options.js';
import type { SessionKey, SessionStore } from './store/session-store.js';
import { tokenParameters } from './token-parameters.js';

export async function fetchWithSession(o: FetchOptions, ctx: ProviderContext, deps: OidcDeps): Promise<Credential> {
  const key: SessionKey = { issuer: o.issuer, clientId: o.clientId, scope: scopeList(o.scope, DEFAULT_USER_SCOPE) };
  const store = deps.openStore(o.storage, ctx.env, ctx.log);
  ctx.signal.throwIfAborted();
  // Read the store before any network call: without a session a non-interactive run fails at once.
  let refreshToken = await store.load(key);
  if (refreshToken === undefined) return signInOrFail(o, ctx, deps, store, key, '');

  const secret = o.clientSecret === undefined ? undefined : await ctx.secret(o.clientSecret);
  const { client, config } = await discover(o, secret, ctx.signal);
  const params = tokenParameters(o);
  for (let attempt = 0; ; attempt++) {
    const requestedAt = ctx.now();
    let response: TokenResponse;
    try {
      response = await client.refreshTokenGrant(config, refreshToken, params);
    } catch (err) {
      if (!isInvalidGrant(err)) throw oidcError(err, { issuer: o.issuer, action: 'refresh the session' });
      // Another claude-key process may have rotated the token since we read it: use the new one.
      const current = await store.load(key);
      if (attempt === 0 && current !== undefined && current !== refreshToken) {
        refreshToken = current;
        continue;
      }
      await store.remove(key);
      return signInOrFail(o, ctx, deps, store, key, ' (the stored session expired or was revoked)');
    }
    // Save a rotated token before handing anything out: the old one is now dead at the provider.
    const rotated = response.refresh_token !== undefined && response.refresh_token !== refreshToken;
    if (rotated) await store.save(key, response.refresh_token!);
    return credentialFrom(response, { idToken: o.idToken, issuer: o.issuer, requestedAt, meta: { grant: 'refresh_token', rotated } });
  }
}

/**
 * No usable session. Claude Code runs the helper without a terminal, so waiting for a browser
 * there would hang it: fail with the login line. A person at a terminal gets the device flow.
 */
async function signInOrFail(
  o: FetchOptions,
  ctx: ProviderContext,
  deps: OidcDeps,
  store: SessionStore,
  key: SessionKey,
  why: string,
): Promise<Credential> {
  if (!deps.isInteractive()) {
    throw new AuthError(`no valid OIDC session for ${o.issuer}${why}`, { hint: `run: ${loginCommandLine(o)}` });
  }
  const secret = o.clientSecret === undefined ? undefined : await ctx.secret(o.clientSecret);
  const { client, config } = await discover(o, secret, ctx.signal);
  const requestedAt = ctx.now();
  const response = await deviceLogin(client, config, o.issuer, tokenParameters(o, key.scope), {
    say: (line) => ctx.log.warn(line),
    openBrowser: deps.browserFor(ctx.env),
    signal: ctx.signal,
  });
  if (response.refresh_token) await store.save(key, response.refresh_token);
  else ctx.log.warn(`${o.issuer} issued no refresh token, so the next run signs in again; request the offline_access scope`);
  return credentialFrom(response, { idToken: o.idToken, issuer: o.issuer, requestedAt, meta: { grant: 'device_code' } });
}
