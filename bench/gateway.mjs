// Gateway benchmark: direct to the mock, through claude-key-gateway, through Portkey's gateway, JSON and SSE.
//
//   node --conditions=source --import tsx bench/gateway.mjs [--seconds 10] [--rate 500]
//   taskset -c 0 node --conditions=source --import tsx bench/gateway.mjs --jwt   (JWT verification on one core)
//   node --conditions=source --import tsx bench/gateway.mjs --formats            (added latency per inbound format)
//   node --conditions=source --import tsx bench/gateway.mjs --journal            (the record journal's cost on added latency, beside a bare Node proxy; --no-floor without it; --rounds N;
//                                                                                 --slices N: each target in N turns of SECONDS / N, alternating; --warmup S per target, default 2)
//   ... [--modes json,sse,big] [--targets 'claude-key-gateway'] [--journals off,fsync]   (a subset; big: the 85 KB body)
//   node bench/gateway.mjs --rss                                                 (idle and loaded RSS per store, built dist/)
//   node bench/gateway.mjs --streams 1000                                        (concurrent streams against maxInFlight, and small requests meanwhile; built dist/)
//   node bench/gateway.mjs --gc [--rounds 3] [--modes json,sse] [--dists dist,dist-old]   (young-generation GC of the built gateway under load, beside the bare proxy;
//                                                                                 --dists: copies of packages/gateway/dist to compare, alternating within each round;
//                                                                                 an entry may add Node flags after a colon: 'dist:--max-semi-space-size=32')
//   node bench/gateway.mjs --gaps [--seconds 20]                                 (event-loop gaps of the built gateway and of the bare proxy under load, and how often
//                                                                                 they recur: tells the machine's periodic stalls from the gateway's own)
//
// Every server runs as its own process on 127.0.0.1. Two measurements per target and mode:
//  - latency at a fixed open-loop rate (default 500 req/s), timed per request with hrtime
//    (autocannon reports whole milliseconds, too coarse for a 1 ms budget);
//  - throughput with autocannon (50 connections, as fast as the server answers).
// Then JWT verification per second on one core with cached keys.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  // The usage is the comment at the top of this file: print it rather than keep a second copy.
  const head = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  process.stdout.write(`${head.slice(0, head.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}
const requireGw = createRequire(join(ROOT, 'packages/gateway/package.json'));
const autocannon = requireGw('autocannon');
const { Pool } = requireGw('undici');
const { generateKeyPair, exportJWK, SignJWT } = await import(requireGw.resolve('jose'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const SECONDS = arg('seconds', 10);
const listArg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1].split(',');
};
const RATE = arg('rate', 500);
const children = [];

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitUp(url) {
  for (let i = 0; i < 600; i++) { // up to 60 s: the embedded store starts slowly on a loaded machine
    try {
      await fetch(url); // any HTTP answer means the server is listening
      return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

function start(args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

const smallBody = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }] });
const bigBody = JSON.stringify({
  model: 'claude-sonnet-4-5-20250929',
  max_tokens: 64,
  system: [{ type: 'text', text: 'tool documentation '.repeat(4500), cache_control: { type: 'ephemeral' } }],
  context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
  messages: [{ role: 'user', content: 'Say hello' }],
});
const withStream = (body) => JSON.stringify({ ...JSON.parse(body), stream: true });
// `--modes json,big` picks modes by key (a mode's name has a comma in it); `--modes JSON,SSE` still works.
const pickedModes = (picked) => MODES.filter((m) => !picked || picked.includes(m.key) || picked.includes(m.name));
const MODES = [
  { key: 'json', name: 'JSON', body: smallBody },
  { key: 'sse', name: 'SSE', body: withStream(smallBody) },
  { key: 'big', name: 'JSON, 85 KB body', body: bigBody },
];

/**
 * Open-loop: one request every 1000/rate ms regardless of answers; latency = send to last byte.
 * `warmPool`: connections opened earlier (see openPool) and left open, for a run in slices.
 */
async function latencyAtRate(url, headers, body, rate, seconds, warmPool) {
  const pool = warmPool ?? (await openPool(url, headers, body));
  const total = Math.round(rate * seconds);
  const samples = [];
  let errors = 0;
  const path = new URL(url).pathname + new URL(url).search;
  const startAt = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = startAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    inflight.push(
      pool
        .request({ path, method: 'POST', headers, body })
        .then(async (res) => {
          await res.body.text();
          if (res.statusCode !== 200) errors++;
          samples.push(performance.now() - t0);
        })
        .catch(() => errors++),
    );
  }
  await Promise.all(inflight);
  if (!warmPool) await pool.close();
  return summary(samples, errors);
}

/** A pool with its 64 connections open: TCP set-up is not what is being measured. */
async function openPool(url, headers, body) {
  const pool = new Pool(new URL(url).origin, { connections: 64 });
  const path = new URL(url).pathname + new URL(url).search;
  await Promise.all(Array.from({ length: 64 }, () => pool.request({ path, method: 'POST', headers, body }).then((r) => r.body.text())));
  return pool;
}

/** Percentiles of latency samples (ms); `samples` kept so that several runs can be merged. */
function summary(samples, errors) {
  samples.sort((a, b) => a - b);
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
  return { n: samples.length, errors, p50: pct(50), p90: pct(90), p99: pct(99), samples };
}

function throughput(url, headers, body, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', headers, body, connections: 50, duration: seconds }, (err, res) => {
      if (err) return reject(err);
      resolve({ rps: res.requests.average, p50: res.latency.p50, p99: res.latency.p99, non2xx: res.non2xx, errors: res.errors });
    });
  });
}

async function jwtVerifyRate() {
  const { JwtVerifier } = await import(join(ROOT, 'packages/gateway/src/auth/jwt.ts'));
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-jwt-'));
  const out = {};
  for (const [alg, opts] of [['ES256', {}], ['EdDSA', { crv: 'Ed25519' }], ['RS256', { modulusLength: 2048 }]]) {
    const { privateKey, publicKey } = await generateKeyPair(alg, opts);
    const file = join(dir, `${alg}.json`);
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: alg, alg }] }));
    const now = Math.floor(Date.now() / 1000);
    const tokens = [];
    for (let i = 0; i < 5000; i++) {
      tokens.push(await new SignJWT({ sub: `u${i}`, team: 'eng', jti: `j${i}` }).setProtectedHeader({ alg, kid: alg }).setIssuer('https://bench').setAudience('gw').setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey));
    }
    const issuer = { issuer: 'https://bench', audience: 'gw', jwksFile: file, discovery: false, algorithms: [alg], claims: { user: 'sub', team: 'team' }, jwksCooldownMs: 30000 };
    // Distinct tokens, verified-token cache too small to help: every call checks a signature with the cached key.
    const cold = new JwtVerifier([issuer], { skewSeconds: 30, now: Date.now, knownTeams: new Set(), cacheSize: 1 });
    cold.preload();
    for (const t of tokens.slice(0, 500)) await cold.verify(t);
    let t0 = performance.now();
    for (const t of tokens) await cold.verify(t);
    const signatureRate = tokens.length / ((performance.now() - t0) / 1000);
    // As a busy server sees them: 16 verifications outstanding at once (WebCrypto work overlaps the event loop).
    t0 = performance.now();
    for (let i = 0; i < tokens.length; i += 16) await Promise.all(tokens.slice(i, i + 16).map((t) => cold.verify(t)));
    const concurrentRate = tokens.length / ((performance.now() - t0) / 1000);
    // The same token again (what Claude Code sends until its helper runs again): served from the verified-token cache.
    const warm = new JwtVerifier([issuer], { skewSeconds: 30, now: Date.now, knownTeams: new Set() });
    warm.preload();
    await warm.verify(tokens[0]);
    t0 = performance.now();
    for (let i = 0; i < 200000; i++) await warm.verify(tokens[0]);
    const cachedRate = 200000 / ((performance.now() - t0) / 1000);
    out[alg] = { signatureRate, concurrentRate, cachedRate };
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Starts the standalone mock and writes a gateway config (ES256 issuer, mock upstream) plus `extra` YAML lines. */
async function mockAndGatewayConfig(dir, extra = []) {
  const mockPort = await freePort();
  const mockUrl = `http://127.0.0.1:${mockPort}`;
  start(['--conditions=source', '--import', 'tsx', 'packages/gateway/src/bin.ts', 'mock', '--port', String(mockPort)]);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' }] }));
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: 'bench-user', team: 'bench', jti: 'bench-1' }).setProtectedHeader({ alg: 'ES256', kid: 'bench' }).setIssuer('https://bench').setAudience('claude-key-gateway').setIssuedAt(now).setExpirationTime(now + 7200).sign(privateKey);
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    [
      'listen: { host: 127.0.0.1 }',
      `upstreams: { mock: { type: mock, url: "${mockUrl}" } }`,
      `auth: { issuers: [ { issuer: "https://bench", audience: claude-key-gateway, jwksFile: ./jwks.json, algorithms: [ES256] } ] }`,
      `store: { path: ./data, flushIntervalMs: ${arg('flush-ms', 250)} }`,
      'log: { level: info }',
      ...extra,
    ].join('\n'),
  );
  return { mockUrl, token, configFile };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-'));
  const [gwPort, pkPort] = [await freePort(), await freePort()];
  const { mockUrl, token } = await mockAndGatewayConfig(dir);
  const gatewayFlags = process.env.GATEWAY_NODE_FLAGS ? process.env.GATEWAY_NODE_FLAGS.split(' ') : [];
  start([...gatewayFlags, '--conditions=source', '--import', 'tsx', 'packages/gateway/src/bin.ts', 'serve', '--config', join(dir, 'gateway.yaml'), '--port', String(gwPort)]);
  const portkey = requireGw.resolve('@portkey-ai/gateway/package.json').replace('package.json', 'build/start-server.js');
  start(['--import', './bench/loopback-only.mjs', '--import', './bench/portkey-node-fix.mjs', portkey, `--port=${pkPort}`, '--headless'], { NODE_ENV: 'production' });
  await Promise.all([waitUp(mockUrl), waitUp(`http://127.0.0.1:${gwPort}/healthz`), waitUp(`http://127.0.0.1:${pkPort}/`)]);

  const base = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  const targets = [
    { name: 'direct (mock)', url: `${mockUrl}/v1/messages`, headers: { ...base, 'x-api-key': 'bench' } },
    { name: 'claude-key-gateway', url: `http://127.0.0.1:${gwPort}/v1/messages`, headers: { ...base, authorization: `Bearer ${token}`, 'x-api-key': token } },
    {
      name: 'Portkey gateway',
      url: `http://127.0.0.1:${pkPort}/v1/messages`,
      headers: { ...base, 'x-api-key': 'bench', 'x-portkey-provider': 'anthropic', 'x-portkey-custom-host': `${mockUrl}/v1` },
    },
  ];

  const rows = [];
  const onlyModes = listArg('modes');
  const onlyTargets = listArg('targets');
  for (const mode of pickedModes(onlyModes)) {
    for (const t of targets.filter((x, i) => i === 0 || !onlyTargets || onlyTargets.includes(x.name))) {
      await throughput(t.url, t.headers, mode.body, 2); // warm-up: JIT, keep-alive pools
      const lat = await latencyAtRate(t.url, t.headers, mode.body, RATE, SECONDS);
      const thr = await throughput(t.url, t.headers, mode.body, SECONDS);
      rows.push({ mode: mode.name, target: t.name, lat, thr });
      process.stderr.write(`${mode.name} ${t.name}: p50 ${lat.p50.toFixed(3)} ms p99 ${lat.p99.toFixed(3)} ms, ${thr.rps.toFixed(0)} req/s\n`);
    }
  }

  const direct = (mode) => rows.find((r) => r.mode === mode && r.target === 'direct (mock)').lat;
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
    `Latency: open loop at ${RATE} req/s for ${SECONDS} s, request sent to last byte read. Throughput: autocannon, 50 connections, ${SECONDS} s.`,
    '',
    '| mode | target | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | throughput req/s | autocannon p99 ms | non-2xx |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const d = direct(r.mode);
      const added = r.target === 'direct (mock)' ? ['-', '-'] : [(r.lat.p50 - d.p50).toFixed(3), (r.lat.p99 - d.p99).toFixed(3)];
      return `| ${r.mode} | ${r.target} | ${r.lat.p50.toFixed(3)} | ${r.lat.p99.toFixed(3)} | ${added[0]} | ${added[1]} | ${r.lat.errors} | ${r.thr.rps.toFixed(0)} | ${r.thr.p99} | ${r.thr.non2xx} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

async function mainJwt() {
  const jwt = await jwtVerifyRate();
  const lines = [
    `JWT verification, ${cpus()[0].model}, Node ${process.version}, CPU affinity: ${process.env.BENCH_AFFINITY ?? 'as launched'}.`,
    '',
    '| algorithm | distinct tokens, one at a time /s | distinct tokens, 16 outstanding /s | repeated token (verified-token cache) /s |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(jwt).map(([alg, r]) => `| ${alg} | ${r.signatureRate.toFixed(0)} | ${r.concurrentRate.toFixed(0)} | ${r.cachedRate.toFixed(0)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The same gateway with the record journal off and on (fsync'd group commits before each answer ends). */
async function mainJournal() {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-journal-'));
  const { mockUrl, token } = await mockAndGatewayConfig(dir);
  const gateways = [];
  const onlyModes = listArg('modes');
  const onlyJournals = listArg('journals');
  for (const mode of ['off', 'write', 'fsync'].filter((m) => !onlyJournals || onlyJournals.includes(m))) {
    const sub = join(dir, mode);
    const port = await freePort();
    const config = join(dir, `gateway-${mode}.yaml`);
    const journal = mode === 'off' ? 'journal: off' : `journal: ${sub}/journal, journalSync: ${mode}`;
    const text = readFileSync(join(dir, 'gateway.yaml'), 'utf8').replace(/store: \{ path: \.\/data,/, `store: { path: ${sub}/data, ${journal},`);
    writeFileSync(config, text);
    start(['--conditions=source', '--import', 'tsx', 'packages/gateway/src/bin.ts', 'serve', '--config', config, '--port', String(port)]);
    gateways.push({ name: mode === 'off' ? 'gateway, journal off' : `gateway, journalSync: ${mode}`, url: `http://127.0.0.1:${port}` });
  }
  // The floor: a bare Node proxy (bench/bare-proxy.mjs) through the same loopback, in the same run.
  const barePort = await freePort();
  start(['bench/bare-proxy.mjs', String(barePort), mockUrl]);
  const bare = { name: 'floor: bare Node proxy', url: `http://127.0.0.1:${barePort}/v1/messages` };
  await Promise.all([waitUp(mockUrl), waitUp(bare.url), ...gateways.map((g) => waitUp(`${g.url}/healthz`))]);
  const base = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  const rows = [];
  const rounds = arg('rounds', 1);
  for (let round = 1; round <= rounds; round++) for (const mode of pickedModes(onlyModes)) {
    const targets = [
      { name: 'direct (mock)', url: `${mockUrl}/v1/messages`, headers: { ...base, 'x-api-key': 'bench' } },
      ...(process.argv.includes('--no-floor') ? [] : [{ ...bare, headers: base }]),
      ...gateways.map((g) => ({ name: g.name, url: `${g.url}/v1/messages`, headers: { ...base, 'x-api-key': token } })),
    ];
    // --slices N: each target is measured in N slices of SECONDS / N, taken in turn, so that a
    // burst of the host's noise (seconds long on a shared machine) falls on every target alike
    // instead of on whichever one was being measured at the time. Warm-ups: all first in slices,
    // else each right before its target's run (as before slices existed).
    const slices = arg('slices', 1);
    // --warmup S (default 2): the gateway has far more code for V8 to compile than the bare proxy;
    // its optimizing compiles go on for about 10 s at 500 req/s (--trace-opt), into a short warm-up.
    const warmUp = (t) => latencyAtRate(t.url, t.headers, mode.body, RATE, arg('warmup', 2));
    if (slices > 1) for (const t of targets) await warmUp(t);
    const merged = new Map(targets.map((t) => [t, { samples: [], errors: 0 }]));
    const pools = new Map();
    if (slices > 1) for (const t of targets) pools.set(t, await openPool(t.url, t.headers, mode.body));
    for (let slice = 0; slice < slices; slice++) {
      for (const t of slice % 2 ? [...targets].reverse() : targets) {
        if (slices === 1) await warmUp(t);
        const part = await latencyAtRate(t.url, t.headers, mode.body, RATE, SECONDS / slices, pools.get(t));
        merged.get(t).samples.push(...part.samples);
        merged.get(t).errors += part.errors;
        if (slices === 1) await new Promise((r) => setTimeout(r, 1000)); // let the store catch up before the next run
      }
    }
    await Promise.all([...pools.values()].map((p) => p.close()));
    for (const t of targets) {
      const lat = summary(merged.get(t).samples, merged.get(t).errors);
      rows.push({ round, mode: mode.name, target: t.name, lat });
      process.stderr.write(`${round}: ${mode.name} ${t.name}: p50 ${lat.p50.toFixed(3)} ms p99 ${lat.p99.toFixed(3)} ms\n`);
    }
  }
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${new Date().toISOString()}. Open loop at ${RATE} req/s for ${SECONDS} s per target${arg('slices', 1) > 1 ? ` in ${arg('slices', 1)} slices taken in turn` : ''}${rounds > 1 ? `, ${rounds} rounds` : ''}.`,
    '',
    '| round | mode | target | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const d = rows.find((x) => x.round === r.round && x.mode === r.mode && x.target === 'direct (mock)').lat;
      const added = r.target === 'direct (mock)' ? ['-', '-'] : [(r.lat.p50 - d.p50).toFixed(3), (r.lat.p99 - d.p99).toFixed(3)];
      return `| ${r.round} | ${r.mode} | ${r.target} | ${r.lat.p50.toFixed(3)} | ${r.lat.p99.toFixed(3)} | ${added[0]} | ${added[1]} | ${r.lat.errors} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

/** RSS of the built gateway (dist/, as deployed) per embedded store: idle after start, then after 2000 requests. */
async function mainRss() {
  const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-rss-'));
  const { mockUrl, token } = await mockAndGatewayConfig(dir);
  await waitUp(mockUrl);
  const rows = [];
  for (const engine of ['sqlite', 'pglite']) {
    const config = join(dir, `gateway-${engine}.yaml`);
    writeFileSync(config, readFileSync(join(dir, 'gateway.yaml'), 'utf8').replace(/store: \{ path: \.\/data,/, `store: { path: ./data-${engine}, engine: ${engine},`));
    const port = await freePort();
    const child = start(['packages/gateway/dist/bin.js', 'serve', '--config', config, '--port', String(port)]);
    const url = `http://127.0.0.1:${port}`;
    await waitUp(`${url}/healthz`);
    await new Promise((r) => setTimeout(r, 5000));
    const idle = rssOf(child.pid);
    const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': token };
    await latencyAtRate(`${url}/v1/messages`, headers, smallBody, 500, 4); // 2000 requests
    await new Promise((r) => setTimeout(r, 3000));
    const loaded = rssOf(child.pid);
    rows.push({ engine, idle, loaded });
    process.stderr.write(`${engine}: idle ${idle.toFixed(0)} MiB, after 2000 requests ${loaded.toFixed(0)} MiB\n`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${new Date().toISOString()}. Gateway from dist/, mock upstream, ES256 JWT.`,
    '',
    '| embedded store | idle RSS MiB | RSS after 2000 requests MiB |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.engine} | ${r.idle.toFixed(0)} | ${r.loaded.toFixed(0)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

/** N concurrent slow SSE streams at once, with maxInFlight at the default 256 and above N: answered or refused, never hung. */
/** Streams held open ~4.5 s (15 events this far apart), and the small requests sent meanwhile. */
const STREAM_EVENT_MS = 300;
const SMALL_RATE = 50;

async function mainStreams() {
  const N = arg('streams', 1000);
  const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-streams-'));
  const { mockUrl, token } = await mockAndGatewayConfig(dir);
  await waitUp(mockUrl);
  const rows = [];
  // Each stream's events as the mock sends them (read once, directly): a stream relayed whole has as many.
  const direct = await fetch(`${mockUrl}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'bench', 'x-mock-delay-ms': '1' }, body: withStream(smallBody) });
  const expectedEvents = (await direct.text()).split('\nevent: ').length;
  for (const maxInFlight of [256, N + 24]) {
    const config = join(dir, `gateway-${maxInFlight}.yaml`);
    writeFileSync(config, readFileSync(join(dir, 'gateway.yaml'), 'utf8').replace(/upstreams: \{ mock: \{ type: mock, url: "([^"]+)" \} \}/, `upstreams: { mock: { type: mock, url: "$1", maxInFlight: ${maxInFlight} } }`));
    const port = await freePort();
    const child = start(['packages/gateway/dist/bin.js', 'serve', '--config', config, '--port', String(port)]);
    const url = `http://127.0.0.1:${port}`;
    await waitUp(`${url}/healthz`);
    const pool = new Pool(url, { connections: N + 10 });
    const body = withStream(smallBody);
    const small = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': token };
    // Small requests alone first: the baseline their p50 under the streams is compared with.
    const alone = maxInFlight === N + 24 ? await latencyAtRate(`${url}/v1/messages`, small, smallBody, SMALL_RATE, 3) : undefined;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 100);
    const t0 = performance.now();
    const streams = Promise.all(
      Array.from({ length: N }, async () => {
        const s = performance.now();
        try {
          const r = await pool.request({ path: '/v1/messages', method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': token, 'x-mock-delay-ms': String(STREAM_EVENT_MS) }, body, headersTimeout: 120_000, bodyTimeout: 120_000 });
          const text = await r.body.text();
          return { status: r.statusCode, complete: text.includes('message_stop'), events: text.split('\nevent: ').length, ms: performance.now() - s };
        } catch {
          return { status: 0, complete: false, events: 0, ms: performance.now() - s };
        }
      }),
    );
    // Small requests while the streams are open: once they are all under way, for 3 s of their ~4.5 s.
    let during;
    if (alone) {
      await new Promise((r) => setTimeout(r, 2000));
      during = await latencyAtRate(`${url}/v1/messages`, small, smallBody, SMALL_RATE, 3);
    }
    const results = await streams;
    const wall = performance.now() - t0;
    clearInterval(sampler);
    await pool.close();
    const served = results.filter((r) => r.status === 200 && r.complete);
    const refused = results.filter((r) => r.status === 529);
    const ms = served.map((r) => r.ms).sort((a, b) => a - b);
    const refusedMs = refused.map((r) => r.ms).sort((a, b) => a - b);
    const everyEvent = served.filter((r) => r.events === expectedEvents).length;
    rows.push({ maxInFlight, served: served.length, everyEvent, refused: refused.length, other: N - served.length - refused.length, p50: ms[Math.floor(ms.length / 2)], refusedP50: refusedMs[Math.floor(refusedMs.length / 2)], wall, peak, alone, during });
    process.stderr.write(`maxInFlight ${maxInFlight}: ${served.length} served, ${refused.length} refused (529), wall ${wall.toFixed(0)} ms, peak RSS ${peak.toFixed(0)} MiB\n`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${new Date().toISOString()}. ${N} concurrent SSE streams (mock: ${expectedEvents} events, ${STREAM_EVENT_MS} ms apart), gateway from dist/.`,
    '',
    '| maxInFlight | served complete | with every event | refused 529 | other | served p50 ms | refused p50 ms | wall ms | peak RSS MiB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.maxInFlight} | ${r.served} | ${r.everyEvent} | ${r.refused} | ${r.other} | ${r.p50?.toFixed(0) ?? '-'} | ${r.refusedP50?.toFixed(1) ?? '-'} | ${r.wall.toFixed(0)} | ${r.peak.toFixed(0)} |`),
    '',
    `Small JSON requests at ${SMALL_RATE} req/s for 3 s, alone and while the ${N} streams are open (maxInFlight above the load):`,
    '',
    '| small requests | p50 ms | p90 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.filter((r) => r.alone).flatMap((r) => [['alone', r.alone], [`during ${N} streams`, r.during]].map(([name, l]) => `| ${name} | ${l.p50.toFixed(3)} | ${l.p90.toFixed(3)} | ${l.p99.toFixed(3)} | ${l.errors} |`)),
    ...rows.filter((r) => r.alone).map((r) => `\nAdded p50 under the streams: ${(r.during.p50 - r.alone.p50).toFixed(3)} ms.`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What the young-generation collector does in the gateway's main thread at 500 req/s: a scavenge
 * stops the event loop, so its pauses are part of the tail. `--trace-gc-nvp` on each server; the
 * main thread is the isolate that allocated most (the store worker allocates about a third as much).
 * "kept" is what a scavenge found alive and copied, "promoted" what it moved to the old generation:
 * objects of finished requests still reachable at a scavenge show up in both.
 */
async function mainGc() {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-gc-'));
  const { mockUrl, token, configFile } = await mockAndGatewayConfig(dir);
  const servers = [];
  const traced = (name, args) => {
    const child = spawn(process.execPath, ['--trace-gc-nvp', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const server = { name, lines: undefined, child };
    let rest = '';
    child.stdout.on('data', (data) => {
      const text = rest + data;
      const cut = text.lastIndexOf('\n');
      rest = text.slice(cut + 1);
      if (server.lines) for (const line of text.slice(0, cut).split('\n')) if (line.includes(' gc=')) server.lines.push(line);
    });
    servers.push(server);
    return server;
  };
  if (!process.argv.includes('--no-floor')) {
    const port = await freePort();
    traced('floor: bare Node proxy', ['bench/bare-proxy.mjs', String(port), mockUrl]).url = `http://127.0.0.1:${port}/v1/messages`;
  }
  // An entry of --dists may carry Node flags after a colon: 'dist:--max-semi-space-size=32 --min-semi-space-size=32'.
  for (const entry of listArg('dists') ?? ['dist']) {
    const [dist, flags = ''] = entry.split(':');
    const port = await freePort();
    const name = `gateway (${dist}/${flags ? ` ${flags}` : ''})`;
    traced(name, [...flags.split(' ').filter(Boolean), `packages/gateway/${dist}/bin.js`, 'serve', '--config', configFile, '--port', String(port)]).url = `http://127.0.0.1:${port}/v1/messages`;
  }
  await Promise.all([waitUp(mockUrl), ...servers.map((s) => waitUp(s.url))]);
  const base = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  const field = (line, name) => Number(new RegExp(`\\s${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  const rows = [];
  const rounds = arg('rounds', 3);
  for (let round = 1; round <= rounds; round++) for (const mode of pickedModes(listArg('modes') ?? ['json', 'sse'])) {
    const direct = await latencyAtRate(`${mockUrl}/v1/messages`, { ...base, 'x-api-key': 'bench' }, mode.body, RATE, SECONDS);
    // Alternate the order each round, so that no server is always measured first.
    for (const server of round % 2 ? servers : [...servers].reverse()) {
      await latencyAtRate(server.url, { ...base, 'x-api-key': token }, mode.body, RATE, 2); // warm-up
      server.lines = [];
      const lat = await latencyAtRate(server.url, { ...base, 'x-api-key': token }, mode.body, RATE, SECONDS);
      const byIsolate = new Map();
      for (const line of server.lines) {
        const isolate = /^\[\d+:(0x[0-9a-f]+)\]/.exec(line)?.[1];
        if (!byIsolate.has(isolate)) byIsolate.set(isolate, []);
        byIsolate.get(isolate).push(line);
      }
      server.lines = undefined;
      const allocated = (lines) => lines.reduce((sum, l) => sum + field(l, 'allocated'), 0);
      const main = [...byIsolate.values()].sort((a, b) => allocated(b) - allocated(a))[0] ?? [];
      const scavenges = main.filter((l) => l.includes(' gc=s '));
      const pauses = main.map((l) => field(l, 'pause'));
      const mean = (list, name) => list.reduce((sum, l) => sum + field(l, name), 0) / Math.max(list.length, 1);
      const row = {
        round, mode: mode.name, target: server.name, lat, direct,
        allocKiB: allocated(main) / lat.n / 1024,
        scavenges: scavenges.length,
        keptKB: mean(scavenges, 'new_space_survived') / 1024,
        promotedKB: mean(scavenges, 'promoted') / 1024,
        meanPause: mean(scavenges, 'pause'),
        longest: Math.max(0, ...pauses),
        totalPause: pauses.reduce((a, b) => a + b, 0),
        fullGcs: main.filter((l) => l.includes(' gc=mc ')).length,
      };
      rows.push(row);
      process.stderr.write(`${round}: ${mode.name} ${server.name}: added p50 ${(lat.p50 - direct.p50).toFixed(3)} p99 ${(lat.p99 - direct.p99).toFixed(3)} ms; ${row.scavenges} scavenges, kept ${row.keptKB.toFixed(0)} KB, promoted ${row.promotedKB.toFixed(0)} KB, mean pause ${row.meanPause.toFixed(2)} ms\n`);
    }
  }
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${new Date().toISOString()}. Open loop at ${RATE} req/s for ${SECONDS} s per row, the direct path measured before each mode of each round; main thread only.`,
    '',
    '| round | mode | target | added p50 ms | added p99 ms | allocated KiB / request | scavenges | kept KB / scavenge | promoted KB / scavenge | mean scavenge ms | longest pause ms | all pauses ms | full GCs |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.round} | ${r.mode} | ${r.target} | ${(r.lat.p50 - r.direct.p50).toFixed(3)} | ${(r.lat.p99 - r.direct.p99).toFixed(3)} | ${r.allocKiB.toFixed(1)} | ${r.scavenges} | ${r.keptKB.toFixed(0)} | ${r.promotedKB.toFixed(0)} | ${r.meanPause.toFixed(2)} | ${r.longest.toFixed(1)} | ${r.totalPause.toFixed(0)} | ${r.fullGcs} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Where the tail comes from: each server runs with bench/loop-gap-watch.mjs preloaded, which notes
 * every stretch of more than 4 ms in which its event loop could not run. Served at RATE for SECONDS,
 * one server after the other. A gap that recurs at a fixed interval in the bare proxy as well as in
 * the gateway is the machine's (on this one, the kernel's DAMON memory monitor, whose pass over
 * memory every `sample_us` takes one of the two CPUs for 5 to 10 ms). Gaps the gateway has beyond
 * the proxy's are its own, or its greater exposure to a stolen vCPU (a busier thread is caught more
 * often); docs/benchmarks.md shows how perf tells the two apart. DAMON's settings are printed when
 * the kernel has them.
 */
async function mainGaps() {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-gaps-'));
  const { mockUrl, token, configFile } = await mockAndGatewayConfig(dir);
  const watch = ['--import', './bench/loop-gap-watch.mjs'];
  const servers = [];
  const watched = (name, args, url) => {
    const file = join(dir, `gaps-${servers.length}.json`);
    servers.push({ name, file, url, child: start([...watch, ...args], { LOOP_GAPS_FILE: file }) });
  };
  const [barePort, gwPort] = [await freePort(), await freePort()];
  watched('floor: bare Node proxy', ['bench/bare-proxy.mjs', String(barePort), mockUrl], `http://127.0.0.1:${barePort}/v1/messages`);
  watched('gateway (dist/)', ['packages/gateway/dist/bin.js', 'serve', '--config', configFile, '--port', String(gwPort)], `http://127.0.0.1:${gwPort}/v1/messages`);
  await Promise.all([waitUp(mockUrl), ...servers.map((s) => waitUp(s.url))]);
  const base = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
  const rows = [];
  for (const server of servers) {
    const headers = { ...base, 'x-api-key': token };
    await latencyAtRate(server.url, headers, smallBody, RATE, 3); // warm-up, JIT included
    const from = monoMs();
    const lat = await latencyAtRate(server.url, headers, smallBody, RATE, SECONDS);
    const to = monoMs();
    server.child.kill('SIGUSR2');
    let gaps;
    for (let i = 0; i < 50 && !gaps; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        gaps = JSON.parse(readFileSync(server.file, 'utf8')).filter(([at]) => at >= from && at <= to);
      } catch {}
    }
    if (!gaps) throw new Error(`${server.name} wrote no gaps to ${server.file}`);
    // Gaps less than 50 ms apart are one stall; the interval that recurs is the most common spacing
    // between the starts of consecutive stalls, in 10 ms bins.
    const stalls = gaps.filter((g, i) => i === 0 || g[0] - (gaps[i - 1][0] + gaps[i - 1][1]) > 50);
    const spacing = new Map();
    for (let i = 1; i < stalls.length; i++) {
      const bin = Math.round((stalls[i][0] - stalls[i - 1][0]) / 10) * 10;
      spacing.set(bin, (spacing.get(bin) ?? 0) + 1);
    }
    const [period, periodCount] = [...spacing].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
    rows.push({ name: server.name, lat, gaps, stalls: stalls.length, period, periodCount, seconds: (to - from) / 1000 });
    process.stderr.write(`${server.name}: ${gaps.length} gaps over 4 ms (${stalls.length} stalls) in ${((to - from) / 1000).toFixed(1)} s, most common spacing ${period} ms (${periodCount}×)\n`);
  }
  const damonDir = '/sys/kernel/mm/damon/admin/kdamonds/0';
  let damon = 'no DAMON monitor found';
  try {
    const state = readFileSync(`${damonDir}/state`, 'utf8').trim();
    const sampleUs = readFileSync(`${damonDir}/contexts/0/monitoring_attrs/intervals/sample_us`, 'utf8').trim();
    damon = `DAMON monitor ${state}, sample_us ${sampleUs}`;
  } catch {}
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${new Date().toISOString()}; ${damon}. Open loop at ${RATE} req/s (JSON) for ${SECONDS} s per server, after 3 s of warm-up; gaps: the event loop held up for more than 4 ms; a stall: gaps less than 50 ms apart.`,
    '',
    '| server | p50 ms | p99 ms | gaps / s | stalls / s | longest gap ms | all gaps ms | most common spacing of stalls ms (times) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${r.lat.p50.toFixed(3)} | ${r.lat.p99.toFixed(3)} | ${(r.gaps.length / r.seconds).toFixed(1)} | ${(r.stalls / r.seconds).toFixed(1)} | ${Math.max(0, ...r.gaps.map((g) => g[1])).toFixed(1)} | ${r.gaps.reduce((sum, g) => sum + g[1], 0).toFixed(0)} | ${r.period} (${r.periodCount}) |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

/** Bedrock and Vertex clients (and Anthropic) through the gateway to the same mock, each against direct. */
async function mainFormats() {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-formats-'));
  const gwPort = await freePort();
  const { mockUrl, token } = await mockAndGatewayConfig(dir, [
    'models:',
    '  - name: claude-sonnet-4-5',
    '    aliases: [claude-sonnet-4-5-20250929, us.anthropic.claude-sonnet-4-5-20250929-v1:0]',
    '    deployments: [ { upstream: mock, model: claude-sonnet-4-5-20250929 } ]',
  ]);
  start(['--conditions=source', '--import', 'tsx', 'packages/gateway/src/bin.ts', 'serve', '--config', join(dir, 'gateway.yaml'), '--port', String(gwPort)]);
  await Promise.all([waitUp(mockUrl), waitUp(`http://127.0.0.1:${gwPort}/healthz`)]);

  const gw = `http://127.0.0.1:${gwPort}`;
  const auth = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const ask = { max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }] };
  const bedrockModel = `${gw}/bedrock/model/${encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0')}`;
  const vertexModel = `${gw}/vertex_ai/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929`;
  const bedrockBody = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask });
  const vertexBody = (stream) => JSON.stringify({ anthropic_version: 'vertex-2023-10-16', ...ask, ...(stream ? { stream: true } : {}) });
  const direct = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'bench' };
  const cases = [
    { mode: 'JSON', target: 'direct (mock)', url: `${mockUrl}/v1/messages`, headers: direct, body: smallBody },
    { mode: 'JSON', target: 'Anthropic /v1/messages', url: `${gw}/v1/messages`, headers: { ...auth, 'anthropic-version': '2023-06-01' }, body: smallBody },
    { mode: 'JSON', target: 'Bedrock invoke', url: `${bedrockModel}/invoke`, headers: auth, body: bedrockBody },
    { mode: 'JSON', target: 'Vertex rawPredict', url: `${vertexModel}:rawPredict`, headers: auth, body: vertexBody(false) },
    { mode: 'stream', target: 'direct (mock)', url: `${mockUrl}/v1/messages`, headers: direct, body: withStream(smallBody) },
    { mode: 'stream', target: 'Anthropic /v1/messages (SSE)', url: `${gw}/v1/messages`, headers: { ...auth, 'anthropic-version': '2023-06-01' }, body: withStream(smallBody) },
    { mode: 'stream', target: 'Bedrock invoke-with-response-stream (SSE -> event stream)', url: `${bedrockModel}/invoke-with-response-stream`, headers: auth, body: bedrockBody },
    { mode: 'stream', target: 'Vertex streamRawPredict (SSE)', url: `${vertexModel}:streamRawPredict`, headers: auth, body: vertexBody(true) },
  ];
  // Every latency run before any throughput run: a throughput run leaves tens of thousands of
  // usage records for the store to write, which would otherwise compete with the next latency run.
  const rows = [];
  for (const c of cases) {
    await latencyAtRate(c.url, c.headers, c.body, 200, 1); // warm-up: JIT, keep-alive pools
    const lat = await latencyAtRate(c.url, c.headers, c.body, RATE, SECONDS);
    rows.push({ ...c, lat });
    process.stderr.write(`${c.mode} ${c.target}: p50 ${lat.p50.toFixed(3)} ms p99 ${lat.p99.toFixed(3)} ms, errors ${lat.errors}\n`);
  }
  for (const r of rows) {
    r.thr = await throughput(r.url, r.headers, r.body, SECONDS);
    process.stderr.write(`${r.mode} ${r.target}: ${r.thr.rps.toFixed(0)} req/s, non-2xx ${r.thr.non2xx}\n`);
  }
  const base = (mode) => rows.find((r) => r.mode === mode && r.target === 'direct (mock)').lat;
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
    `Latency: open loop at ${RATE} req/s for ${SECONDS} s, request sent to last byte read. Throughput: autocannon, 50 connections, ${SECONDS} s.`,
    '',
    '| mode | inbound format | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | throughput req/s | non-2xx |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const d = base(r.mode);
      const added = r.target === 'direct (mock)' ? ['-', '-'] : [(r.lat.p50 - d.p50).toFixed(3), (r.lat.p99 - d.p99).toFixed(3)];
      return `| ${r.mode} | ${r.target} | ${r.lat.p50.toFixed(3)} | ${r.lat.p99.toFixed(3)} | ${added[0]} | ${added[1]} | ${r.lat.errors} | ${r.thr.rps.toFixed(0)} | ${r.thr.non2xx} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

try {
  if (process.argv.includes('--formats')) await mainFormats();
  else if (process.argv.includes('--journal')) await mainJournal();
  else if (process.argv.includes('--rss')) await mainRss();
  else if (process.argv.includes('--streams')) await mainStreams();
  else if (process.argv.includes('--gc')) await mainGc();
  else if (process.argv.includes('--jwt')) await mainJwt();
  else if (process.argv.includes('--gaps')) await mainGaps();
  else await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
}
