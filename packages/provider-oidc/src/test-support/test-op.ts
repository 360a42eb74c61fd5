// A real OpenID Provider (the oidc-provider package) on loopback, configured like a company IdP.
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider ships no type declarations
import Provider, { errors } from 'oidc-provider';
import { createMemoryAdapter } from './memory-adapter.js';

export const DEVICE_CLIENT_ID = 'claude-code';
export const SERVICE_CLIENT_ID = 'ci-bot';
export const SERVICE_CLIENT_SECRET = 'ci-bot-secret-4f1c9e0a7b2d';
export const GATEWAY_RESOURCE = 'https://gateway.example.com';

export interface TestOp {
  issuer: string;
  /** Ages every refresh token past its expiry (the OP then answers invalid_grant). */
  expireRefreshTokens(): void;
  /** Revokes a token through the OP's own RFC 7009 endpoint, as an admin or the user would. */
  revoke(token: string): Promise<void>;
  /** Calls the token endpoint directly with a refresh token, to see what the OP thinks of it. */
  refreshDirectly(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startTestOp(opts: { accessTokenTtl?: number } = {}): Promise<TestOp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const adapter = createMemoryAdapter();
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    adapter: adapter.MemoryAdapter,
    jwks: { keys: [{ ...signingKey, kid: 'test-es256', alg: 'ES256', use: 'sig' }] },
    cookies: { keys: ['test-cookie-signing-key'] },
    clients: [
      {
        client_id: DEVICE_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        // RFC 8252 7.3: for a native client any port on this loopback redirect is accepted.
        redirect_uris: ['http://127.0.0.1/callback'],
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: SERVICE_CLIENT_ID,
        client_secret: SERVICE_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'chat',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No resource asked for: the token is for the OP's own userinfo, as with most IdPs.
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== GATEWAY_RESOURCE) throw new errors.InvalidTarget();
          return { scope: 'chat', audience: 'claude-gateway', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    scopes: ['openid', 'offline_access', 'chat'],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Every refresh hands out a new refresh token and consumes the old one (reuse revokes the grant).
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: () => opts.accessTokenTtl ?? 600,
      ClientCredentials: () => opts.accessTokenTtl ?? 600,
      IdToken: () => 600,
      RefreshToken: () => 3600,
      DeviceCode: () => 600,
      Grant: () => 3600,
      Interaction: () => 600,
      Session: () => 3600,
    },
  });

  // RFC 8628 lets the server pick the polling interval (3.2 "interval"); oidc-provider leaves it
  // out, which means 5 s. One second keeps each test login short without changing the protocol.
  provider.use(async (ctx: { path: string; status: number; body: unknown }, next: () => Promise<void>) => {
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = { ...(ctx.body as object), interval: 1 };
    }
  });
  server.on('request', provider.callback());

  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

  return {
    issuer,
    expireRefreshTokens: adapter.expireRefreshTokens,
    async revoke(token) {
      const res = await fetch(`${issuer}/token/revocation`, form({ token, token_type_hint: 'refresh_token', client_id: DEVICE_CLIENT_ID }));
      if (res.status !== 200) throw new Error(`revocation answered ${res.status}`);
    },
    async refreshDirectly(refreshToken) {
      const res = await fetch(`${issuer}/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: DEVICE_CLIENT_ID }));
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
