// Lock takeover under CPU load: runs packages/cli/src/single-flight.e2e.test.ts with 200 trials
// (holder SIGKILLed mid-fetch, 8 waiters) while one busy loop per core competes for the CPU.
//   pnpm run build && node bench/lock-takeover.mjs [trials]
// Prints the test's summary line; record it in docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';

const trials = process.argv[2] ?? '200';
const burners = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }),
);
const started = Date.now();
const test = spawn(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', '--test-reporter=tap', 'packages/cli/src/single-flight.e2e.test.ts'],
  { env: { ...process.env, CLAUDE_KEY_TAKEOVER_TRIALS: trials }, stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
test.stdout.setEncoding('utf8').on('data', (c) => (out += c));
const load = [];
const sampler = setInterval(() => load.push(loadavg()[0]), 5000);
test.on('close', (code) => {
  clearInterval(sampler);
  for (const b of burners) b.kill('SIGKILL');
  const summary = out.split('\n').filter((l) => /takeover:|^# (pass|fail)|^not ok|'trial \d+/.test(l));
  console.log(summary.join('\n'));
  console.log(
    `${Math.round((Date.now() - started) / 1000)} s, ${burners.length} busy loops, load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}, exit ${code}`,
  );
  process.exitCode = code ?? 1;
});
