// Real processes of the built binary: one provider call per key, and a holder killed mid-fetch hands over without a race.
//
// CLAUDE_KEY_TAKEOVER_TRIALS sets the number of takeover trials (default 3); bench/lock-takeover.mjs
// runs 200 under CPU load and docs/benchmarks.md records the result.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/claude-key.cjs');
const WAITERS = 8;
const TRIALS = Number(process.env.CLAUDE_KEY_TAKEOVER_TRIALS ?? 3);

const root = mkdtempSync(join(tmpdir(), 'ck-takeover-e2e-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(dir: string): { child: ChildProcess; done: Promise<Result> } {
  const env = { PATH: process.env.PATH ?? '', HOME: dir, CLAUDE_KEY_CACHE_DIR: join(dir, 'cache'), CLAUDE_KEY_CONFIG_DIR: join(dir, 'config') };
  const child = spawn(process.execPath, [BIN, '--timeout', '20s', 'exec', '--max-age', '1h', '--', join(dir, 'mint.sh')], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/**
 * A sandbox whose command records each run and takes a while, like a slow provider; the first run
 * (the holder's, killed in the takeover trials) takes long enough to be sure to die mid-fetch.
 */
function sandbox(name: string): { dir: string; calls(): number } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const calls = join(dir, 'calls');
  writeFileSync(
    join(dir, 'mint.sh'),
    `#!/bin/sh\necho run >> "${calls}"\nif [ "$(wc -l < "${calls}")" -eq 1 ]; then sleep 5; else sleep 0.3; fi\necho "minted-$$"\n`,
  );
  chmodSync(join(dir, 'mint.sh'), 0o755);
  return { dir, calls: () => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean).length : 0) };
}

/** Waits for `check`; a holder that never got going fails the trial instead of hanging the suite. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 60_000) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test(`${WAITERS} processes started at once on an empty cache make one provider call and print the same token`, { timeout: 120_000 }, async () => {
  const s = sandbox('flight');
  const results = await Promise.all(Array.from({ length: WAITERS }, () => start(s.dir).done));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1);
  assert.equal(s.calls(), 1);
});

test(`holder SIGKILLed mid-fetch, ${WAITERS} waiters: exactly one takes over, all print its token (${TRIALS} trials)`, { timeout: 600_000 }, async (t) => {
  let doubleFetches = 0;
  let failedCallers = 0;
  let notMidFetch = 0;
  const problems: string[] = [];
  const problem = (text: string) => {
    problems.push(text);
    process.stderr.write(`takeover problem: ${text}\n`);
  };
  for (let trial = 0; trial < TRIALS; trial++) {
    const s = sandbox(`takeover-${trial}`);
    const holder = start(s.dir);
    try {
      await until(() => s.calls() === 1, `trial ${trial}: the holder's provider call`); // the holder has the lock and is inside the provider
    } catch (err) {
      holder.child.kill('SIGKILL');
      problem((err as Error).message);
      continue;
    }
    const waiters = Array.from({ length: WAITERS }, () => start(s.dir).done);
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    holder.child.kill('SIGKILL');
    const killed = await holder.done;
    // A starved test process may send the kill after the holder finished; that trial tests nothing.
    if (killed.stdout !== '') notMidFetch++;
    const results = await Promise.all(waiters);
    const failed = results.filter((r) => r.code !== 0);
    failedCallers += failed.length;
    const expectedCalls = killed.stdout === '' ? 2 : 1;
    if (s.calls() !== expectedCalls || new Set(results.map((r) => r.stdout)).size !== 1) doubleFetches++;
    if (failed.length || s.calls() !== expectedCalls || new Set(results.map((r) => r.stdout)).size !== 1) {
      problem(`trial ${trial}: ${s.calls()} calls, ${new Set(results.map((r) => r.stdout)).size} distinct outputs, ${failed.length} failed ${failed.map((f) => `exit ${f.code}: ${f.stderr.trim()}`).join(' | ')}`);
    }
    rmSync(s.dir, { recursive: true, force: true });
    if ((trial + 1) % 20 === 0) process.stderr.write(`takeover: ${trial + 1}/${TRIALS} trials, ${problems.length} with problems\n`);
  }
  t.diagnostic(
    `takeover: ${TRIALS} trials, ${doubleFetches} with a double fetch, ${failedCallers} failed callers, ${notMidFetch} where the holder finished before the kill`,
  );
  assert.deepEqual(problems, []);
});
