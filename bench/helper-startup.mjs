// Benchmark: the warm path of `claude-key exec ...` (token served from the cache) against a bare
// `node -e 0`, median of many runs with hyperfine, plus peak RSS with GNU time.
// Targets (issue 2): median ≤ 1.3× bare Node start-up, peak RSS ≤ 64 MiB.
// Run: node bench/helper-startup.mjs        (installs hyperfine and GNU time from Debian if missing)
//      CLAUDE_KEY_COMMAND=/prefix/bin/claude-key node bench/helper-startup.mjs   (an installed claude-key,
//      run through its `#!/usr/bin/env node` line as Claude Code runs it)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'packages/cli/dist/claude-key.cjs');
const command = process.env.CLAUDE_KEY_COMMAND ?? `node ${bin}`;
if (!process.env.CLAUDE_KEY_COMMAND && !existsSync(bin)) throw new Error('build first: ./scripts/pnpm build');
for (const [tool, pkg] of [['hyperfine', 'hyperfine'], ['/usr/bin/time', 'time']]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    execFileSync('sh', ['-c', `apt-get install -y -qq ${pkg} >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq ${pkg})`], { stdio: 'inherit' });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ck-bench-'));
const env = { ...process.env, CLAUDE_KEY_CACHE_DIR: join(dir, 'cache'), CLAUDE_KEY_CONFIG_DIR: join(dir, 'config') };
const helper = `${command} exec --max-age 3600 -- echo tok-benchmark-0123456789`;
// Warm the cache once; every measured run is then a cache hit.
execFileSync('sh', ['-c', helper], { env });
const runs = Number(process.env.RUNS ?? 200);
const json = join(dir, 'hyperfine.json');
execFileSync('hyperfine', ['-N', '--warmup', '10', '--runs', String(runs), '--export-json', json, 'node -e 0', helper], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const results = JSON.parse(readFileSync(json, 'utf8')).results;
const ms = (s) => (s * 1000).toFixed(1);
const [bare, warm] = results;

function peakRssKiB(command, n = 30) {
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const out = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', `${command} >/dev/null`], { env, encoding: 'utf8' });
    peak = Math.max(peak, Number(out.stderr.trim().split('\n').pop()));
  }
  return peak;
}
const rssBare = peakRssKiB('node -e 0');
const rssWarm = peakRssKiB(helper);

const ratio = warm.median / bare.median;
const lines = [
  `machine: ${cpus().length} × ${cpus()[0].model.trim()}, node ${process.version}, ${runs} runs after 10 warm-ups (hyperfine -N)`,
  '',
  '| command | median | mean ± σ | min | user | sys | peak RSS |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  `| \`node -e 0\` | ${ms(bare.median)} ms | ${ms(bare.mean)} ± ${ms(bare.stddev)} ms | ${ms(bare.min)} ms | ${ms(bare.user)} ms | ${ms(bare.system)} ms | ${(rssBare / 1024).toFixed(1)} MiB |`,
  `| \`claude-key exec ...\` (warm cache) | ${ms(warm.median)} ms | ${ms(warm.mean)} ± ${ms(warm.stddev)} ms | ${ms(warm.min)} ms | ${ms(warm.user)} ms | ${ms(warm.system)} ms | ${(rssWarm / 1024).toFixed(1)} MiB |`,
  '',
  `warm path / bare node (median): ${ratio.toFixed(2)}× (target ≤ 1.30×): ${ratio <= 1.3 ? 'met' : 'MISSED'}`,
  `peak RSS of the warm path: ${(rssWarm / 1024).toFixed(1)} MiB (target ≤ 64 MiB): ${rssWarm / 1024 <= 64 ? 'met' : 'MISSED'}`,
];
console.log(lines.join('\n'));
rmSync(dir, { recursive: true, force: true });
