// The console's API against 5 million usage rows in PostgreSQL: every page's calls, timed through the gateway.
//
//   node --conditions=source --import tsx bench/console.mjs
//
// Seeds schema ckg_console_bench (made afresh; dropped at the end, about 7 GB, unless KEEP_SCHEMA=1;
// SKIP_SEED=1 times a kept one again) on
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test): ROWS usage rows (default
// 5,000,000) spread over the last 30 days, 2,000 users in 40 teams, 4 models, ~1% 429s, ~0.5% 403s,
// ~0.4% 529s; the rollups built as migration 4 builds them; an audit row per request (bodies as
// the gateway writes them, each usage row pointing at its entry, hashes not chained: search speed is measured, not verification). Then a
// gateway with the console on that schema answers each call RUNS times (after one warm-up); the
// median and worst are printed as a Markdown table for docs/benchmarks.md.
import { cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// pg is the gateway's dependency, not the repo root's.
const pg = createRequire(join(ROOT, 'packages/gateway/package.json'))('pg');
const { createGateway } = await import(join(ROOT, 'packages/gateway/src/gateway.ts'));
const { parseConfig } = await import(join(ROOT, 'packages/gateway/src/config.ts'));
const { createLogger } = await import(join(ROOT, 'packages/gateway/src/log.ts'));
const { createTestIssuer, issuerConfig, TEST_ISSUER } = await import(join(ROOT, 'packages/gateway/src/test-support/keys.ts'));

const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'ckg_console_bench';
const ROWS = Number(process.env.ROWS ?? 5_000_000);
const CHUNK = 250_000;
const RUNS = Number(process.env.RUNS ?? 7);

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const client = new pg.Client({ connectionString: URL_, options: `-c search_path=${SCHEMA}` });
await client.connect();

if (!process.env.SKIP_SEED) {
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await client.query(`CREATE SCHEMA ${SCHEMA}`);
  // The gateway's own migrations make the tables and indexes (its store opens and migrates).
  const { Store } = await import(join(ROOT, 'packages/gateway/src/store/store.ts'));
  const store = await Store.open({ url: URL_, path: 'memory://', schema: SCHEMA });
  await store.close();
  const t0 = performance.now();
  for (let start = 1; start <= ROWS; start += CHUNK) {
    const end = Math.min(start + CHUNK - 1, ROWS);
    await client.query(
      `INSERT INTO usage_records (request_id, ts, user_id, team_id, credential_id, model, format, upstream, deployment, status,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms, audit_seq)
       SELECT 'bench-' || g, now() - random() * interval '30 days', 'user' || (g % 2000), 'team' || (g % 2000 % 40), 'jti:bench-' || g,
              (ARRAY['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'claude-sonnet-4'])[1 + g % 4],
              'anthropic:messages', 'anthropic', 'anthropic/claude', CASE WHEN g % 100 = 0 THEN 429 WHEN g % 200 = 1 THEN 403 WHEN g % 250 = 2 THEN 529 ELSE 200 END,
              1000 + g % 5000, 100 + g % 900, g % 3000, 0, (g % 1000) / 10000.0, 200 + g % 3000, g
         FROM generate_series($1::bigint, $2::bigint) g`,
      [start, end],
    );
    log(`usage rows ${end.toLocaleString('en-US')}`);
  }
  const seedMs = performance.now() - t0;
  // The rollups, by the statements migration 4 runs on an existing table.
  const t1 = performance.now();
  const { MIGRATIONS } = await import(join(ROOT, 'packages/gateway/src/store/migrations.ts'));
  for (const sql of MIGRATIONS.find((m) => m.version === 4).sql.filter((q) => q.startsWith('INSERT INTO usage_'))) await client.query(sql);
  const rollupMs = performance.now() - t1;
  log(`rollup built in ${(rollupMs / 1000).toFixed(1)} s`);
  const t2 = performance.now();
  await client.query(`INSERT INTO audit_log (seq, prev_hash, hash, body)
      SELECT audit_seq, md5(request_id), md5(request_id || 'x'),
             '{"time":"' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '","requestId":"' || request_id ||
             '","user":"' || user_id || '","team":"' || team_id || '","credentialId":"' || credential_id || '","model":"' || model ||
             '","format":"anthropic:messages","upstream":"anthropic","deployment":"anthropic/claude","status":' || status ||
             ',"inputTokens":' || input_tokens || ',"outputTokens":' || output_tokens || ',"cacheReadTokens":' || cache_read_tokens ||
             ',"cacheWriteTokens":0,"costUsd":' || cost_usd || ',"latencyMs":' || latency_ms || ',"clientAddress":"10.0.0.1","userAgent":"claude-cli/2.1.328"}'
        FROM usage_records`);
  log(`audit rows in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  // The head follows the last row, so the console's own audit records (sign-in) extend the log.
  await client.query(`INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`);
  await client.query(`VACUUM ANALYZE`);
  log(`seeded ${ROWS.toLocaleString('en-US')} rows: usage ${(seedMs / 1000).toFixed(0)} s, rollup ${(rollupMs / 1000).toFixed(1)} s`);
}

const counts = (await client.query(`SELECT (SELECT count(*) FROM usage_records) AS usage, (SELECT count(*) FROM usage_hourly) AS hourly, (SELECT count(*) FROM usage_daily) AS daily, (SELECT count(*) FROM usage_user_hourly) AS user_hourly, (SELECT count(*) FROM usage_user_daily) AS user_daily, (SELECT count(*) FROM audit_log) AS audit`)).rows[0];
await client.end();

const issuer = await createTestIssuer();
const config = parseConfig({
  listen: { host: '127.0.0.1', port: 0 },
  store: { url: URL_ },
  log: { level: 'warn' },
  console: { enabled: true },
  auth: { issuers: [issuerConfig(issuer)], admins: [{ source: TEST_ISSUER, subject: 'root' }] },
  policies: { defaults: { monthlyUsd: 100 }, teams: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`team${i}`, { monthlyUsd: 5000 }])) },
});
const gateway = await createGateway(config, { dbSchema: SCHEMA, logger: createLogger('warn') });
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
  ['Audit, newest 200', ['audit']],
  ['Audit, one user', ['audit?user=user1234']],
  ['Audit, one team and model', ['audit?team=team7&model=claude-sonnet-4']],
  ['Audit, a team and model that never met (every row of the team is read)', ['audit?team=team7&model=claude-opus-4-1']],
  ['Audit, one user and status 429', ['audit?user=user1200&status=429']],
  ['Audit, last hour', [`audit?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`]],
  ['Audit, status 429', ['audit?status=429']],
  ['Audit, status 401 (none in the data)', ['audit?status=401']],
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
await gateway.close();
if (!process.env.KEEP_SCHEMA) {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await c.end();
}

console.log(`machine: ${cpus().length} × ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, PostgreSQL on 127.0.0.1`);
console.log(`rows: ${Number(counts.usage).toLocaleString('en-US')} usage, ${Number(counts.hourly).toLocaleString('en-US')} + ${Number(counts.daily).toLocaleString('en-US')} + ${Number(counts.user_hourly).toLocaleString('en-US')} + ${Number(counts.user_daily).toLocaleString('en-US')} rollup (team/model hourly, team/model daily, user hourly, user daily), ${Number(counts.audit).toLocaleString('en-US')} audit; ${RUNS} runs after a warm-up\n`);
console.log('| page (its API calls together) | median | worst |');
console.log('| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median.toFixed(0)} ms | ${r.worst.toFixed(0)} ms |`);
