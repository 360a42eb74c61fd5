// Index migrations on the real PostgreSQL: built CONCURRENTLY on a database that already has rows,
// so writes go on meanwhile; recorded only once every index is valid; an invalid leftover of a
// failed or cut-off build is rebuilt by the next start; replicas starting together apply it once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { createTestSchema, TEST_DATABASE_URL } from '../test-support/postgres.js';
import { LOCK_KEY, MIGRATION_LOCK_KEY, MIGRATIONS, migrate } from './migrations.js';
import { openPostgres } from './postgres.js';
import type { SqlDatabase } from './sql.js';

const BEFORE_5 = MIGRATIONS.filter((m) => m.version < 5);
const INDEXES_5 = ['usage_records_team_model_ts', 'usage_records_team_status_ts', 'usage_records_model_status_ts', 'usage_records_user_ts_filters'];
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** A fresh schema at migration 4 holding `rows` usage rows, as a database from before migration 5. */
async function databaseBefore5(rows: number): Promise<{ schema: string; open(): Promise<SqlDatabase>; connect(): Promise<pg.Client> }> {
  const { schema, drop } = await createTestSchema();
  cleanups.push(drop);
  const open = async () => {
    const db = await openPostgres(TEST_DATABASE_URL, schema);
    cleanups.push(() => db.close());
    return db;
  };
  const connect = async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    client.on('error', () => undefined);
    await client.connect();
    cleanups.push(() => client.end());
    return client;
  };
  const db = await open();
  await migrate(db, BEFORE_5);
  await db.query(
    `INSERT INTO usage_records (request_id, ts, user_id, team_id, model, format, status, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, cost_usd, latency_ms)
     SELECT 'r' || g, now() - g * interval '1 second', 'u' || (g % 997), 't' || (g % 13), 'm' || (g % 5), 'anthropic',
       CASE WHEN g % 50 = 0 THEN 429 ELSE 200 END, g % 4000, g % 900, 0, 0, 0.001, 12
     FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await db.query('ANALYZE usage_records');
  return { schema, open, connect };
}

function insertRow(client: pg.Client | SqlDatabase, id: string) {
  return client.query(
    `INSERT INTO usage_records (request_id, ts, user_id, team_id, model, format, status, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, cost_usd, latency_ms) VALUES ($1, now(), 'u1', 't1', 'm1', 'anthropic', 200, 1, 1, 0, 0, 0.001, 5)`,
    [id],
  );
}

/**
 * A write transaction left open on usage_records (row 'held'): an index build that starts meanwhile
 * waits for it (a concurrent one too), so the build stays under way until it commits.
 */
async function holdBuild(connect: () => Promise<pg.Client>): Promise<pg.Client> {
  const holder = await connect();
  await holder.query('BEGIN');
  await insertRow(holder, 'held');
  return holder;
}

/** The index build under way on this schema's usage_records (its backend and statement), if any. */
async function buildUnderWay(client: pg.Client): Promise<{ pid: number; query: string } | undefined> {
  const { rows } = await client.query<{ pid: number; query: string }>(
    `SELECT a.pid, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.relation = to_regclass('usage_records') AND l.mode = 'ShareUpdateExclusiveLock' AND a.query LIKE 'CREATE INDEX CONCURRENTLY%'`,
  );
  return rows[0];
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function assertMigrated(client: pg.Client) {
  const versions = (await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
  assert.deepEqual(versions, ALL_VERSIONS, 'every migration recorded exactly once');
  const { rows } = await client.query<{ name: string; valid: boolean; unique: boolean }>(
    `SELECT c.relname AS name, i.indisvalid AS valid, i.indisunique AS unique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = to_regclass('usage_records') ORDER BY 1`,
  );
  for (const name of INDEXES_5) assert.deepEqual(rows.find((r) => r.name === name), { name, valid: true, unique: false }, name);
  assert.ok(!rows.some((r) => r.name === 'usage_records_user_ts'), 'the (user_id, ts) index it replaces is dropped');
  assert.ok(rows.every((r) => r.valid), 'no invalid index is left');
}

describe('index migrations on PostgreSQL', () => {
  after(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  it('control: a plain CREATE INDEX in a transaction (the old migration 5) blocks inserts until the build ends', async () => {
    const { connect } = await databaseBefore5(1000);
    // A write transaction under way when the build starts: the build waits for it, inserts queue behind the build.
    const [holder, builder, writer] = [await holdBuild(connect), await connect(), await connect()];
    await builder.query('BEGIN');
    const building = builder.query('CREATE INDEX usage_records_team_model_ts ON usage_records (team_id, model, ts, status)');
    await waitFor('the build to wait for its lock', async () => {
      const { rows } = await writer.query(`SELECT 1 FROM pg_locks WHERE relation = to_regclass('usage_records') AND mode = 'ShareLock' AND NOT granted`);
      return rows[0];
    });
    await writer.query(`SET lock_timeout = '1s'`);
    await assert.rejects(insertRow(writer, 'blocked'), /lock timeout/);
    await holder.query('COMMIT');
    await building;
    await builder.query('ROLLBACK');
  });

  it('builds the indexes concurrently: inserts from another connection complete while the build is under way', async () => {
    const rows = 200_000;
    const { open, connect } = await databaseBefore5(rows);
    // The build stays under way for as long as the test needs: what happens during it is observed without a race.
    const [holder, writer, observer] = [await holdBuild(connect), await connect(), await connect()];
    const db = await open();
    const started = Date.now();
    const migrating = migrate(db);
    migrating.catch(() => undefined);
    const build = await waitFor('the concurrent build', () => buildUnderWay(observer));
    assert.match(build.query, /^CREATE INDEX CONCURRENTLY IF NOT EXISTS usage_records_team_model_ts ON usage_records/);

    // A plain insert, and a write as Store.write makes it (under the writers' advisory lock): neither waits for the build.
    await writer.query(`SET lock_timeout = '5s'`);
    const t0 = performance.now();
    await insertRow(writer, 'during-1');
    await writer.query('BEGIN');
    await writer.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
    await insertRow(writer, 'during-2');
    await writer.query('COMMIT');
    const duringMs = performance.now() - t0;
    assert.ok((await buildUnderWay(observer))?.pid === build.pid, 'the build is still under way after both inserts completed');
    assert.deepEqual((await writer.query('SELECT version FROM schema_migrations WHERE version = 5')).rows, [], 'not recorded before its indexes are built');

    // Then the build proper, with inserts going on all along.
    await holder.query('COMMIT');
    let done = false;
    void migrating.finally(() => (done = true)).catch(() => undefined);
    const latencies: number[] = [];
    for (let i = 0; !done; i++) {
      const t = performance.now();
      await insertRow(writer, `build-${i}`);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 5));
    }
    await migrating;
    const buildMs = Date.now() - started;
    latencies.sort((a, b) => a - b);
    const p = (q: number) => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1);
    console.log(
      `# ${rows} rows: migration 5 took ${buildMs} ms; 2 inserts while the build waited: ${duringMs.toFixed(1)} ms; ` +
        `${latencies.length} inserts during the build: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`,
    );
    assert.ok(latencies.length > 0);
    await assertMigrated(observer);
    assert.equal(Number((await observer.query(`SELECT count(*) AS n FROM usage_records`)).rows[0].n), rows + 3 + latencies.length);
  });

  it('rebuilds an INVALID index left by a failed concurrent build, then records the migration', async () => {
    const { open, connect } = await databaseBefore5(5000);
    const client = await connect();
    // A concurrent build that fails (here a unique one over duplicate keys) leaves its index behind, INVALID.
    await client.query('BEGIN'); // one transaction: both rows get the same now(), so the same key
    await insertRow(client, 'dup-1');
    await insertRow(client, 'dup-2');
    await client.query('COMMIT');
    await assert.rejects(client.query('CREATE UNIQUE INDEX CONCURRENTLY usage_records_team_model_ts ON usage_records (team_id, model, ts, status)'), /could not create unique index/);
    const leftover = await client.query(`SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = to_regclass('usage_records_team_model_ts')`);
    assert.deepEqual(leftover.rows, [{ indisvalid: false, indisunique: true }]);

    await migrate(await open());
    await assertMigrated(client);
  });

  it('a build cut off half-way (its backend killed) is not recorded, and the next start completes it', async () => {
    const { open, connect } = await databaseBefore5(5000);
    const [holder, observer] = [await holdBuild(connect), await connect()];
    const migrating = migrate(await open());
    // Handled from the start: the session can learn of its end before the observer's query returns,
    // and a rejection nobody handles yet fails the test run.
    migrating.catch(() => undefined);
    const build = await waitFor('the concurrent build', () => buildUnderWay(observer));
    await observer.query('SELECT pg_terminate_backend($1)', [build.pid]);
    await assert.rejects(migrating);
    await holder.query('COMMIT');
    const state = await observer.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('usage_records_team_model_ts')`);
    assert.deepEqual(state.rows, [{ indisvalid: false }], 'the cut-off build left an invalid index');
    assert.deepEqual((await observer.query('SELECT version FROM schema_migrations WHERE version >= 5')).rows, []);

    await migrate(await open());
    await assertMigrated(observer);
  });

  it('a gateway killed during the build: its server-side build runs on, and the next start waits for it, then completes', async () => {
    const { schema, open, connect } = await databaseBefore5(5000);
    const [holder, observer] = [await holdBuild(connect), await connect()];
    // Another process runs the migration, and is SIGKILLed while its first index builds.
    const here = new URL('.', import.meta.url);
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e',
        `const { openPostgres } = await import(${JSON.stringify(new URL('postgres.ts', here).href)});
         const { migrate } = await import(${JSON.stringify(new URL('migrations.ts', here).href)});
         await migrate(await openPostgres(${JSON.stringify(TEST_DATABASE_URL)}, ${JSON.stringify(schema)}));`],
      { stdio: 'ignore' },
    );
    const exited = once(child, 'exit');
    cleanups.push(async () => child.kill('SIGKILL'));
    const build = await waitFor('the concurrent build', () => buildUnderWay(observer));
    child.kill('SIGKILL');
    await exited;
    // PostgreSQL notices the lost client only when the statement ends: the build, and the migration
    // lock its session holds, outlive the process. The next start waits for the lock.
    const db = await open();
    let finished = false;
    const migrating = migrate(db).finally(() => (finished = true));
    migrating.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(finished, false, 'the next start waits while the orphaned build holds the lock');
    assert.equal((await buildUnderWay(observer))?.pid, build.pid);
    await holder.query('COMMIT');
    await migrating;
    await assertMigrated(observer);
  });

  it('two runners starting at once: one builds while the other waits, and the migration is applied once', async () => {
    const { open, connect } = await databaseBefore5(20_000);
    const [holder, observer] = [await holdBuild(connect), await connect()];
    const [a, b] = [await open(), await open()];
    const both = Promise.all([migrate(a), migrate(b)]);
    both.catch(() => undefined);
    await waitFor('the concurrent build', () => buildUnderWay(observer));
    // The waiting runner polls for the lock between statements: if it waited inside one, the build
    // (which waits for older snapshots) and it would deadlock, and PostgreSQL would cancel one of them.
    await new Promise((r) => setTimeout(r, 1500)); // past deadlock_timeout (1 s)
    const waiting = await observer.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND objsubid = 1 AND NOT granted`, [MIGRATION_LOCK_KEY]);
    assert.equal(waiting.rows[0].n, 0, 'nobody waits inside a statement for the migration lock');
    await holder.query('COMMIT');
    await both;
    await assertMigrated(observer);
    // And a later start finds nothing to do.
    await migrate(a);
    await assertMigrated(observer);
  });

  it('a new database gets every migration in one transaction (nothing to build concurrently)', async () => {
    const { schema, drop } = await createTestSchema();
    cleanups.push(drop);
    const db = await openPostgres(TEST_DATABASE_URL, schema);
    cleanups.push(() => db.close());
    await migrate(db);
    const applied = await db.query<{ n: number }>('SELECT count(DISTINCT applied_at)::int AS n FROM schema_migrations');
    assert.equal(applied.rows[0]!.n, 1, 'one transaction, one timestamp');
  });
});
