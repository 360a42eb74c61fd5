// A stand-in for https://oauth2.googleapis.com/token: the JWT-bearer grant for service-account keys
// (access tokens, and ID tokens when the assertion carries target_audience) and the refresh-token
// grant for `gcloud auth application-default login` users, with Google's OAuth error bodies.
import type { KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { listen, sendJson, type RunningServer } from './http.js';
import type { IdTokenIssuer } from './id-token-issuer.js';
import type { TokenLedger } from './token-ledger.js';

/** The audience google-auth-library (and Google's own endpoint) uses for service-account assertions. */
export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface ServiceAccountRecord {
  email: string;
  /** The public half of the key in the service-account key file the test wrote. */
  publicKey: KeyObject;
}

export interface AuthorizedUserRecord {
  email: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface OAuthTokenServerOptions {
  ledger: TokenLedger;
  idTokens: IdTokenIssuer;
  serviceAccounts: ServiceAccountRecord[];
  users?: AuthorizedUserRecord[];
  /** Seconds an access token lives; Google answers 3599. */
  accessTokenLifetime?: number;
}

export interface OAuthTokenServer extends RunningServer {
  /** The last assertion's verified claims, for tests that check what the client signed. */
  lastAssertionClaims?: Record<string, unknown>;
}

export async function startOAuthTokenServer(opts: OAuthTokenServerOptions): Promise<OAuthTokenServer> {
  const lifetime = opts.accessTokenLifetime ?? 3599;
  const server: OAuthTokenServer = await listen(async (req, res, body) => {
    if (req.method !== 'POST' || new URL(req.url!, 'http://x').pathname !== '/token') {
      return sendJson(res, 404, { error: 'not_found', error_description: 'Not Found' });
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'Bad Request' });
    }
    const form = new URLSearchParams(body);
    const grantType = form.get('grant_type');

    if (grantType === 'refresh_token') {
      const user = opts.users?.find((u) => u.clientId === form.get('client_id'));
      if (!user || user.clientSecret !== form.get('client_secret')) {
        return sendJson(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
      }
      if (user.refreshToken !== form.get('refresh_token')) {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      }
      // gcloud's ADC login asks for openid, so Google adds an ID token whose audience is the
      // OAuth client; a target_audience parameter does not change that.
      const scopes = ['openid', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/cloud-platform'];
      return sendJson(res, 200, {
        access_token: opts.ledger.issue(user.email, scopes, lifetime),
        expires_in: lifetime,
        scope: scopes.join(' '),
        token_type: 'Bearer',
        id_token: await opts.idTokens.sign(user.email, user.clientId),
      });
    }

    if (grantType !== JWT_BEARER) {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${grantType ?? ''}` });
    }
    const assertion = form.get('assertion') ?? '';
    const unverified = decodePayload(assertion);
    const account = opts.serviceAccounts.find((sa) => sa.email === unverified?.iss);
    if (!account) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid grant: account not found' });

    let claims: Record<string, unknown>;
    try {
      // RS256 only: an `alg: none` or HS256 assertion must never verify.
      ({ payload: claims } = await jwtVerify(assertion, account.publicKey, {
        algorithms: ['RS256'],
        issuer: account.email,
        audience: GOOGLE_TOKEN_AUDIENCE,
        requiredClaims: ['iat', 'exp'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JOSEAlgNotAllowed) {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      return sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      });
    }
    if ((claims.exp as number) - (claims.iat as number) > 3600) {
      return sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      });
    }
    server.lastAssertionClaims = claims;

    if (typeof claims.target_audience === 'string' && claims.target_audience.length > 0) {
      return sendJson(res, 200, { id_token: await opts.idTokens.sign(account.email, claims.target_audience) });
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (scopes.length === 0) {
      return sendJson(res, 400, { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' });
    }
    return sendJson(res, 200, {
      access_token: opts.ledger.issue(account.email, scopes, lifetime),
      expires_in: lifetime,
      token_type: 'Bearer',
    });
  });
  return server;
}

function decodePayload(jwt: string): Record<string, unknown> | undefined {
  try {
    return decodeJwt(jwt);
  } catch {
    return undefined;
  }
}
