// Enrolled per-user keys and revocations: kept in the store, held in memory, reloaded on every change.
//
// Every replica holds the same view: a change is committed together with its audit record and a
// PostgreSQL NOTIFY; each replica LISTENs and reloads at once, and also reloads every
// `auth.trustPollMs` in case a notification was lost (a dropped LISTEN connection).
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { invalidRequest, GatewayError } from '../errors.js';
import type { StoreKind } from '../store/sql.js';

export const TRUST_CHANNEL = 'claude_key_gateway_trust';

export type RevocationKind = 'jti' | 'subject' | 'key' | 'api-key';
export const REVOCATION_KINDS: readonly RevocationKind[] = ['jti', 'subject', 'key', 'api-key'];

/** The store calls the registry needs; both Store (CLI) and RemoteStore (gateway) provide them. */
export interface TrustDb {
  readonly kind: StoreKind;
  rows<T>(sql: string, params?: unknown[]): Promise<T[]>;
  applyTrustChange(statements: readonly { sql: string; params?: unknown[] }[], audit: Record<string, unknown>, notify?: string): Promise<void>;
}

export interface EnrolledKey {
  kid: string;
  jwk: JWK;
  user: string;
  teams: string[];
  status: 'pending' | 'active' | 'revoked';
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
}

export interface Revocation {
  kind: RevocationKind;
  value: string;
  reason: string | null;
  revokedBy: string;
  createdAt: string;
}

interface KeyRow {
  kid: string;
  jwk: string;
  user_id: string;
  teams: string;
  status: EnrolledKey['status'];
  created_at: string | Date;
  expires_at: string | Date;
  decided_by: string | null;
}

const iso = (v: string | Date) => new Date(v).toISOString();
const toKey = (r: KeyRow): EnrolledKey => ({
  kid: r.kid,
  jwk: JSON.parse(r.jwk) as JWK,
  user: r.user_id,
  teams: JSON.parse(r.teams) as string[],
  status: r.status,
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
  decidedBy: r.decided_by,
});

/** The value a subject revocation is stored under: the identity, never the subject alone. */
export const subjectKey = (source: string, subject: string) => `${source} ${subject}`;

const PUBLIC_MEMBERS: Record<string, string[]> = { EC: ['kty', 'crv', 'x', 'y'], OKP: ['kty', 'crv', 'x'], RSA: ['kty', 'n', 'e'] };
const ALGORITHM: Record<string, string> = { 'EC P-256': 'ES256', 'OKP Ed25519': 'EdDSA', RSA: 'RS256' };

/** The public members of a JWK (a private `d` is refused, not dropped), and the one algorithm its type allows. */
export function publicJwk(input: unknown): { jwk: JWK; alg: string } {
  if (!input || typeof input !== 'object') throw invalidRequest('jwk must be a public JWK object.');
  const jwk = input as Record<string, unknown>;
  if ('d' in jwk) throw invalidRequest('jwk holds a private key; send only the public key.');
  const members = PUBLIC_MEMBERS[String(jwk.kty)];
  const alg = ALGORITHM[jwk.kty === 'RSA' ? 'RSA' : `${String(jwk.kty)} ${String(jwk.crv)}`];
  if (!members || !alg) throw invalidRequest('jwk must be an ES256 (P-256), EdDSA (Ed25519) or RS256 public key.');
  const out: Record<string, unknown> = {};
  for (const m of members) {
    if (typeof jwk[m] !== 'string') throw invalidRequest(`jwk is missing "${m}".`);
    out[m] = jwk[m];
  }
  if (alg === 'RS256' && Buffer.from(String(out.n), 'base64url').length < 256) throw invalidRequest('RSA keys need at least 2048 bits.');
  return { jwk: out as JWK, alg };
}

export class TrustRegistry {
  private keys = new Map<string, { entry: EnrolledKey; key: CryptoKey | KeyObject | Uint8Array; expiresMs: number }>();
  private revoked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private listener: { end(): Promise<void> } | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    readonly db: TrustDb,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** An active, unexpired enrolled key by kid, with its imported public key. */
  activeKey(kid: string | undefined) {
    const found = kid === undefined ? undefined : this.keys.get(kid);
    if (!found || found.expiresMs <= this.now() || this.revoked.has(`key:${kid}`)) return undefined;
    return found;
  }

  isRevoked(kind: RevocationKind, value: string): boolean {
    return this.revoked.has(`${kind}:${value}`);
  }

  /** Reads both tables again; concurrent calls share one read, and a call during a read causes one more. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = this.read().finally(() => {
      this.reloading = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.reload().catch((err: Error) => this.onError(err));
      }
    });
    return this.reloading;
  }

  private async read(): Promise<void> {
    const [keyRows, revocations] = await Promise.all([
      this.db.rows<KeyRow>(`SELECT * FROM enrolled_keys WHERE status = 'active'`),
      this.db.rows<{ kind: string; value: string }>(`SELECT kind, value FROM revocations`),
    ]);
    const keys = new Map<string, { entry: EnrolledKey; key: CryptoKey | KeyObject | Uint8Array; expiresMs: number }>();
    for (const row of keyRows) {
      const entry = toKey(row);
      const previous = this.keys.get(entry.kid);
      try {
        const key = previous?.key ?? (await importJWK(entry.jwk, publicJwk(entry.jwk).alg));
        keys.set(entry.kid, { entry, key, expiresMs: Date.parse(entry.expiresAt) });
      } catch (err) {
        this.onError(new Error(`enrolled key ${entry.kid} cannot be used: ${(err as Error).message}`));
      }
    }
    this.keys = keys;
    this.revoked = new Set(revocations.map((r) => `${r.kind}:${r.value}`));
  }

  /** Loads now, then follows changes: LISTEN on PostgreSQL (when `listenUrl` is given) and a poll. */
  async start(opts: { pollMs: number; listenUrl?: string | undefined }): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch((err: Error) => this.onError(err)), opts.pollMs);
    this.timer.unref();
    if (opts.listenUrl) await this.listen(opts.listenUrl);
  }

  private async listen(url: string): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    const retry = () => {
      if (this.stopped) return;
      this.listener = undefined;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      // Until the LISTEN is back, the poll keeps replicas in step.
      setTimeout(() => void this.listen(url).catch((err: Error) => this.onError(err)), 1_000).unref();
    };
    client.on('notification', () => void this.reload().catch((err: Error) => this.onError(err)));
    client.on('error', (err) => {
      this.onError(err);
      retry();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${TRUST_CHANNEL}`);
    } catch (err) {
      this.onError(err as Error);
      return retry();
    }
    this.listener = client;
    // A change made while the listener was down is picked up now rather than at the next poll.
    await this.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
  }
}

// ---- Changes: each one a transaction with its audit record, then a notification. ----

export interface Actor {
  /** Who made the change: an admin identity (`source subject`), `cli:<os user>`, or `enrollment`. */
  by: string;
  now: number;
}

const event = (actor: Actor, action: string, details: Record<string, unknown>) => ({
  time: new Date(actor.now).toISOString(),
  event: action,
  by: actor.by,
  ...details,
});

/** Registers a public key for a user as pending; the kid is its thumbprint. Re-enrolling a pending key updates it. */
export async function enrollKey(
  db: TrustDb,
  actor: Actor,
  req: { jwk: unknown; user: string; teams: string[]; lifetimeDays: number; maxPending: number },
): Promise<EnrolledKey> {
  const { jwk } = publicJwk(req.jwk);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const existing = (await db.rows<KeyRow>(`SELECT * FROM enrolled_keys WHERE kid = $1`, [kid]))[0];
  if (existing && existing.status !== 'pending') {
    throw new GatewayError(409, 'invalid_request_error', `Key ${kid} is already ${existing.status}; generate a new key to enroll again.`);
  }
  if (!existing) {
    const [{ n }] = await db.rows<{ n: string }>(`SELECT count(*) AS n FROM enrolled_keys WHERE status = 'pending'`) as [{ n: string }];
    if (Number(n) >= req.maxPending) throw new GatewayError(503, 'overloaded_error', 'Too many enrollments are waiting for approval; try again later.');
  }
  const expiresAt = new Date(actor.now + req.lifetimeDays * 86_400_000).toISOString();
  const createdAt = new Date(actor.now).toISOString();
  await db.applyTrustChange(
    [
      {
        sql: `INSERT INTO enrolled_keys (kid, jwk, user_id, teams, status, created_at, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6)
              ON CONFLICT (kid) DO UPDATE SET user_id = EXCLUDED.user_id, teams = EXCLUDED.teams, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
              WHERE enrolled_keys.status = 'pending'`,
        params: [kid, JSON.stringify(jwk), req.user, JSON.stringify(req.teams), createdAt, expiresAt],
      },
    ],
    event(actor, 'key.enroll', { kid, user: req.user, teams: req.teams }),
    TRUST_CHANNEL,
  );
  return { kid, jwk, user: req.user, teams: req.teams, status: 'pending', createdAt, expiresAt, decidedBy: null };
}

/**
 * Approves a pending key (optionally overriding user and teams: the admin decides, not the
 * requester) for `lifetimeDays` from now, or revokes a key in any state.
 */
export async function decideKey(
  db: TrustDb,
  actor: Actor,
  kid: string,
  decision: 'approve' | 'revoke',
  opts: { lifetimeDays: number; user?: string | undefined; teams?: string[] | undefined; reason?: string | undefined },
): Promise<EnrolledKey> {
  const row = (await db.rows<KeyRow>(`SELECT * FROM enrolled_keys WHERE kid = $1`, [kid]))[0];
  if (!row) throw new GatewayError(404, 'not_found_error', `No enrolled key ${kid}.`);
  const key = toKey(row);
  const at = new Date(actor.now).toISOString();
  if (decision === 'approve') {
    if (key.status !== 'pending') throw new GatewayError(409, 'invalid_request_error', `Key ${kid} is ${key.status}, not pending.`);
    const user = opts.user ?? key.user;
    const teams = opts.teams ?? key.teams;
    const expiresAt = new Date(actor.now + opts.lifetimeDays * 86_400_000).toISOString();
    await db.applyTrustChange(
      [
        {
          sql: `UPDATE enrolled_keys SET status = 'active', user_id = $2, teams = $3, expires_at = $4, decided_by = $5, decided_at = $6 WHERE kid = $1 AND status = 'pending'`,
          params: [kid, user, JSON.stringify(teams), expiresAt, actor.by, at],
        },
      ],
      event(actor, 'key.approve', { kid, user, teams, expiresAt }),
      TRUST_CHANNEL,
    );
    return { ...key, user, teams, expiresAt, status: 'active', decidedBy: actor.by };
  }
  await db.applyTrustChange(
    [
      { sql: `UPDATE enrolled_keys SET status = 'revoked', decided_by = $2, decided_at = $3 WHERE kid = $1`, params: [kid, actor.by, at] },
      revocationInsert('key', kid, actor, opts.reason),
    ],
    event(actor, 'key.revoke', { kid, user: key.user, reason: opts.reason ?? null }),
    TRUST_CHANNEL,
  );
  return { ...key, status: 'revoked', decidedBy: actor.by };
}

function revocationInsert(kind: RevocationKind, value: string, actor: Actor, reason: string | undefined) {
  return {
    sql: `INSERT INTO revocations (kind, value, reason, revoked_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, value) DO NOTHING`,
    params: [kind, value, reason ?? null, actor.by, new Date(actor.now).toISOString()],
  };
}

/** Revokes a token id, an identity (`source subject`), an enrolled key or an API key id. */
export async function revoke(db: TrustDb, actor: Actor, kind: RevocationKind, value: string, reason?: string): Promise<void> {
  if (!REVOCATION_KINDS.includes(kind)) throw invalidRequest(`kind must be one of ${REVOCATION_KINDS.join(', ')}.`);
  if (!value) throw invalidRequest('value is required.');
  const statements = [revocationInsert(kind, value, actor, reason)];
  if (kind === 'key') statements.push({ sql: `UPDATE enrolled_keys SET status = 'revoked', decided_by = $2, decided_at = $3 WHERE kid = $1`, params: [value, actor.by, new Date(actor.now).toISOString()] });
  await db.applyTrustChange(statements, event(actor, 'revoke', { kind, value, reason: reason ?? null }), TRUST_CHANNEL);
}

export async function listKeys(db: TrustDb, status?: EnrolledKey['status']): Promise<EnrolledKey[]> {
  const rows = status
    ? await db.rows<KeyRow>(`SELECT * FROM enrolled_keys WHERE status = $1 ORDER BY created_at`, [status])
    : await db.rows<KeyRow>(`SELECT * FROM enrolled_keys ORDER BY created_at`);
  return rows.map(toKey);
}

export async function listRevocations(db: TrustDb): Promise<Revocation[]> {
  const rows = await db.rows<{ kind: RevocationKind; value: string; reason: string | null; revoked_by: string; created_at: string | Date }>(
    `SELECT * FROM revocations ORDER BY created_at`,
  );
  return rows.map((r) => ({ kind: r.kind, value: r.value, reason: r.reason, revokedBy: r.revoked_by, createdAt: iso(r.created_at) }));
}
