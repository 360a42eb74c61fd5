// How long a minted token lives: long enough for Claude Code's TTL plus the stale-while-revalidate grace, never past the cap.

export interface LifetimeInput {
  /** Claude Code's reuse window; 0 when unknown (then the token is reused for the whole session). */
  ttlMs: number;
  graceMs: number;
  /** Clock difference tolerated between this machine and the gateway. */
  skewMs: number;
  minLifetimeMs: number;
  maxLifetimeMs: number;
}

export interface Lifetime {
  ms: number;
  /** True when the cap cut the lifetime below TTL + grace: Claude Code may send an expired token. */
  capped: boolean;
}

export function tokenLifetime(input: LifetimeInput): Lifetime {
  // Without a TTL Claude Code keeps the value until a 401, so live as long as allowed.
  if (input.ttlMs <= 0) return { ms: input.maxLifetimeMs, capped: false };
  const needed = input.ttlMs + input.graceMs + input.skewMs;
  const wanted = Math.max(needed, input.minLifetimeMs);
  return wanted > input.maxLifetimeMs ? { ms: input.maxLifetimeMs, capped: needed > input.maxLifetimeMs } : { ms: wanted, capped: false };
}
