// Reads what a Google token says about itself: expiry_date for access tokens, `exp`/`aud` for ID tokens.

interface JwtClaims {
  exp?: number;
  aud?: string | string[];
}

/** The unverified claims of a JWT (the receiver verifies it; we only read dates and audience). */
export function jwtClaims(jwt: string): JwtClaims {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims: JwtClaims = {};
    if (typeof payload.exp === 'number' && Number.isFinite(payload.exp)) claims.exp = payload.exp;
    if (typeof payload.aud === 'string' || Array.isArray(payload.aud)) claims.aud = payload.aud as string | string[];
    return claims;
  } catch {
    return {};
  }
}

/** The `exp` of a JWT in ms since the epoch, if it has one. */
export function jwtExpiry(jwt: string): number | undefined {
  const { exp } = jwtClaims(jwt);
  return exp === undefined ? undefined : exp * 1000;
}

/** An expiry only if it is a real future time; anything else leaves the engine's max-age in charge. */
export function futureOrUndefined(expiresAt: number | null | undefined, now: number): number | undefined {
  return typeof expiresAt === 'number' && Number.isFinite(expiresAt) && expiresAt > now ? expiresAt : undefined;
}
