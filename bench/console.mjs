// The console's API against 5 million usage rows in PostgreSQL or SQLite: every page's calls, timed through the gateway.
//
//   node --conditions=source --import tsx bench/console.mjs               (PostgreSQL)
//   STORE=sqlite node --conditions=source --import tsx bench/console.mjs  (SQLite, the default embedded store)
//
// PostgreSQL: seeds schema ckg_console_bench (made afresh; dropped at the end, about 7 GB, unless
// KEEP_SCHEMA=1; SKIP_SEED=1 times a kept one again) on TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test). SQLite: seeds DIR (default /tmp/ckg-console-bench;
// removed at the end unless KEEP_SCHEMA=1; SKIP_SEED=1 reuses it).
// ROWS usage rows (default 5,000,000) spread over the last 30 days, 2,000 users in 40 teams, 4
// models, ~1% 429s, ~0.5% 403s, ~0.4% 529s; the rollups built as migration 4 builds them; an audit
// row per request (bodies as the gateway writes them, each usage row pointing at its entry, hashes
// not chained: search speed is measured, not verification). The tables and indexes are the
// gateway's own migrations'; the usage indexes are dropped while seeding and made again by the
// same statements afterwards (seeding only; it is not timed as a page). Then a gateway with the
// console on that store answers each call RUNS times (after one warm-up); the median and worst are
// printed as a Markdown table for docs/benchmarks.md, and the query plan of every audit search
// (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) is written to PLANS (default
// /tmp/ckg-console-plans-<store>.txt).
import { cpus, loadavg, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// pg and better-sqlite3 are the gateway's dependencies, not the repo root's.
const gatewayRequire = createRequire(join(ROOT, 'packages/gateway/package.json'));
const pg = gatewayRequire('pg');
const { createGateway } = await import(join(ROOT, 'packages/gateway/src/gateway.ts'));
const { parseConfig } = await import(join(ROOT, 'packages/gateway/src/config.ts'));
const { createLogger } = await import(join(ROOT, 'packages/gateway/src/log.ts'));
const { createTestIssuer, issuerConfig, TEST_ISSUER } = await import(join(ROOT, 'packages/gateway/src/test-support/keys.ts'));
const { MIGRATIONS } = await import(join(ROOT, 'packages/gateway/src/store/migrations.ts'));
const { searchAudit } = await import(join(ROOT, 'packages/gateway/src/store/console-sql.ts'));
const { Store } = await import(join(ROOT, 'packages/gateway/src/store/store.ts'));

const STORE = process.env.STORE ?? 'postgres';
if (STORE !== 'postgres' && STORE !== 'sqlite') throw new Error('STORE must be postgres or sqlite');
const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'ckg_console_bench';
const DIR = process.env.DIR ?? '/tmp/ckg-console-bench';
const PLANS = process.env.PLANS ?? `/tmp/ckg-console-plans-${STORE}.txt`;
const ROWS = Number(process.env.ROWS ?? 5_000_000);
const CHUNK = 250_000;
const RUNS = Number(process.env.RUNS ?? 7);
const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'claude-sonnet-4'];

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const loads = [loadavg()[0]];

/** One connection to the bench's store, outside the gateway: `query(sql, params)` with $n placeholders. */
async function connect() {
  if (STORE === 'postgres') {
    const client = new pg.Client({ connectionString: URL_, options: `-c search_path=${SCHEMA}` });
    await client.connect();
    return { query: async (sql, params = []) => (await client.query(sql, params)).rows, end: () => client.end() };
  }
  const Database = gatewayRequire('better-sqlite3');
  const db = new Database(join(DIR, 'gateway.sqlite'));
  db.pragma('journal_mode = WAL');
  // The gateway's SQL says $n; as its SQLite store does, each becomes ? with its value in order.
  const query = async (sql, params = []) => {
    const order = [];
    const stmt = db.prepare(sql.replace(/\$(\d+)/g, (_, n) => (order.push(Number(n) - 1), '?')));
    const values = order.map((i) => params[i] ?? null);
    return stmt.reader ? stmt.all(...values) : (stmt.run(...values), []);
  };
  return { query, end: async () => db.close() };
}

const sqlOf = (statement) => (typeof statement === 'string' ? statement : statement[STORE === 'sqlite' ? 'sqlite' : 'postgres']);

if (!process.env.SKIP_SEED) {
  if (STORE === 'postgres') {
    const admin = new pg.Client({ connectionString: URL_ });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    await admin.end();
  } else {
    rmSync(DIR, { recursive: true, force: true });
  }
  // The gateway's own migrations make the tables and indexes (its store opens and migrates).
  const store = await Store.open(STORE === 'postgres' ? { url: URL_, path: 'memory://', schema: SCHEMA } : { path: DIR });
  await store.close();
  const db = await connect();
  // Seeding is faster without the usage indexes; they are made again below by their own statements.
  const indexes =
    STORE === 'postgres'
      ? (await db.query(`SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE schemaname = $1 AND tablename = 'usage_records' AND indexname <> 'usage_records_pkey'`, [SCHEMA]))
      : await db.query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_records' AND sql IS NOT NULL`);
  for (const i of indexes) await db.query(`DROP INDEX ${i.name}`);
  const t0 = performance.now();
  const nowMs = Date.now();
  for (let start = 1; start <= ROWS; start += CHUNK) {
    const end = Math.min(start + CHUNK - 1, ROWS);
    const status = `CASE WHEN g % 100 = 0 THEN 429 WHEN g % 200 = 1 THEN 403 WHEN g % 250 = 2 THEN 529 ELSE 200 END`;
    if (STORE === 'postgres') {
      await db.query(
        `INSERT INTO usage_records (request_id, ts, user_id, team_id, credential_id, model, format, upstream, deployment, status,
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms, audit_seq)
         SELECT 'bench-' || g, now() - random() * interval '30 days', 'user' || (g % 2000), 'team' || (g % 2000 % 40), 'jti:bench-' || g,
                (ARRAY['${MODELS.join("', '")}'])[1 + g % 4],
                'anthropic:messages', 'anthropic', 'anthropic/claude', ${status},
                1000 + g % 5000, 100 + g % 900, g % 3000, 0, (g % 1000) / 10000.0, 200 + g % 3000, g
           FROM generate_series($1::bigint, $2::bigint) g`,
        [start, end],
      );
    } else {
      // The same rows; ts as the ISO 8601 text the gateway writes to SQLite.
      await db.query('BEGIN');
      await db.query(
        `WITH RECURSIVE s(g) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT g + 1 FROM s WHERE g < $2)
         INSERT INTO usage_records (request_id, ts, user_id, team_id, credential_id, model, format, upstream, deployment, status,
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms, audit_seq)
         SELECT 'bench-' || g, strftime('%Y-%m-%dT%H:%M:%fZ', ($3 - abs(random() % 2592000000)) / 1000.0, 'unixepoch'),
                'user' || (g % 2000), 'team' || (g % 2000 % 40), 'jti:bench-' || g,
                CASE g % 4 ${MODELS.map((m, i) => `WHEN ${i} THEN '${m}'`).join(' ')} END,
                'anthropic:messages', 'anthropic', 'anthropic/claude', ${status},
                1000 + g % 5000, 100 + g % 900, g % 3000, 0, (g % 1000) / 10000.0, 200 + g % 3000, g
           FROM s`,
        [start, end, nowMs],
      );
      await db.query('COMMIT');
    }
    log(`usage rows ${end.toLocaleString('en-US')}`);
  }
  const seedMs = performance.now() - t0;
  const ti = performance.now();
  for (const i of indexes) await db.query(i.sql);
  const indexMs = performance.now() - ti;
  log(`${indexes.length} usage indexes made in ${(indexMs / 1000).toFixed(1)} s`);
  // The rollups, by the statements migration 4 runs on an existing table.
  const t1 = performance.now();
  for (const statement of MIGRATIONS.find((m) => m.version === 4).sql.map(sqlOf).filter((q) => q.startsWith('INSERT INTO usage_'))) await db.query(statement);
  const rollupMs = performance.now() - t1;
  log(`rollup built in ${(rollupMs / 1000).toFixed(1)} s`);
  const t2 = performance.now();
  const time = STORE === 'postgres' ? `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : 'ts';
  await db.query(`INSERT INTO audit_log (seq, prev_hash, hash, body)
      SELECT audit_seq, ${STORE === 'postgres' ? 'md5(request_id)' : "'h' || request_id"}, ${STORE === 'postgres' ? "md5(request_id || 'x')" : "'x' || request_id"},
             '{"time":"' || ${time} || '","requestId":"' || request_id ||
             '","user":"' || user_id || '","team":"' || team_id || '","credentialId":"' || credential_id || '","model":"' || model ||
             '","format":"anthropic:messages","upstream":"anthropic","deployment":"anthropic/claude","status":' || status ||
             ',"inputTokens":' || input_tokens || ',"outputTokens":' || output_tokens || ',"cacheReadTokens":' || cache_read_tokens ||
             ',"cacheWriteTokens":0,"costUsd":' || cost_usd || ',"latencyMs":' || latency_ms || ',"clientAddress":"10.0.0.1","userAgent":"claude-cli/2.1.328"}'
        FROM usage_records`);
  log(`audit rows in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  // The head follows the last row, so the console's own audit records (sign-in) extend the log.
  await db.query(`INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`);
  // PostgreSQL's autovacuum would gather statistics soon after such a load; SQLite has no such
  // thing and the gateway never runs ANALYZE, so its store is timed without statistics.
  if (STORE === 'postgres') await db.query(`VACUUM ANALYZE`);
  await db.end();
  log(`seeded ${ROWS.toLocaleString('en-US')} rows: usage ${(seedMs / 1000).toFixed(0)} s, indexes ${(indexMs / 1000).toFixed(0)} s, rollup ${(rollupMs / 1000).toFixed(1)} s`);
}
loads.push(loadavg()[0]);

const client = await connect();
const counts = (await client.query(`SELECT (SELECT count(*) FROM usage_records) AS usage, (SELECT count(*) FROM usage_hourly) AS hourly, (SELECT count(*) FROM usage_daily) AS daily, (SELECT count(*) FROM usage_user_hourly) AS user_hourly, (SELECT count(*) FROM usage_user_daily) AS user_daily, (SELECT count(*) FROM audit_log) AS audit`))[0];

// The searches below name users, teams and models of the seeded data: they must exist (a bound
// parameter once made SQLite's ids 'user1.0', and every search found nothing, fast).
for (const [column, value] of [['user_id', 'user1234'], ['team_id', 'team7'], ['model', 'claude-sonnet-4']]) {
  const [{ n }] = await client.query(`SELECT count(*) AS n FROM usage_records WHERE ${column} = $1`, [value]);
  if (!(Number(n) > 0)) throw new Error(`seeded data has no ${column} = ${value}`);
}

// Audit searches: every combination of the filters the audit view offers (user, team, model,
// status, time), each with values chosen so the filters' rows overlap as little as the data allows
// (in the seeded data user1234 is always team34 and claude-opus-4-1 and never refused; team7 never
// uses claude-sonnet-4-5 or claude-opus-4-1 and is never refused; claude-sonnet-4 is never refused
// with 429 or 403; team0 never gets a 529): a search that reads every row of one filter to
// keep few or none shows here.
const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString();
const SEARCHES = [
  ['newest 200', {}],
  ['one user', { user: 'user1234' }],
  ['one team', { team: 'team7' }],
  ['one model', { model: 'claude-opus-4-1' }],
  ['status 429', { status: 429 }],
  ['status 401 (none in the data)', { status: 401 }],
  ['last hour', { from: hourAgo }],
  ['a user and a team never together', { user: 'user1234', team: 'team7' }],
  ['a user and a model never together', { user: 'user1234', model: 'claude-sonnet-4-5' }],
  ['a user and status 429 (all of the user\'s rows)', { user: 'user1200', status: 429 }],
  ['a user and status 429 (none)', { user: 'user1234', status: 429 }],
  ['a team and a model', { team: 'team7', model: 'claude-sonnet-4' }],
  ['a team and a model never together', { team: 'team7', model: 'claude-opus-4-1' }],
  ['a team and status 529 (none)', { team: 'team0', status: 529 }],
  ['a model and status 429 (none)', { model: 'claude-sonnet-4', status: 429 }],
  ['a team, a model and status 403 (none)', { team: 'team7', model: 'claude-sonnet-4', status: 403 }],
  ['a team, a model never together and status 200', { team: 'team7', model: 'claude-sonnet-4-5', status: 200 }],
  ['user, team, model and status (none)', { user: 'user1234', team: 'team34', model: 'claude-opus-4-1', status: 429 }],
  ['user, team, model and status 200', { user: 'user1234', team: 'team34', model: 'claude-opus-4-1', status: 200 }],
  ['last 24 h, a team and a model never together', { team: 'team7', model: 'claude-opus-4-1', from: dayAgo }],
  ['last 7 days, status 429', { status: 429, from: weekAgo }],
  ['a week ending a day ago, a team and status 200', { team: 'team7', status: 200, from: weekAgo, to: dayAgo }],
  ['last 24 h, a user and a model', { user: 'user1234', model: 'claude-opus-4-1', from: dayAgo }],
];
const query = (f) => new URLSearchParams(Object.entries(f).map(([k, v]) => [k, String(v)])).toString();

// The plan of each search's request query (the SQL searchAudit runs, captured rather than copied).
const plans = [];
for (const [name, filter] of SEARCHES) {
  const captured = [];
  await searchAudit(async (sql, params) => (captured.push({ sql, params }), []), filter, 200);
  const { sql, params } = captured[0];
  const t0 = performance.now();
  const plan =
    STORE === 'postgres'
      ? (await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).map((r) => r['QUERY PLAN']).join('\n')
      : (await client.query(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail).join('\n');
  if (STORE === 'sqlite') await client.query(sql, params);
  plans.push(`## ${name}  ${JSON.stringify(filter)}  (${(performance.now() - t0).toFixed(1)} ms outside the gateway)\n${sql}\n${plan}\n`);
}
writeFileSync(PLANS, plans.join('\n'));
log(`query plans in ${PLANS}`);
await client.end();

const issuer = await createTestIssuer();
const config = parseConfig({
  listen: { host: '127.0.0.1', port: 0 },
  store: STORE === 'postgres' ? { url: URL_ } : { path: DIR },
  log: { level: 'warn' },
  console: { enabled: true },
  auth: { issuers: [issuerConfig(issuer)], admins: [{ source: TEST_ISSUER, subject: 'root' }] },
  policies: { defaults: { monthlyUsd: 100 }, teams: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`team${i}`, { monthlyUsd: 5000 }])) },
});
const gateway = await createGateway(config, { dbSchema: STORE === 'postgres' ? SCHEMA : undefined, logger: createLogger('warn') });
const base = await gateway.listen(0, '127.0.0.1');
const signin = await fetch(`${base}/console/api/session`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', origin: base },
  body: JSON.stringify({ token: await issuer.sign({ sub: 'root' }) }),
});
if (signin.status !== 200) throw new Error(`sign-in failed: ${signin.status}`);
const cookie = signin.headers.get('set-cookie').split(';')[0];

const time = async (paths) => {
  const t0 = performance.now();
  await Promise.all(
    paths.map(async (p) => {
      const r = await fetch(`${base}/console/api/${p}`, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`${p}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    }),
  );
  return performance.now() - t0;
};

// A page loads these calls together (the usage page asks for all three groupings at once).
const PAGES = [
  ['Usage, last 24 h', ['usage?by=team&period=day', 'usage?by=user&period=day', 'usage?by=model&period=day']],
  ['Usage, last 7 days', ['usage?by=team&period=week', 'usage?by=user&period=week', 'usage?by=model&period=week']],
  ['Usage, last 30 days', ['usage?by=team&period=month', 'usage?by=user&period=month', 'usage?by=model&period=month']],
  ['Budgets (spend today and this month per user and team, refusals)', ['budgets']],
  ['Identities', ['identities']],
  ...SEARCHES.map(([name, filter]) => [`Audit, ${name}`, [`audit?${query(filter)}`]]),
  ['Health (deployments, last hour)', ['health']],
];

const results = [];
for (const [name, paths] of PAGES) {
  await time(paths); // warm-up
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await time(paths));
  runs.sort((a, b) => a - b);
  results.push({ name, median: runs[Math.floor(runs.length / 2)], worst: runs[runs.length - 1] });
  log(`${name}: median ${runs[Math.floor(runs.length / 2)].toFixed(0)} ms`);
}
loads.push(loadavg()[0]);
await gateway.close();
if (!process.env.KEEP_SCHEMA) {
  if (STORE === 'postgres') {
    const c = new pg.Client({ connectionString: URL_ });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await c.end();
  } else {
    rmSync(DIR, { recursive: true, force: true });
  }
}

console.log(`machine: ${cpus().length} × ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${STORE === 'postgres' ? 'PostgreSQL on 127.0.0.1' : `SQLite (better-sqlite3) in ${DIR}`}`);
console.log(`load average (1 min): ${loads[0].toFixed(1)} at the start, ${loads[1].toFixed(1)} after seeding, ${loads[2].toFixed(1)} at the end`);
console.log(`rows: ${Number(counts.usage).toLocaleString('en-US')} usage, ${Number(counts.hourly).toLocaleString('en-US')} + ${Number(counts.daily).toLocaleString('en-US')} + ${Number(counts.user_hourly).toLocaleString('en-US')} + ${Number(counts.user_daily).toLocaleString('en-US')} rollup (team/model hourly, team/model daily, user hourly, user daily), ${Number(counts.audit).toLocaleString('en-US')} audit; ${RUNS} runs after a warm-up\n`);
console.log('| page (its API calls together) | median | worst |');
console.log('| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median.toFixed(0)} ms | ${r.worst.toFixed(0)} ms |`);
