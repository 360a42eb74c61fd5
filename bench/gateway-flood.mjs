// Unauthenticated flood: connections with no credential, each declaring a large body sent slowly.
//
//   node bench/gateway-flood.mjs [--connections 16] [--mib 30] [--seconds 5]
//
// Starts claude-key-gateway from source as its own process (embedded store, mock upstream), then
// opens N connections that send `POST /v1/messages` headers with `Content-Length: <mib> MiB` and no
// credential, and keep sending the body in 64 KiB pieces every 50 ms. Reports, per connection, the
// time from the end of the headers to the status line, and the gateway's resident memory (VmRSS
// from /proc) before and at its peak during the run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const CONNECTIONS = arg('connections', 16);
const MIB = arg('mib', 30);
const SECONDS = arg('seconds', 5);

const dir = mkdtempSync(join(tmpdir(), 'ckg-flood-'));
writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [] }));
writeFileSync(
  join(dir, 'gateway.yaml'),
  `listen: { host: 127.0.0.1, port: 0 }\nstore: { path: "memory://" }\nlog: { level: info }\n` +
    `auth: { issuers: [ { issuer: bench, audience: gw, jwksFile: ./jwks.json } ] }\n`,
);
const gw = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/gateway/src/bin.ts', 'serve', '--config', join(dir, 'gateway.yaml')], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  let out = '';
  gw.stdout.on('data', (d) => {
    out += d;
    const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
    if (m) resolve(m[1]);
  });
  gw.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
});
gw.stdout.resume();
const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gw.pid}/status`, 'utf8'))[1]) / 1024;
await new Promise((r) => setTimeout(r, 1000)); // let start-up allocations settle
const baseline = rssMiB();
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 20);

const { port } = new URL(url);
const piece = Buffer.alloc(64 * 1024, 0x61);
function flood() {
  return new Promise((resolve) => {
    const result = { status: undefined, ms: undefined, sentBytes: 0, ended: undefined };
    let headersSentAt = 0;
    let text = '';
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST /v1/messages HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: ${MIB * 1024 * 1024}\r\n\r\n`);
      headersSentAt = performance.now();
      const timer = setInterval(() => {
        if (socket.destroyed || !socket.writable) return clearInterval(timer);
        socket.write(piece);
        result.sentBytes += piece.length;
      }, 50);
      socket.once('close', () => clearInterval(timer));
    });
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m && result.status === undefined) {
        result.status = Number(m[1]);
        result.ms = performance.now() - headersSentAt;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      result.ended = performance.now() - headersSentAt;
      resolve(result);
    });
    setTimeout(() => socket.destroy(), SECONDS * 1000);
  });
}

const results = await Promise.all(Array.from({ length: CONNECTIONS }, flood));
clearInterval(sampler);
gw.kill('SIGTERM');
await new Promise((r) => gw.once('exit', r));
rmSync(dir, { recursive: true, force: true });

const times = results.map((r) => r.ms ?? Infinity).sort((a, b) => a - b);
const refused = results.filter((r) => r.status === 401 && r.ms < 1000).length;
console.log(
  JSON.stringify(
    {
      connections: CONNECTIONS,
      declaredMiB: MIB,
      statuses: [...new Set(results.map((r) => r.status ?? 'none'))],
      refusedWithin1s: refused,
      timeToStatusMs: { min: +times[0].toFixed(1), max: +times.at(-1).toFixed(1) },
      connectionClosedAfterMs: { max: +Math.max(...results.map((r) => r.ended)).toFixed(1) },
      bodyBytesSentPerConnection: { max: Math.max(...results.map((r) => r.sentBytes)) },
      rssMiB: { baseline: +baseline.toFixed(1), peak: +peak.toFixed(1), growth: +(peak - baseline).toFixed(1) },
    },
    null,
    2,
  ),
);
