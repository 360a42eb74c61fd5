// Builds the JWT claims: identity flags, repeatable --claim k=v, and the registered time claims.
import { randomUUID } from 'node:crypto';
import { UsageError } from '@claude-key/core';

/** RFC 7519 registered claims: only their own flags (or the clock) may set them. */
const REGISTERED: Record<string, string> = {
  iss: '--iss',
  sub: '--sub',
  aud: '--aud',
  exp: '--max-lifetime',
  nbf: 'the clock',
  iat: 'the clock',
  jti: 'a fresh UUID per token',
};

/** `k=v` pairs; a value that parses as JSON keeps its type (`n=3`, `admin=true`, `r=["a"]`). */
export function parseClaimFlags(pairs: readonly string[], teamFlagSet: boolean): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq) : '';
    if (!name) throw new UsageError(`--claim "${pair}" is not k=v`, { hint: 'write e.g. --claim role=dev' });
    if (name in REGISTERED) throw new UsageError(`--claim ${name} would override a registered claim`, { hint: `it is set by ${REGISTERED[name]}` });
    if (name === 'team' && teamFlagSet) throw new UsageError('--claim team conflicts with --team', { hint: 'use one of them' });
    if (name in claims) throw new UsageError(`--claim ${name} is given twice`);
    claims[name] = parseValue(pair.slice(eq + 1));
  }
  return claims;
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface ClaimInput {
  iss: string;
  sub: string;
  aud?: string;
  team?: string;
  extra: Record<string, unknown>;
  /** Seconds since the epoch. */
  iat: number;
  nbf: number;
  exp: number;
}

/** The payload; registered claims are written last so nothing can shadow them. */
export function buildPayload(input: ClaimInput): Record<string, unknown> {
  return {
    ...input.extra,
    ...(input.team === undefined ? {} : { team: input.team }),
    iss: input.iss,
    sub: input.sub,
    ...(input.aud === undefined ? {} : { aud: input.aud }),
    iat: input.iat,
    nbf: input.nbf,
    exp: input.exp,
    jti: randomUUID(),
  };
}
