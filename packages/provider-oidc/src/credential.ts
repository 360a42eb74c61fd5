// Turns a token endpoint response into the Credential the helper prints (access or ID token, expiry).
import { decodeJwt } from 'jose';
import { AuthError, type Credential } from '@claude-key/core';

/** The fields of an OAuth token response this package reads (RFC 6749 5.1, OIDC Core 3.1.3.3). */
export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

export interface CredentialChoice {
  idToken: boolean;
  issuer: string;
  /** ctx.now() when the request was sent: expires_in counts from then. */
  requestedAt: number;
  meta?: Credential['meta'];
}

export function credentialFrom(response: TokenResponse, choice: CredentialChoice): Credential {
  const meta = { ...choice.meta, ...(response.scope ? { scope: response.scope } : {}) };
  if (choice.idToken) {
    if (!response.id_token) {
      throw new AuthError(`the OpenID Provider ${choice.issuer} returned no ID token`, {
        hint: 'request the openid scope (--scope openid), or drop --id-token',
      });
    }
    return { token: response.id_token, expiresAt: jwtExpiry(response.id_token), meta: { ...meta, type: 'id_token' } };
  }
  if (!response.access_token) {
    throw new AuthError(`the OpenID Provider ${choice.issuer} returned no access token`);
  }
  // expires_in (RFC 6749) is authoritative; a JWT access token's own exp is the fallback.
  const expiresAt =
    typeof response.expires_in === 'number' && response.expires_in > 0
      ? choice.requestedAt + response.expires_in * 1000
      : jwtExpiry(response.access_token);
  return { token: response.access_token, expiresAt, meta: { ...meta, type: 'access_token' } };
}

/** `exp` of a JWT in ms, or undefined for opaque tokens and JWTs without exp. */
export function jwtExpiry(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

/** The unverified claims of a JWT (for display and expiry only), or undefined for opaque tokens. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}
