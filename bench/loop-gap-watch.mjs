// Preloaded into a server by `bench/gateway.mjs --gaps` (node --import ./bench/loop-gap-watch.mjs ...):
// a 1 ms interval timer notes every time its turn came more than GAP_MS late, that is, every stretch
// in which the event loop could not run (busy, blocked, preempted, or its CPU taken away). The times
// are CLOCK_MONOTONIC (process.hrtime), the clock the kernel's own tools (perf -k CLOCK_MONOTONIC)
// use, so a gap can be matched with what else ran then. On SIGUSR2 the gaps are written as JSON to
// the file named by LOOP_GAPS_FILE; the server is otherwise left alone (no handler of its signals).
import { writeFileSync } from 'node:fs';

const GAP_MS = 4;
const file = process.env.LOOP_GAPS_FILE;
const gaps = [];
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
let last = nowMs();
setInterval(() => {
  const now = nowMs();
  if (now - last > GAP_MS) gaps.push([last, now - last]);
  last = now;
}, 1).unref();
if (file) process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify(gaps)));
