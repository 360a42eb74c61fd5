// The record journal's own latency: append → on disk (group-committed O_DSYNC writes) at a fixed rate.
//
//   node --conditions=source --import tsx bench/journal.mjs [--rate 500] [--seconds 10] [--sync fsync|write]
//
// What a request waits for before its answer's last bytes go out. The full gateway comparison
// (journal off vs on, end to end) is `bench/gateway.mjs --journal`.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileJournal } from '../packages/gateway/src/store/journal.ts';
import { testRecord } from '../packages/gateway/src/test-support/records.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const RATE = arg('rate', 500);
const SECONDS = arg('seconds', 10);
const dir = mkdtempSync(join(tmpdir(), 'ckg-bench-journal-'));
const syncArg = process.argv.indexOf('--sync');
const SYNC = syncArg === -1 ? 'fsync' : process.argv[syncArg + 1];
const journal = FileJournal.open(dir, SYNC);
const samples = [];
const pending = [];
const start = performance.now();
for (let i = 0; i < RATE * SECONDS; i++) {
  const wait = start + (i * 1000) / RATE - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const t0 = performance.now();
  pending.push(journal.append(testRecord(i)).then((entry) => {
    samples.push(performance.now() - t0);
    journal.release([entry]);
  }));
}
await Promise.all(pending);
await journal.close();
rmSync(dir, { recursive: true, force: true });
samples.sort((a, b) => a - b);
const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))].toFixed(3);
process.stdout.write(`journal (${SYNC}) append→durable at ${RATE}/s for ${SECONDS} s, ${cpus().length} × ${cpus()[0].model}, Node ${process.version}: p50 ${pct(50)} ms, p90 ${pct(90)} ms, p99 ${pct(99)} ms (${samples.length} records)\n`);
