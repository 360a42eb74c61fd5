#!/usr/bin/env node
// Why the account stage holds an answer's end with a response class and not with a function made
// per request (packages/gateway/src/stages/account.ts): the smallest server that shows the effect.
//
//   node bench/response-wrapper-gc.mjs [--seconds 6] [--rate 500]
//   BENCH_NODE=/path/to/another/node node bench/response-wrapper-gc.mjs   (the servers on another Node)
//
// Three variants of one plain node:http server, each request answered a tick after it arrived (as
// the gateway answers after its upstream), with ~10 KB of objects hanging off the request:
//  - plain:   `res.end(body)`;
//  - wrapper: `res.end` replaced per request by a closure that calls the original (what the
//             account stage did);
//  - class:   a ServerResponse subclass whose `end` reads a field set per request (what it does now).
// Each runs in its own process with a fixed 16 MB young generation and --trace-gc-nvp; the load is
// open loop from this process. Printed per variant: scavenges, mean and longest pause, and the bytes
// that survived and were promoted per scavenge (the objects of requests long answered, if any).
import { spawn } from 'node:child_process';
import { createServer, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const BODY = '{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hello"}]}';

if (process.argv[2] === '--serve') serve(process.argv[3]);
else await main();

function serve(variant) {
  class HeldResponse extends ServerResponse {
    held = undefined;
    end(...args) {
      if (this.held !== undefined) this.held.ended = true;
      return super.end(...args);
    }
  }
  const server = createServer(variant === 'class' ? { ServerResponse: HeldResponse } : {}, (req, res) => {
    const ctx = { req, res, ended: false, objects: Array.from({ length: 200 }, (_, i) => ({ i })) };
    if (variant === 'wrapper') {
      const end = res.end;
      res.end = (...args) => {
        ctx.ended = true;
        return end.apply(res, args);
      };
    } else if (variant === 'class') res.held = ctx;
    req.resume();
    req.on('end', () => setImmediate(() => res.writeHead(200, { 'content-type': 'application/json' }).end(BODY)));
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
}

async function main() {
  const { Pool } = createRequire(join(ROOT, 'packages/gateway/package.json'))('undici');
  const seconds = arg('seconds', 6);
  const rate = arg('rate', 500);
  const serverNode = process.env.BENCH_NODE ?? process.execPath;
  const { execFileSync } = await import('node:child_process');
  console.log(`servers on node ${execFileSync(serverNode, ['--version']).toString().trim()}, ${rate} req/s for ${seconds} s per variant, young generation fixed at 16 MB`);
  console.log('| variant | scavenges | mean pause ms | longest ms | survived KB / scavenge | promoted KB / scavenge |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const variant of ['plain', 'wrapper', 'class']) {
    const child = spawn(serverNode, ['--trace-gc', '--trace-gc-nvp', '--min-semi-space-size=16', '--max-semi-space-size=16', fileURLToPath(import.meta.url), '--serve', variant], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let trace = '';
    child.stdout.on('data', (chunk) => (trace += chunk));
    const port = await new Promise((resolve) => child.once('message', resolve));
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
    const startedAt = Date.now();
    const measureFrom = trace.length;
    const pending = [];
    for (let i = 0; i < rate * seconds; i++) {
      const wait = startedAt + (i * 1000) / rate - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(pool.request({ path: '/', method: 'POST', body: '{}' }).then((r) => r.body.text()));
    }
    await Promise.all(pending);
    await pool.close();
    child.kill();
    const scavenges = trace
      .slice(measureFrom)
      .split('\n')
      .filter((line) => / gc=s /.test(line))
      .map((line) => Object.fromEntries(line.split(' ').filter((kv) => kv.includes('=')).map((kv) => kv.split('='))))
      // The first second warms up (the young generation fills once before anything is promoted).
      .slice(1);
    const mean = (key) => scavenges.reduce((sum, s) => sum + Number(s[key]), 0) / Math.max(scavenges.length, 1);
    const longest = Math.max(0, ...scavenges.map((s) => Number(s.pause)));
    console.log(`| ${variant} | ${scavenges.length} | ${mean('pause').toFixed(2)} | ${longest.toFixed(1)} | ${(mean('new_space_survived') / 1024).toFixed(0)} | ${(mean('promoted') / 1024).toFixed(0)} |`);
  }
}
