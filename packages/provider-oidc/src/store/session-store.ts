// Where a login's refresh token is kept between runs, and the key that names one session.
import { createHash } from 'node:crypto';

/** One stored login: a refresh token belongs to one issuer, one client and one scope set. */
export interface SessionKey {
  issuer: string;
  clientId: string;
  scope: readonly string[];
}

export interface SessionStore {
  load(key: SessionKey): Promise<string | undefined>;
  /** Stores (or replaces) the refresh token; returns where it went, for messages (never the token). */
  save(key: SessionKey, refreshToken: string): Promise<string>;
  /** Returns false when nothing was stored. */
  remove(key: SessionKey): Promise<boolean>;
}

/** The human-readable name of a session, used as the keychain account. */
export function sessionLabel(key: SessionKey): string {
  return `${key.clientId}@${key.issuer} (${[...key.scope].sort().join(' ')})`;
}

/** A stable, file-name-safe id: scope order does not matter, anything else does. */
export function sessionId(key: SessionKey): string {
  const canonical = JSON.stringify([key.issuer, key.clientId, [...key.scope].sort()]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
