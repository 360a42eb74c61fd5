// Schema migrations, applied in order and recorded, the same on SQLite, PGlite and PostgreSQL.
import type { SqlClient, SqlDatabase, StoreKind } from './sql.js';

const ROLLUP_SUMS = `requests bigint NOT NULL, input_tokens bigint NOT NULL, output_tokens bigint NOT NULL,
  cache_read_tokens bigint NOT NULL, cache_write_tokens bigint NOT NULL, cost_usd double precision NOT NULL`;
const BACKFILL_SUMS = 'count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cost_usd)';
/** An audit entry that is not a request record (those start with time, then requestId). The same text must be in the query for the index to serve it. */
export const AUDIT_EVENT_PREDICATE = `body NOT LIKE '{"time":"________________________","requestId":%'`;

// Existing rows' UTC hour ('YYYY-MM-DDTHH') and day, once, for migration 4's backfill (new rows are
// summed in Store.write). SQLite keeps ts as the ISO text the gateway wrote.
const HOUR = { postgres: `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')`, sqlite: `substr(ts, 1, 13)` };
const DAY = { postgres: `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, sqlite: `substr(ts, 1, 10)` };

/** One statement for every store, or a PostgreSQL/PGlite spelling and a SQLite one where their SQL differs. */
type Statement = string | { postgres: string; sqlite: string };

export interface Migration {
  version: number;
  sql: Statement[];
  /**
   * Only CREATE INDEX and DROP INDEX statements. On a PostgreSQL server whose tables existed before
   * this start (rows to index), they run CONCURRENTLY, outside any transaction, so writes go on
   * while the indexes build (see migrateServer). SQLite, PGlite and a new database run them as written.
   */
  concurrentIndexes?: true;
}

export const MIGRATIONS: Migration[] = [
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
  {
    version: 3,
    sql: [
      // Per-user public keys for `claude-key jwt`: a token signed by one is its user, nobody else.
      // kid is the RFC 7638 thumbprint, computed by the gateway, so it cannot be chosen to collide.
      `CREATE TABLE enrolled_keys (
        kid text PRIMARY KEY,
        jwk text NOT NULL,
        user_id text NOT NULL,
        teams text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        decided_by text,
        decided_at timestamptz
      )`,
      // Revoked token ids, subjects (source + subject), enrolled keys and API key ids.
      `CREATE TABLE revocations (
        kind text NOT NULL CHECK (kind IN ('jti', 'subject', 'key', 'api-key')),
        value text NOT NULL,
        reason text,
        revoked_by text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (kind, value)
      )`,
    ],
  },
  {
    version: 4,
    sql: [
      // The console's charts read rollups, not raw rows. Each is keyed to stay small at any traffic:
      // teams and models by hour (read for one day only) and by day; users likewise. Keys are never
      // NULL ('-' instead) so ON CONFLICT matches on PostgreSQL and SQLite alike. hour is
      // 'YYYY-MM-DDTHH' and day 'YYYY-MM-DD' (UTC) as text: they sort as time in any SQL.
      `CREATE TABLE usage_hourly (
        hour text NOT NULL, team_id text NOT NULL, model text NOT NULL, status integer NOT NULL,
        ${ROLLUP_SUMS},
        PRIMARY KEY (hour, team_id, model, status)
      )`,
      `CREATE TABLE usage_daily (
        day text NOT NULL, team_id text NOT NULL, model text NOT NULL, status integer NOT NULL,
        ${ROLLUP_SUMS},
        PRIMARY KEY (day, team_id, model, status)
      )`,
      `CREATE TABLE usage_user_hourly (hour text NOT NULL, user_id text NOT NULL, team_id text NOT NULL, ${ROLLUP_SUMS}, PRIMARY KEY (hour, user_id, team_id))`,
      `CREATE TABLE usage_user_daily (day text NOT NULL, user_id text NOT NULL, team_id text NOT NULL, ${ROLLUP_SUMS}, PRIMARY KEY (day, user_id, team_id))`,
      // Existing rows, once (PostgreSQL/PGlite spelling of the hour; new rows are summed in Store.write),
      // in time order so that a window's rows sit together on disk, as they do when written live.
      ...(
        [
          ['usage_hourly', HOUR, 'COALESCE(team_id, \'-\'), COALESCE(model, \'-\'), status', '2, 3, 4'],
          ['usage_daily', DAY, 'COALESCE(team_id, \'-\'), COALESCE(model, \'-\'), status', '2, 3, 4'],
          ['usage_user_hourly', HOUR, 'COALESCE(user_id, \'-\'), COALESCE(team_id, \'-\')', '2, 3'],
          ['usage_user_daily', DAY, 'COALESCE(user_id, \'-\'), COALESCE(team_id, \'-\')', '2, 3'],
        ] as const
      ).map(([table, key, columns, groups]) => ({
        postgres: `INSERT INTO ${table} SELECT ${key.postgres}, ${columns}, ${BACKFILL_SUMS} FROM usage_records GROUP BY 1, ${groups} ORDER BY 1`,
        sqlite: `INSERT INTO ${table} SELECT ${key.sqlite}, ${columns}, ${BACKFILL_SUMS} FROM usage_records GROUP BY 1, ${groups} ORDER BY 1`,
      })),
      // Which audit entry records a request: the console's audit search filters usage rows through
      // their indexes and reads the hash-chained entries they point at.
      `ALTER TABLE usage_records ADD COLUMN audit_seq bigint`,
      {
        postgres: `UPDATE usage_records SET audit_seq = a.seq FROM audit_log a
          WHERE a.body LIKE '{"time":%,"requestId":%' AND (a.body::json ->> 'requestId') = usage_records.request_id`,
        sqlite: `UPDATE usage_records SET audit_seq = a.seq FROM audit_log a
          WHERE a.body LIKE '{"time":%,"requestId":%' AND (a.body ->> '$.requestId') = usage_records.request_id`,
      },
      `CREATE INDEX usage_records_status_ts ON usage_records (status, ts)`,
      `CREATE INDEX usage_records_user_ts ON usage_records (user_id, ts)`,
      `CREATE INDEX usage_records_team_ts ON usage_records (team_id, ts)`,
      `CREATE INDEX usage_records_model_ts ON usage_records (model, ts)`,
      // Trust and console events (every entry that is not a request) are few: found without a scan.
      `CREATE INDEX audit_log_events ON audit_log (seq) WHERE ${AUDIT_EVENT_PREDICATE}`,
    ],
  },
  {
    version: 5,
    concurrentIndexes: true,
    sql: [
      // The audit search filters on any mix of user, team, model and status (and a time range),
      // newest first with a limit. With one index per filter, two filters that never occur
      // together (a team that never used a model) read every row of the more selective one before
      // answering "none": 756 ms at 5M rows. An index whose equality columns are the filters, then
      // ts, answers in index order and stops at the limit; a filter column after ts is checked in
      // the index, before any table row is read. Every combination then reads at most the rows of
      // two filters together (see docs/benchmarks.md, "Console, follow-up"):
      //   team + model (+ status)       (team_id, model, ts, status)
      //   team + status (+ model)       (team_id, status, ts, model)
      //   model + status (+ team)       (model, status, ts, team_id)
      //   user + anything               (user_id, ts, status, model, team_id): a user's rows are
      //                                 few, and the other filters are checked in the index.
      // A time range alone, and status, team or model alone, keep their indexes from migrations 1 and 4.
      `CREATE INDEX usage_records_team_model_ts ON usage_records (team_id, model, ts, status)`,
      `CREATE INDEX usage_records_team_status_ts ON usage_records (team_id, status, ts, model)`,
      `CREATE INDEX usage_records_model_status_ts ON usage_records (model, status, ts, team_id)`,
      // Replaces (user_id, ts): the same order, with the other filters readable in the index.
      `CREATE INDEX usage_records_user_ts_filters ON usage_records (user_id, ts, status, model, team_id)`,
      `DROP INDEX usage_records_user_ts`,
    ],
  },
  {
    version: 6,
    sql: [
      // Console sessions, shared by every replica on this store. The id is the SHA-256 of the
      // cookie's value, never the value; the CSRF token is derived from the value, so it is not
      // stored either. Times are milliseconds since the epoch: the same number in both stores.
      // A sign-out deletes the row; so does any replica that finds it expired, and each sign-in
      // removes every expired one.
      `CREATE TABLE console_sessions (
        id_hash text PRIMARY KEY,
        principal text NOT NULL,
        created_at bigint NOT NULL,
        idle_expires_at bigint NOT NULL,
        expires_at bigint NOT NULL
      )`,
    ],
  },
  {
    version: 7,
    sql: [
      // A request refused at authentication has no user: these say what it presented, unverified.
      // claimed_* come from a JWT decoded without verification (anyone can write any sub), so
      // they live apart from user_id, which spend, budgets and limits count. No token is stored.
      `ALTER TABLE usage_records ADD COLUMN credential_kind text`,
      `ALTER TABLE usage_records ADD COLUMN claimed_issuer text`,
      `ALTER TABLE usage_records ADD COLUMN claimed_key_id text`,
      `ALTER TABLE usage_records ADD COLUMN claimed_subject text`,
      `ALTER TABLE usage_records ADD COLUMN refusal_reason text`,
    ],
  },
];

// Any constant works; it only has to be the same for every replica sharing a database. Writers
// (Store.write) take it too, for one transaction at a time.
export const LOCK_KEY = 7_284_113;
/** Held for a whole migration run on PostgreSQL, across its transactions and index builds. Not LOCK_KEY: writers go on meanwhile. */
export const MIGRATION_LOCK_KEY = 7_284_114;
const LOCK_POLL_MS = 200;

export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  if (db.session) return migrateServer(await db.session(), migrations);
  // SQLite and PGlite: everything in one transaction, as the single connection it is.
  await db.transaction((tx) => applyPending(db.kind, tx, migrations, false));
}

/**
 * Applies the pending migrations in order in the caller's transaction, until one whose indexes are
 * to be built concurrently (returned, not applied). A database that had no migration yet has no
 * rows to wait for: it gets every migration here, in one transaction, as before.
 */
async function applyPending(kind: StoreKind, tx: SqlClient, migrations: readonly Migration[], concurrently: boolean): Promise<Migration | undefined> {
  // SQLite's BEGIN IMMEDIATE already holds the database's one write lock. On PostgreSQL, LOCK_KEY
  // also serializes with releases before the migration lock existed.
  if (kind !== 'sqlite') await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
  const done = new Set((await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`)).rows.map((r) => Number(r.version)));
  const fresh = done.size === 0;
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    if (concurrently && m.concurrentIndexes && !fresh) return m;
    for (const statement of m.sql) await tx.query(typeof statement === 'string' ? statement : kind === 'sqlite' ? statement.sqlite : statement.postgres);
    await tx.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [m.version]);
  }
  return undefined;
}

/**
 * PostgreSQL: one runner at a time across replicas (MIGRATION_LOCK_KEY, held by this session),
 * transactional migrations as before, and index migrations built with CREATE INDEX CONCURRENTLY,
 * which takes no lock that blocks writes and cannot run in a transaction. A migration is recorded
 * only once each of its indexes is valid; a run that died part-way (a failed or cancelled build
 * leaves an INVALID index behind) is completed by the next one, which rebuilds the invalid ones.
 */
async function migrateServer(session: SqlClient & { close(): Promise<void> }, migrations: readonly Migration[]): Promise<void> {
  try {
    // A role or database default must not cancel an index build half-way (it waits for older transactions too).
    await session.query(`SET statement_timeout = 0`);
    await session.query(`SET lock_timeout = 0`);
    // Waits by polling, never inside pg_advisory_lock: a statement that waits holds a snapshot, and
    // CREATE INDEX CONCURRENTLY waits for every older snapshot to end, so the runner building would
    // wait for the runner waiting for it (a deadlock PostgreSQL breaks by cancelling one of them).
    while (!(await session.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${MIGRATION_LOCK_KEY}) AS locked`)).rows[0]!.locked) {
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    for (;;) {
      const next = await inTransaction(session, (tx) => applyPending('postgres', tx, migrations, true));
      if (!next) return;
      await buildConcurrently(session, next);
      await session.query(`INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT (version) DO NOTHING`, [next.version]);
    }
  } finally {
    // Ending the connection releases the session lock.
    await session.close().catch(() => undefined);
  }
}

async function inTransaction<T>(client: SqlClient, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** `CREATE [UNIQUE] INDEX name ON …` and `DROP INDEX name`, the statements a concurrentIndexes migration may hold. */
const CREATE_INDEX = /^CREATE (UNIQUE )?INDEX (\w+) (ON .+)$/s;
const DROP_INDEX = /^DROP INDEX (\w+)$/;

async function buildConcurrently(session: SqlClient, m: Migration): Promise<void> {
  const built: string[] = [];
  for (const statement of m.sql) {
    const sql = typeof statement === 'string' ? statement : statement.postgres;
    const create = CREATE_INDEX.exec(sql);
    const drop = DROP_INDEX.exec(sql);
    if (create) {
      const [, unique = '', name, rest] = create;
      // A concurrent build that failed or was cut off leaves an INVALID index under its name, which
      // IF NOT EXISTS would take as done: drop it and build it again.
      if ((await indexValid(session, name!)) === false) await session.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
      await session.query(`CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${name} ${rest}`);
      built.push(name!);
    } else if (drop) {
      await session.query(`DROP INDEX CONCURRENTLY IF EXISTS ${drop[1]}`);
    } else {
      throw new Error(`migration ${m.version}: only CREATE INDEX and DROP INDEX can run concurrently, not: ${sql}`);
    }
  }
  for (const name of built) {
    if ((await indexValid(session, name)) !== true) throw new Error(`migration ${m.version}: index ${name} is not valid after its build; the next start builds it again`);
  }
}

/** Whether the index is valid, or undefined if there is none of that name (on the search path). */
async function indexValid(client: SqlClient, name: string): Promise<boolean | undefined> {
  const { rows } = await client.query<{ valid: boolean }>(`SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)`, [name]);
  return rows[0]?.valid;
}
