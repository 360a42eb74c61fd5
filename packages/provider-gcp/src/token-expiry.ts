// Reads when a Google token stops working: expiry_date for access tokens, the `exp` claim for ID tokens.

/** The `exp` of a JWT in ms, without verifying it (the receiver verifies; we only need the date). */
export function jwtExpiry(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** An expiry only if it is a real future time; anything else leaves the engine's max-age in charge. */
export function futureOrUndefined(expiresAt: number | null | undefined, now: number): number | undefined {
  return typeof expiresAt === 'number' && Number.isFinite(expiresAt) && expiresAt > now ? expiresAt : undefined;
}
