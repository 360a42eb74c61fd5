// Cache entries and the rules that decide whether one may be served. Pure functions over an injected "now".
import { createHash } from 'node:crypto';

/** 2: keyed by resolved identity (env values are part of the key, no longer of the entry). */
export const ENTRY_VERSION = 2;

export interface CacheEntry {
  v: typeof ENTRY_VERSION;
  /** The key this entry was written under; a file renamed or copied in from elsewhere is ignored. */
  key: string;
  kind: 'token' | 'value';
  provider: string;
  profile?: string;
  fetchedAt: number;
  /** Known expiry of the token (ms since epoch), or null when the provider did not say. */
  expiresAt: number | null;
  /** How long a token without known expiry is reused. */
  maxAgeMs: number;
  /** The secret, or null when it lives in a TokenStore (`store`). */
  token: string | null;
  store: string;
  tokenHash: string;
  meta?: Record<string, string | number | boolean>;
  /** Hashes of tokens the gateway refused (HTTP 401); never handed out again. */
  refused: string[];
}

/** Engine settings that decide servability; all in milliseconds. */
export interface Timing {
  /** Claude Code's reuse window (CLAUDE_CODE_API_KEY_HELPER_TTL_MS); 0 when unknown. */
  ttlMs: number;
  graceMs: number;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted object keys, so equal option sets hash equally whatever their order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

export function hashKey(material: unknown): string {
  return sha256(stableStringify(material)).slice(0, 40);
}

/** When the entry stops being usable at all (its real expiry, or the end of its max-age). */
export function endOfLife(entry: CacheEntry): number {
  return entry.expiresAt ?? entry.fetchedAt + entry.maxAgeMs;
}

/**
 * May this entry be handed to Claude Code now? A printed token is used for the TTL and then once
 * more while Claude Code re-runs the helper in the background, so it must stay valid for
 * TTL + grace. A token without known expiry is reused for its max-age.
 */
export function isServable(entry: CacheEntry, now: number, timing: Timing): boolean {
  if (entry.refused.includes(entry.tokenHash)) return false;
  if (entry.expiresAt === null) return now >= entry.fetchedAt && now < entry.fetchedAt + entry.maxAgeMs;
  return entry.expiresAt - now >= timing.ttlMs + timing.graceMs;
}

/**
 * Stale-if-error: when the provider cannot be reached, a token that is still valid (even if for
 * less than TTL + grace) beats no token. Without a known expiry we allow `staleMs` past max-age,
 * because such tokens are typically long-lived static keys.
 */
export function isUsableWhenProviderDown(entry: CacheEntry, now: number, staleMs: number): boolean {
  if (entry.refused.includes(entry.tokenHash)) return false;
  if (entry.expiresAt === null) return now < entry.fetchedAt + entry.maxAgeMs + staleMs;
  return entry.expiresAt > now;
}

/** Hand-written shape check (no schema library on the warm path). Anything off means "no entry". */
export function parseEntry(text: string, key: string): CacheEntry | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const e = data as Record<string, unknown>;
  const ok =
    e.v === ENTRY_VERSION &&
    e.key === key &&
    (e.kind === 'token' || e.kind === 'value') &&
    typeof e.provider === 'string' &&
    typeof e.fetchedAt === 'number' &&
    (e.expiresAt === null || typeof e.expiresAt === 'number') &&
    typeof e.maxAgeMs === 'number' &&
    (e.token === null || (typeof e.token === 'string' && e.token.length > 0)) &&
    typeof e.store === 'string' &&
    typeof e.tokenHash === 'string' &&
    Array.isArray(e.refused) &&
    e.refused.every((n) => typeof n === 'string');
  if (!ok) return undefined;
  if (e.token !== null && sha256(e.token as string) !== e.tokenHash) return undefined;
  return data as CacheEntry;
}
