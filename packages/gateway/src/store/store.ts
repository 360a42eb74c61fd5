// Usage and audit storage over SQLite, PGlite or PostgreSQL: batched writes, reports, and the audit chain.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chainBodies, extendChain, GENESIS_HASH, type AuditEntry } from '../audit/chain.js';
import { rollupUpserts, totals } from './console-sql.js';
import { LOCK_KEY, migrate } from './migrations.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';
import type { RequestRecord } from './record.js';
import type { SqlClient, SqlDatabase } from './sql.js';

export type ReportKey = 'user' | 'team' | 'model';

export interface ReportRow {
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

const REPORT_COLUMN: Record<ReportKey, string> = { user: 'user_id', team: 'team_id', model: 'model' };
const ROWS_PER_INSERT = 1000;

export class Store {
  private constructor(readonly db: SqlDatabase) {}

  static async open(opts: { url?: string | undefined; path: string; schema?: string | undefined; engine?: 'sqlite' | 'pglite' | undefined }): Promise<Store> {
    const db = opts.url
      ? await openPostgres(opts.url, opts.schema)
      : embeddedEngine(opts.path, opts.engine) === 'pglite'
        ? await openPglite(opts.path)
        : await openSqlite(opts.path);
    await migrate(db);
    return new Store(db);
  }

  get kind() {
    return this.db.kind;
  }

  /**
   * Writes usage rows and extends the audit chain in one transaction, serialised across replicas.
   * Idempotent: records whose request id is already stored (a batch retried after its commit was
   * not acknowledged, or replayed from the journal) are skipped, so the chain never holds one twice.
   */
  async write(records: readonly RequestRecord[]): Promise<{ seq: number; hash: string } | undefined> {
    if (!records.length) return undefined;
    return this.db.transaction(async (tx) => {
      if (this.kind !== 'sqlite') await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
      const ids = records.map((r) => r.requestId);
      const stored =
        this.kind === 'sqlite'
          ? tx.query<{ request_id: string }>(`SELECT request_id FROM usage_records WHERE request_id IN (SELECT value FROM json_each($1))`, [JSON.stringify(ids)])
          : tx.query<{ request_id: string }>(`SELECT request_id FROM usage_records WHERE request_id = ANY($1::text[])`, [ids]);
      const known = new Set((await stored).rows.map((r) => r.request_id));
      const seen = new Set<string>();
      records = records.filter((r) => !known.has(r.requestId) && !seen.has(r.requestId) && seen.add(r.requestId));
      if (!records.length) return undefined;
      const head = (await tx.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM audit_head WHERE id = 1`)).rows[0];
      const entries = extendChain({ seq: Number(head?.seq ?? 0), hash: head?.hash ?? GENESIS_HASH }, records);
      for (let i = 0; i < records.length; i += ROWS_PER_INSERT) {
        await insertUsage(tx, records.slice(i, i + ROWS_PER_INSERT), entries.slice(i, i + ROWS_PER_INSERT));
        await insertAudit(tx, entries.slice(i, i + ROWS_PER_INSERT));
        for (const st of rollupUpserts(records.slice(i, i + ROWS_PER_INSERT))) await tx.query(st.sql, st.params);
      }
      const last = entries[entries.length - 1]!;
      await tx.query(
        `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
        [last.seq, last.hash],
      );
      return { seq: last.seq, hash: last.hash };
    });
  }

  /**
   * A change to the trust tables (enrolled keys, revocations) and its audit record, in one
   * transaction: an enrollment, approval or revocation exists exactly when its record does.
   * `notify` (PostgreSQL) is sent on commit, so replicas reload only what was committed.
   */
  async applyTrustChange(statements: readonly { sql: string; params?: unknown[] }[], audit: Record<string, unknown>, notify?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const st of statements) await tx.query(st.sql, st.params ?? []);
      if (this.kind !== 'sqlite') await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
      const head = (await tx.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM audit_head WHERE id = 1`)).rows[0];
      const [entry] = chainBodies({ seq: Number(head?.seq ?? 0), hash: head?.hash ?? GENESIS_HASH }, [JSON.stringify(audit)]);
      await insertAudit(tx, [entry!]);
      await tx.query(
        `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
        [entry!.seq, entry!.hash],
      );
      if (notify && this.db.kind === 'postgres') await tx.query(`SELECT pg_notify($1, '')`, [notify]);
    });
  }

  async report(by: ReportKey, since: Date): Promise<ReportRow[]> {
    const column = REPORT_COLUMN[by];
    const { rows } = await this.db.query<Record<string, string | number | null>>(
      `SELECT COALESCE(${column}, '-') AS key, count(*) AS requests,
              sum(input_tokens) AS input, sum(output_tokens) AS output,
              sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, sum(cost_usd) AS cost
         FROM usage_records WHERE ts >= $1 GROUP BY 1 ORDER BY cost DESC, key`,
      [since.toISOString()],
    );
    return rows.map(totals);
  }

  /** Spend since a time per user and team and UTC day, to seed the in-memory budget ledger. */
  async spendSince(since: Date): Promise<{ kind: 'user' | 'team'; id: string; day: string; usd: number }[]> {
    // SQLite keeps ts as the ISO 8601 UTC text the record carries: its day is the first 10 characters.
    const day = this.kind === 'sqlite' ? 'substr(ts, 1, 10)' : `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    const { rows } = await this.db.query<{ kind: 'user' | 'team'; id: string; day: string; usd: number }>(
      `SELECT 'user' AS kind, user_id AS id, ${day} AS day, sum(cost_usd) AS usd
         FROM usage_records WHERE ts >= $1 AND user_id IS NOT NULL GROUP BY 2, 3
       UNION ALL
       SELECT 'team', team_id, ${day}, sum(cost_usd)
         FROM usage_records WHERE ts >= $1 AND team_id IS NOT NULL GROUP BY 2, 3`,
      [since.toISOString()],
    );
    return rows.map((r) => ({ ...r, usd: Number(r.usd) }));
  }

  async auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    const row = (await this.db.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM audit_head WHERE id = 1`)).rows[0];
    return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
  }

  /** The audit log in order, page by page, so a long log never sits in memory at once. */
  async *auditEntries(pageSize = 5000): AsyncGenerator<AuditEntry> {
    let after = 0;
    for (;;) {
      const { rows } = await this.db.query<{ seq: string; prev_hash: string; hash: string; body: string }>(
        `SELECT seq, prev_hash, hash, body FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT ${pageSize}`,
        [after],
      );
      for (const r of rows) yield { seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, body: r.body };
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async count(): Promise<{ usage: number; audit: number }> {
    const u = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM usage_records`);
    const a = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log`);
    return { usage: Number(u.rows[0]!.n), audit: Number(a.rows[0]!.n) };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** SQLite unless configured otherwise, or unless the path already holds a PGlite (PostgreSQL) data directory. */
export function embeddedEngine(path: string, engine: 'sqlite' | 'pglite' | undefined): 'sqlite' | 'pglite' {
  if (engine) return engine;
  return !path.startsWith('memory://') && existsSync(join(path, 'PG_VERSION')) ? 'pglite' : 'sqlite';
}

function placeholders(rows: number, columns: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`);
  }
  return out.join(', ');
}

async function insertUsage(tx: SqlClient, records: readonly RequestRecord[], entries: readonly AuditEntry[]): Promise<void> {
  const params = records.flatMap((r, i) => [
    r.requestId, r.time, r.user, r.team, r.credentialId, r.model, r.format, r.upstream, r.deployment ?? null, r.status,
    r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costUsd, r.latencyMs, entries[i]!.seq,
    r.refusal?.credential ?? null, r.refusal?.claimed?.issuer ?? null, r.refusal?.claimed?.keyId ?? null,
    r.refusal?.claimed?.subject ?? null, r.refusal?.reason ?? null,
  ]);
  await tx.query(
    `INSERT INTO usage_records (request_id, ts, user_id, team_id, credential_id, model, format, upstream, deployment, status,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms, audit_seq,
       credential_kind, claimed_issuer, claimed_key_id, claimed_subject, refusal_reason)
     VALUES ${placeholders(records.length, 22)} ON CONFLICT (request_id) DO NOTHING`,
    params,
  );
}

async function insertAudit(tx: SqlClient, entries: readonly AuditEntry[]): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES ${placeholders(entries.length, 4)}`,
    entries.flatMap((e) => [e.seq, e.prevHash, e.hash, e.body]),
  );
}
