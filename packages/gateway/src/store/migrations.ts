// Schema migrations, applied in order and recorded, the same on SQLite, PGlite and PostgreSQL.
import type { SqlDatabase } from './sql.js';

export const MIGRATIONS: { version: number; sql: string[] }[] = [
  {
    version: 1,
    sql: [
      `CREATE TABLE usage_records (
        request_id text PRIMARY KEY,
        ts timestamptz NOT NULL,
        user_id text, team_id text, credential_id text, model text,
        format text NOT NULL, upstream text, status integer NOT NULL,
        input_tokens bigint NOT NULL, output_tokens bigint NOT NULL,
        cache_read_tokens bigint NOT NULL, cache_write_tokens bigint NOT NULL,
        cost_usd double precision NOT NULL, latency_ms double precision NOT NULL
      )`,
      `CREATE INDEX usage_records_ts ON usage_records (ts)`,
      // The audit body is the exact JSON text that was hashed, so verification needs no re-encoding.
      `CREATE TABLE audit_log (
        seq bigint PRIMARY KEY,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        body text NOT NULL
      )`,
      // The head makes deleting the newest records detectable, not only those in the middle.
      `CREATE TABLE audit_head (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL)`,
    ],
  },
  {
    version: 2,
    // Which deployment (`upstream/model`) served the answer, after any fallback.
    sql: [`ALTER TABLE usage_records ADD COLUMN deployment text`],
  },
];

// Any constant works; it only has to be the same for every replica sharing a database.
export const LOCK_KEY = 7_284_113;

export async function migrate(db: SqlDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    // SQLite's BEGIN IMMEDIATE already holds the database's one write lock.
    if (db.kind !== 'sqlite') await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
    const done = new Set((await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`)).rows.map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql) await tx.query(statement);
      await tx.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [m.version]);
    }
  });
}
