// Console sessions: a random id in an HttpOnly cookie, the admin identity it was opened for, and its CSRF token.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.js';

export interface Session {
  id: string;
  /** Sent back in the X-CSRF-Token header on every change; never in a cookie. */
  csrf: string;
  principal: Principal;
  /** The admin's credential stops being valid then (a token's exp), or the session's own limit. */
  expiresAt: number;
  lastSeen: number;
}

export const COOKIE = 'ckg_console';

/**
 * In this process's memory: a replica that restarts (or another replica behind a non-sticky load
 * balancer) asks the admin to sign in again, which costs a paste and leaks nothing.
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly now: () => number,
    private readonly maxAgeMs: number,
    private readonly idleMs: number,
  ) {}

  open(principal: Principal): Session {
    this.sweep();
    const now = this.now();
    const session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      principal,
      expiresAt: now + this.maxAgeMs,
      lastSeen: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    const now = this.now();
    if (!s) return undefined;
    if (now >= s.expiresAt || now - s.lastSeen >= this.idleMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session of an identity (its credential was revoked). */
  closeWhere(test: (p: Principal) => boolean): void {
    for (const [id, s] of this.sessions) if (test(s.principal)) this.sessions.delete(id);
  }

  private sweep() {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now >= s.expiresAt || now - s.lastSeen >= this.idleMs) this.sessions.delete(id);
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
