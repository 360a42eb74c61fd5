// What a request refused at authentication presented, as far as it can be told without trusting it.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { asKnownError } from '../errors.js';
import { tokenIn, type CredentialHeader, type HeaderValues } from './authenticate.js';
import { looksLikeJwt } from './jwt.js';

/**
 * Recorded with a refused request (usage row and audit entry) instead of a user: the credential
 * was not accepted, so nothing in it is an identity. `claimed` is what an unverified JWT says of
 * itself (anyone can write any `sub` into a token), kept apart from `user`, which spend, budgets
 * and limits count; the token itself, and anything from an API key, is never kept.
 */
export interface Refusal {
  /** Where the credential was: `bearer` (Authorization), `proxy-bearer` (Proxy-Authorization), `x-api-key`, or `none`. */
  credential: 'bearer' | 'proxy-bearer' | 'x-api-key' | 'none';
  /** From a JWT's header and payload, decoded without verification: claimed, not established. */
  claimed?: { issuer?: string; keyId?: string; subject?: string };
  /** Why it was refused: the message the client was answered with. */
  reason: string;
}

const KIND: Record<CredentialHeader, Refusal['credential']> = { authorization: 'bearer', 'proxy-authorization': 'proxy-bearer', 'x-api-key': 'x-api-key' };
/** Enough for any real issuer URL, key id or subject; a claim is a caller's text, so its size is capped. */
const MAX_CLAIM = 128;
const MAX_REASON = 200;

/**
 * A caller's text made safe to store and show: no control, format (bidi overrides, zero-width),
 * private-use or unassigned characters, at most `max` code points.
 */
export function cleanClaim(value: unknown, max = MAX_CLAIM): string | undefined {
  if (typeof value !== 'string') return undefined;
  const chars = [...value.replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu, '')];
  if (!chars.length) return undefined;
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

/** Never throws: a refusal is recorded whatever the caller sent. */
export function describeRefusal(headers: HeaderValues, names: readonly CredentialHeader[], err: unknown): Refusal {
  const known = asKnownError(err);
  const reason = (known && known.status < 500 ? cleanClaim(known.message, MAX_REASON) : undefined) ?? 'internal error';
  for (const name of names) {
    const raw = headers[name];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!value) continue;
    const token = tokenIn(name, value);
    const refusal: Refusal = { credential: KIND[name], reason };
    if (token && looksLikeJwt(token)) {
      const claimed = claimsOf(token);
      if (claimed) refusal.claimed = claimed;
    }
    return refusal;
  }
  return { credential: 'none', reason };
}

function claimsOf(token: string): Refusal['claimed'] | undefined {
  const claimed: NonNullable<Refusal['claimed']> = {};
  try {
    const header = decodeProtectedHeader(token);
    const keyId = cleanClaim(header.kid);
    if (keyId) claimed.keyId = keyId;
  } catch {
    // not a JWT header: nothing claimed
  }
  try {
    const payload = decodeJwt(token);
    const issuer = cleanClaim(payload.iss);
    const subject = cleanClaim(payload.sub);
    if (issuer) claimed.issuer = issuer;
    if (subject) claimed.subject = subject;
  } catch {
    // not a JWT payload: nothing claimed
  }
  return Object.keys(claimed).length ? claimed : undefined;
}
