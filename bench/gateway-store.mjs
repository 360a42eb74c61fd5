// Embedded store choice, measured: PGlite (what the gateway ships) against SQLite (better-sqlite3).
//
//   SQLITE_DIR=/tmp/sqlite-bench node --conditions=source --import tsx bench/gateway-store.mjs
//
// better-sqlite3 is not a dependency of the repo (it needs a native build); install it anywhere
// (`npm install better-sqlite3` in a scratch folder) and point SQLITE_DIR at that folder.
// Workload: 20,000 request records written as the gateway writes them (batches of 125 = 250 ms at
// 500 req/s, usage row + hash-chained audit row in one transaction), then a usage report.
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Store } = await import(join(ROOT, 'packages/gateway/src/store/store.ts'));
const { extendChain, GENESIS_HASH } = await import(join(ROOT, 'packages/gateway/src/audit/chain.ts'));
const { testRecord } = await import(join(ROOT, 'packages/gateway/src/test-support/records.ts'));

const RECORDS = 20_000;
const BATCH = 125;
const batches = () => Array.from({ length: RECORDS / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i) => testRecord(b * BATCH + i)));

function dirSize(path) {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

async function measure(name, open, dir) {
  let t0 = performance.now();
  const store = await open();
  const openMs = performance.now() - t0;
  const work = batches();
  let worst = 0;
  t0 = performance.now();
  for (const batch of work) {
    const b0 = performance.now();
    await store.write(batch);
    worst = Math.max(worst, performance.now() - b0);
  }
  const writeMs = performance.now() - t0;
  t0 = performance.now();
  const rows = await store.report('user', new Date(0));
  const reportMs = performance.now() - t0;
  await store.close();
  if (rows.reduce((n, r) => n + r.requests, 0) !== RECORDS) throw new Error(`${name}: lost records`);
  return { name, openMs, perBatchMs: writeMs / work.length, worstBatchMs: worst, recordsPerSec: RECORDS / (writeMs / 1000), reportMs, diskMiB: dir ? dirSize(dir) / 2 ** 20 : undefined };
}

/** The same two tables and chain, on SQLite, written the way Store.write writes them. */
function openSqlite(Database, file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE usage_records (request_id TEXT PRIMARY KEY, ts TEXT NOT NULL, user_id TEXT, team_id TEXT, credential_id TEXT, model TEXT,
             format TEXT NOT NULL, upstream TEXT, status INTEGER NOT NULL, input_tokens INTEGER, output_tokens INTEGER, cache_read_tokens INTEGER,
             cache_write_tokens INTEGER, cost_usd REAL, latency_ms REAL);
           CREATE INDEX usage_records_ts ON usage_records (ts);
           CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL);
           CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);`);
  const insUsage = db.prepare(`INSERT OR IGNORE INTO usage_records VALUES (@requestId, @time, @user, @team, @credentialId, @model, @format, @upstream, @status,
    @inputTokens, @outputTokens, @cacheReadTokens, @cacheWriteTokens, @costUsd, @latencyMs)`);
  const insAudit = db.prepare(`INSERT INTO audit_log VALUES (@seq, @prevHash, @hash, @body)`);
  const head = db.prepare(`SELECT seq, hash FROM audit_head WHERE id = 1`);
  const setHead = db.prepare(`INSERT INTO audit_head VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`);
  const write = db.transaction((records) => {
    const h = head.get() ?? { seq: 0, hash: GENESIS_HASH };
    const entries = extendChain(h, records);
    for (const r of records) insUsage.run(r);
    for (const e of entries) insAudit.run(e);
    setHead.run(entries.at(-1).seq, entries.at(-1).hash);
  });
  const report = db.prepare(`SELECT COALESCE(user_id, '-') AS key, count(*) AS requests FROM usage_records WHERE ts >= ? GROUP BY 1`);
  return {
    write: async (records) => write(records),
    report: async (_by, since) => report.all(since.toISOString()),
    close: async () => db.close(),
  };
}

const results = [];
results.push(await measure('PGlite, in memory', () => Store.open({ path: 'memory://' })));
const pgDir = mkdtempSync(join(tmpdir(), 'ckg-pglite-'));
results.push(await measure('PGlite, on disk', () => Store.open({ path: pgDir }), pgDir));
rmSync(pgDir, { recursive: true, force: true });
if (process.env.SQLITE_DIR) {
  const Database = createRequire(join(process.env.SQLITE_DIR, 'package.json'))('better-sqlite3');
  const sqDir = mkdtempSync(join(tmpdir(), 'ckg-sqlite-'));
  results.push(await measure('SQLite (better-sqlite3), on disk, WAL', async () => openSqlite(Database, join(sqDir, 'gw.db')), sqDir));
  rmSync(sqDir, { recursive: true, force: true });
} else {
  process.stderr.write('SQLITE_DIR not set: SQLite not measured\n');
}

const lines = [
  `${RECORDS} records in batches of ${BATCH} (usage + chained audit row per record, one transaction per batch); Node ${process.version}.`,
  '',
  '| store | open + migrate ms | ms per batch | worst batch ms | records/s | report ms | disk MiB |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map((r) => `| ${r.name} | ${r.openMs.toFixed(0)} | ${r.perBatchMs.toFixed(2)} | ${r.worstBatchMs.toFixed(1)} | ${r.recordsPerSec.toFixed(0)} | ${r.reportMs.toFixed(1)} | ${r.diskMiB === undefined ? '-' : r.diskMiB.toFixed(1)} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
