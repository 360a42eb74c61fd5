// Console sessions: a random id in an HttpOnly cookie, kept in the gateway's store so that every
// replica behind a load balancer knows it, and a sign-out on one ends it on all.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import type { Rows } from '../store/console-sql.js';

export interface Session {
  /** The cookie's value: only the browser holds it; the store has its SHA-256. */
  id: string;
  /** Sent back in the X-CSRF-Token header on every change; never in a cookie. */
  csrf: string;
  principal: Principal;
  /** The session's absolute limit (console.sessionMinutes after sign-in). */
  expiresAt: number;
}

export const COOKIE = 'ckg_console';
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/**
 * The idle deadline moves forward on use, but a write on every call would make each page load a
 * handful of writes; moving it only when it has aged this much keeps idle expiry exact to a minute.
 */
const TOUCH_AFTER_MS = 60_000;

/**
 * The store keeps the id's SHA-256, never the id: someone who reads the table (a backup, a replica
 * of the database) cannot present any of its sessions. The id is 256 random bits, so a fast hash
 * is enough; there is nothing to guess that a slow one would protect.
 */
export const hashSessionId = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * The CSRF token is derived from the session id rather than stored: any replica that is shown the
 * cookie computes the same token, and the token (which the page's script can read) reveals nothing
 * of the HttpOnly id it is derived from.
 */
export const csrfFor = (id: string) => createHmac('sha256', id).update('claude-key console csrf').digest('base64url');

export class Sessions {
  constructor(
    private readonly rows: Rows,
    private readonly now: () => number,
    private readonly maxAgeMs: number,
    private readonly idleMs: number,
  ) {}

  async open(principal: Principal): Promise<Session> {
    await this.sweep();
    const now = this.now();
    const id = randomBytes(32).toString('base64url');
    const expiresAt = now + this.maxAgeMs;
    await this.rows(
      `INSERT INTO console_sessions (id_hash, principal, created_at, idle_expires_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [hashSessionId(id), JSON.stringify(principal), now, Math.min(now + this.idleMs, expiresAt), expiresAt],
    );
    return { id, csrf: csrfFor(id), principal, expiresAt };
  }

  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id || !ID_PATTERN.test(id)) return undefined;
    const hash = hashSessionId(id);
    // Looked up by its hash: an index's comparison times reveal how much of a SHA-256 matched,
    // which tells nothing about an id. The CSRF token is compared in constant time (sameToken).
    const row = (await this.rows<{ principal: string; idle_expires_at: string | number; expires_at: string | number }>(
      `SELECT principal, idle_expires_at, expires_at FROM console_sessions WHERE id_hash = $1`,
      [hash],
    ))[0];
    if (!row) return undefined;
    const now = this.now();
    const expiresAt = Number(row.expires_at);
    const idleUntil = Number(row.idle_expires_at);
    if (now >= expiresAt || now >= idleUntil) {
      await this.close(id);
      return undefined;
    }
    const next = Math.min(now + this.idleMs, expiresAt);
    if (next - idleUntil >= TOUCH_AFTER_MS) {
      // Never moves the deadline back, whichever replica's update lands last.
      await this.rows(`UPDATE console_sessions SET idle_expires_at = $2 WHERE id_hash = $1 AND idle_expires_at < $2`, [hash, next]);
    }
    return { id, csrf: csrfFor(id), principal: JSON.parse(row.principal) as Principal, expiresAt };
  }

  async close(id: string): Promise<void> {
    await this.rows(`DELETE FROM console_sessions WHERE id_hash = $1`, [hashSessionId(id)]);
  }

  /** Expired sessions, whichever replica opened them: removed at each sign-in, so the table holds live ones and a few stale. */
  private async sweep(): Promise<void> {
    const now = this.now();
    await this.rows(`DELETE FROM console_sessions WHERE expires_at <= $1 OR idle_expires_at <= $1`, [now]);
  }
}

/** Constant-time comparison of two tokens of any length. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
