// A real OpenID Provider (oidc-provider) on loopback for console logins: one public client, its own login and consent pages.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider ships no type declarations
import Provider from 'oidc-provider';

export const CONSOLE_CLIENT_ID = 'gateway-console';

/** Accounts are their login name; `root` is in the gateway-admins group, everyone else in none. */
export async function startConsoleOp(): Promise<{ issuer: string; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...key, kid: 'op-es256', alg: 'ES256', use: 'sig' }] },
    cookies: { keys: ['console-op-cookie-key'] },
    clients: [
      {
        client_id: CONSOLE_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // RFC 8252 7.3: on loopback any port of this redirect is accepted, so the gateway may listen anywhere.
        redirect_uris: ['http://127.0.0.1/console/api/login/callback'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    claims: { openid: ['sub', 'team', 'groups'] },
    conformIdTokenClaims: false,
    ttl: { AuthorizationCode: () => 60, Interaction: () => 600, Session: () => 600, Grant: () => 600, AccessToken: () => 600, IdToken: () => 600 },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, team: 'ops', groups: id === 'root' ? ['gateway-admins'] : [] }),
    }),
  });
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
