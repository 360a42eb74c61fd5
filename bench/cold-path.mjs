#!/usr/bin/env node
// Benchmark: the cold path (empty cache) of `claude-key vault`, `aws`, `gcp secret` and `jwt` mint,
// each against `node -e 0`, side by side in one hyperfine run, on the local stand-in servers.
//
// Run from the repo root after a build: `node bench/cold-path.mjs [outdir]`. With
// BEFORE_BINARY=<path to another build's claude-key.cjs> the same four cold calls of that build
// join the run (to compare two builds on the same machine in the same minutes). BENCH_RUNS sets
// the runs per command (default 20). Prints hyperfine's markdown table (also left in outdir with
// its JSON) and one line per command: user CPU and its ratio to `node -e 0`. BENCH_INTERLEAVE=1
// runs the commands round-robin instead (see interleaved() below), for a machine shared with other work. When Debian's AWS CLI v2
// is at /usr/bin/aws (`apt-get install awscli`; bench/aws.mjs installs it), its
// `secretsmanager get-secret-value` on the same endpoint joins the same run, for the issue's
// "≥ 5× faster than the AWS CLI" target. Each claude-key call of this build also runs with
// CLAUDE_KEY_CODE_CACHE_DIR=off: the plain-call bundle compiled without its code cache, as on the
// first call after an install or upgrade. /usr/bin/aws by path: a version manager's `aws` earlier on
// PATH may be the v1 CLI.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AFTER = join(REPO, 'packages/cli/dist/claude-key.cjs');
const BEFORE = process.env.BEFORE_BINARY ? resolve(process.env.BEFORE_BINARY) : undefined;
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const AWS_CLI = '/usr/bin/aws';
const out = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), 'cold-bench-')));
mkdirSync(out, { recursive: true });

const { register } = await import('tsx/esm/api');
register();
const { VaultTestServer } = await import('../packages/vault-test-server/src/index.ts');
const { startAwsTestServer } = await import('../packages/provider-aws/src/test-support/aws-test-server.ts');
const { startFakeGoogle } = await import('../packages/provider-gcp/src/test-support/fake-google.ts');

const vault = await VaultTestServer.start();
vault.root.enableKv('secret', 2).putSecret('secret/litellm/claude-code', { api_key: 'sk-litellm-bench' });
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const aws = await startAwsTestServer({
  accessKeys: { [KEY_ID]: SECRET_KEY },
  secrets: [{ name: 'bench/anthropic', versions: [{ versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', stages: ['AWSCURRENT'], string: 'sk-ant-aws-bench' }] }],
});
const SA = 'claude-helper@proj-a.iam.gserviceaccount.com';
const SECRET = 'projects/proj-a/secrets/anthropic-key';
const google = await startFakeGoogle({ serviceAccounts: [SA], secrets: [{ name: SECRET, versions: ['sk-ant-gcp-bench'], accessors: [SA] }] });
const saKey = await google.writeServiceAccountKey(SA);

const home = join(out, 'home');
mkdirSync(home, { recursive: true });
const env = {
  ...process.env,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  // The plain-call bundles' V8 code cache (<cache>/claude-key/code): made by the check calls below
  // and kept, as it is for a user between sessions; the token cache is what each run empties.
  XDG_CACHE_HOME: join(home, '.cache'),
  VAULT_ADDR: vault.address,
  VAULT_TOKEN: vault.rootToken,
  AWS_ACCESS_KEY_ID: KEY_ID,
  AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  AWS_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(out, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(out, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};
const cold = join(out, 'cold-cache');
const calls = {
  vault: 'vault --path secret/litellm/claude-code --field api_key',
  aws: `aws --secret-id bench/anthropic --endpoint-url ${aws.url}`,
  gcp: `gcp secret --name ${SECRET}/versions/latest --credentials-file ${saKey} --secret-manager-endpoint ${google.secretManager.url}`,
  jwt: 'jwt --aud claude-gateway --team platform',
};
const builds = BEFORE ? { before: BEFORE, after: AFTER } : { '': AFTER };
// Each build's V8 code cache in a directory of its own: a build removes the other caches of its
// provider bundle and Node version (code-cache.ts), so in one directory two builds would each find
// the other's cache, compile without one and write theirs on every run.
const codeCache = (build) => join(home, '.cache', 'claude-key', build ? `code-${build}` : 'code');
const awsCli = existsSync(AWS_CLI)
  ? `${AWS_CLI} secretsmanager get-secret-value --secret-id bench/anthropic --endpoint-url ${aws.url} --query SecretString --output text`
  : undefined;

try {
  // A signing key for the jwt provider (kept in $HOME), and one call of each to check they work.
  // The servers run in this process: every child must be awaited, never run synchronously.
  const run = promisify(execFile);
  await run('node', [AFTER, 'jwt', 'keygen'], { env });
  for (const [build, bin] of Object.entries(builds)) {
    for (const [name, args] of Object.entries(calls)) {
      const { stdout } = await run('node', [bin, ...args.split(' ')], { env: { ...env, CLAUDE_KEY_CACHE_DIR: join(out, 'check-cache'), CLAUDE_KEY_CODE_CACHE_DIR: codeCache(build) }, encoding: 'utf8' });
      if (!stdout.trim()) throw new Error(`${build} ${name}: no output`);
      rmSync(join(out, 'check-cache'), { recursive: true, force: true });
    }
  }
  if (awsCli) {
    const { stdout } = await run(AWS_CLI, awsCli.split(' ').slice(1), { env, encoding: 'utf8' });
    if (stdout.trim() !== 'sk-ant-aws-bench') throw new Error(`the AWS CLI printed ${JSON.stringify(stdout)}`);
  } else console.error(`${AWS_CLI} is missing (apt-get install awscli): the AWS CLI row is left out`);
  const commands = [{ name: 'node -e 0', prepare: 'true', command: 'node -e 0' }];
  for (const name of Object.keys(calls)) {
    for (const [build, bin] of Object.entries(builds)) {
      // hyperfine cannot set an environment per command, so the cache directory goes through env(1).
      commands.push({ name: `claude-key ${name} cold${build ? ` (${build})` : ''}`, prepare: `rm -rf ${cold}`, command: `env CLAUDE_KEY_CACHE_DIR=${cold} CLAUDE_KEY_CODE_CACHE_DIR=${codeCache(build)} node ${bin} ${calls[name]}` });
      // This build's first call after an install or upgrade: no code cache yet (nor written).
      if (bin === AFTER) commands.push({ name: `claude-key ${name} cold, no code cache${build ? ` (${build})` : ''}`, prepare: `rm -rf ${cold}`, command: `env CLAUDE_KEY_CACHE_DIR=${cold} CLAUDE_KEY_CODE_CACHE_DIR=off node ${bin} ${calls[name]}` });
    }
    if (name === 'aws' && awsCli) commands.push({ name: 'aws secretsmanager get-secret-value (AWS CLI v2)', prepare: 'true', command: awsCli });
  }
  const results = process.env.BENCH_INTERLEAVE ? await interleaved(commands, env) : await hyperfine(commands, env);
  const ms = (s) => (s * 1000).toFixed(1);
  const median = (r) => [...r.times].sort((a, b) => a - b)[r.times.length >> 1];
  const base = results[0];
  const cpu = (r) => r.user + r.system;
  const lines = results.map(
    (r) =>
      `${r.command}: median ${ms(median(r))} ms (${(median(r) / median(base)).toFixed(2)}×), user ${ms(r.user)} ms (${(r.user / base.user).toFixed(2)}× node -e 0), sys ${ms(r.system)} ms, user + sys ${ms(cpu(r))} ms (${(cpu(r) / cpu(base)).toFixed(2)}×)`,
  );
  const cli = results.find((r) => r.command.includes('AWS CLI'));
  for (const r of cli ? results.filter((x) => x.command.startsWith('claude-key aws')) : []) {
    lines.push(`AWS CLI ÷ ${r.command}: ${(median(cli) / median(r)).toFixed(2)}× (median wall), ${(cli.user / r.user).toFixed(2)}× (user CPU), ${(cpu(cli) / cpu(r)).toFixed(2)}× (user + sys)`);
  }
  writeFileSync(join(out, 'summary.txt'), `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
} finally {
  await Promise.all([vault.close(), aws.close(), google.close()]);
}

/** All commands in one hyperfine run (-N, each command's runs back to back). */
async function hyperfine(commands, env) {
  const args = ['-N', '--runs', String(RUNS), '--warmup', '3', '--export-markdown', join(out, 'cold.md'), '--export-json', join(out, 'cold.json')];
  for (const c of commands) args.push('--prepare', c.prepare, '-n', c.name, c.command);
  const code = await new Promise((done) => spawn('hyperfine', args, { stdio: ['ignore', 'inherit', 'inherit'], env }).on('exit', done));
  if (code !== 0) throw new Error(`hyperfine exited with ${code}`);
  return JSON.parse(readFileSync(join(out, 'cold.json'), 'utf8')).results;
}

/**
 * BENCH_INTERLEAVE=1: round-robin instead of hyperfine: each round runs every command once, so a
 * machine shared with other work slows all of them alike rather than whichever ran during a busy
 * minute. Each run's wall time and the child's own user and system CPU (wait4's rusage, in
 * microseconds) come from a small Python wrapper; results have hyperfine's JSON shape.
 */
async function interleaved(commands, env) {
  const wrapper = [
    'import os, sys, time',
    't = time.perf_counter()',
    'pid = os.fork()',
    'if pid == 0:',
    '    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)',
    '    os.execvp(sys.argv[1], sys.argv[1:])',
    '_, status, ru = os.wait4(pid, 0)',
    'print(time.perf_counter() - t, ru.ru_utime, ru.ru_stime, os.waitstatus_to_exitcode(status))',
  ].join('\n');
  const exec = promisify(execFile);
  const runs = commands.map(() => []);
  for (let round = -3; round < RUNS; round++) {
    for (const [i, c] of commands.entries()) {
      await exec('sh', ['-c', c.prepare], { env });
      const { stdout } = await exec('python3', ['-c', wrapper, ...c.command.split(' ')], { env });
      const [wall, user, system, code] = stdout.trim().split(' ').map(Number);
      if (code !== 0) throw new Error(`${c.name} exited with ${code}`);
      if (round >= 0) runs[i].push({ wall, user, system }); // rounds below 0 are warm-ups
    }
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const results = commands.map((c, i) => ({
    command: c.name,
    times: runs[i].map((r) => r.wall),
    mean: mean(runs[i].map((r) => r.wall)),
    user: mean(runs[i].map((r) => r.user)),
    system: mean(runs[i].map((r) => r.system)),
  }));
  writeFileSync(join(out, 'cold.json'), JSON.stringify({ results }, null, 2));
  return results;
}
