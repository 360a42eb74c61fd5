#!/usr/bin/env node
// Benchmark: `claude-key aws` (cold and warm cache) against Debian's AWS CLI `get-secret-value`, side by side, on the local AWS test server.
//
// Run from the repo root: `node bench/aws.mjs`. Installs the Debian packages `hyperfine` and
// `awscli` when missing, builds the binary when missing, then writes the "AWS Secrets Manager"
// section of docs/benchmarks.md (other sections are left as they are).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BINARY = join(REPO, 'packages/cli/dist/claude-key.cjs');
const PROVIDER_DIST = join(REPO, 'packages/provider-aws/dist/index.js');
const AWS_CLI = '/usr/bin/aws'; // Debian's package, not whatever `aws` a version manager puts first on PATH
const DOC = join(REPO, 'docs/benchmarks.md');
const HEADING = '## AWS Secrets Manager';
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SECRET_ID = 'bench/anthropic';
const TOKEN = 'sk-ant-api03-benchmark-token';

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', ...opts }).trim();
// Anything that talks to the in-process test server must not block the event loop.
const runAsync = async (cmd, args, opts = {}) => (await promisify(execFile)(cmd, args, { cwd: REPO, encoding: 'utf8', ...opts })).stdout.trim();

/** apt-get installs a Debian package unless dpkg already has it (idempotent). */
function ensureDebianPackage(pkg) {
  if (spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status === 0) return;
  const [cmd, ...pre] = process.getuid?.() === 0 ? ['apt-get'] : ['sudo', 'apt-get'];
  console.error(`installing Debian package ${pkg}`);
  execFileSync(cmd, [...pre, 'install', '-y', pkg], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** The binary loads provider packages from their dist on a cache miss, so both must exist. */
function ensureBinary() {
  if (!existsSync(BINARY)) run(join(REPO, 'scripts/pnpm'), ['build'], { stdio: 'inherit' });
  if (!existsSync(PROVIDER_DIST)) run(join(REPO, 'node_modules/.bin/tsc'), ['-b', 'packages/provider-aws'], { stdio: 'inherit' });
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is still missing after the build`);
}

async function startServer() {
  const { register } = await import('tsx/esm/api');
  register();
  const { startAwsTestServer } = await import('../packages/provider-aws/src/test-support/aws-test-server.ts');
  return startAwsTestServer({
    accessKeys: { [KEY_ID]: SECRET_KEY },
    secrets: [{ name: SECRET_ID, versions: [{ versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', stages: ['AWSCURRENT'], string: TOKEN }] }],
  });
}

function machine() {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc: run('nproc', []),
    cpu: model.trim(),
    node: process.version,
    awsCli: run(AWS_CLI, ['--version']),
    hyperfine: run('hyperfine', ['--version']),
    kernel: run('uname', ['-sr']),
  };
}

/** Replaces (or appends) this benchmark's section, leaving every other section untouched. */
function writeSection(body) {
  mkdirSync(dirname(DOC), { recursive: true });
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const start = doc.indexOf(`${HEADING}\n`);
  let next;
  if (start === -1) next = `${doc.trimEnd()}\n\n${body}`;
  else {
    const after = doc.indexOf('\n## ', start + HEADING.length);
    next = doc.slice(0, start) + body + (after === -1 ? '' : doc.slice(after + 1));
  }
  writeFileSync(DOC, next.endsWith('\n') ? next : `${next}\n`);
}

ensureDebianPackage('hyperfine');
ensureDebianPackage('awscli');
ensureBinary();
const server = await startServer();
const work = mkdtempSync(join(tmpdir(), 'claude-key-bench-aws-'));
try {
  const coldCache = join(work, 'cold-cache');
  const warmCache = join(work, 'warm-cache');
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_ACCESS_KEY_ID: KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  const helper = `node ${BINARY} aws --secret-id ${SECRET_ID} --endpoint-url ${server.url}`;
  const commands = {
    'claude-key aws (cold cache)': [`rm -rf ${coldCache}`, `CLAUDE_KEY_CACHE_DIR=${coldCache} ${helper}`],
    'claude-key aws (warm cache)': ['true', `CLAUDE_KEY_CACHE_DIR=${warmCache} ${helper}`],
    'aws secretsmanager get-secret-value': [
      'true',
      `${AWS_CLI} secretsmanager get-secret-value --secret-id ${SECRET_ID} --endpoint-url ${server.url} --query SecretString --output text`,
    ],
  };

  // Correctness first: every contender prints the token, and a warm call makes no request.
  for (const [name, [, command]] of Object.entries(commands)) {
    const out = await runAsync('sh', ['-c', command], { env });
    if (out !== TOKEN) throw new Error(`${name} printed something other than the token`);
  }
  const before = server.requests.length;
  await runAsync('sh', ['-c', commands['claude-key aws (warm cache)'][1]], { env });
  const warmRequests = server.requests.length - before;
  if (warmRequests !== 0) throw new Error(`the warm call made ${warmRequests} request(s)`);

  const jsonOut = join(work, 'hyperfine.json');
  const args = ['--warmup', String(WARMUP), '--runs', String(RUNS), '--export-json', jsonOut];
  for (const [name, [prepare, command]] of Object.entries(commands)) args.push('--prepare', prepare, '--command-name', name, command);
  const startCount = server.requests.length;
  const code = await new Promise((done) => spawn('hyperfine', args, { stdio: ['ignore', 'inherit', 'inherit'], env }).on('exit', done));
  if (code !== 0) throw new Error(`hyperfine exited with ${code}`);
  const served = server.requests.length - startCount;
  const failed = server.requests.slice(startCount).filter((r) => r.status !== 200).length;
  // One request per cold-cache run and per AWS CLI run (warm-ups included); any extra came from the warm runs.
  const expected = 2 * (WARMUP + RUNS);
  if (served !== expected) throw new Error(`expected ${expected} requests during timing, the server saw ${served}`);

  const results = JSON.parse(readFileSync(jsonOut, 'utf8')).results;
  const ms = (s) => (s * 1000).toFixed(1);
  const fastest = Math.min(...results.map((r) => r.mean));
  const rows = results.map(
    (r) => `| ${r.command} | ${ms(r.mean)} ± ${ms(r.stddev)} | ${ms(r.median)} | ${ms(r.min)} | ${ms(r.max)} | ${(r.mean / fastest).toFixed(2)} |`,
  );
  const m = machine();
  const display = (c) => c.replace(BINARY, 'packages/cli/dist/claude-key.cjs').replace(server.url, 'http://127.0.0.1:PORT').replaceAll(work, '$TMP');
  writeSection(
    [
      HEADING,
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`node bench/aws.mjs\` (hyperfine, ${RUNS} runs after ${WARMUP} warm-ups, all three in one run).`,
      'Every command reads the same secret from the loopback AWS test server',
      '(`packages/provider-aws/src/test-support/aws-test-server.ts`), which checks each SigV4 signature.',
      '',
      '| Command | Mean ± σ (ms) | Median (ms) | Min (ms) | Max (ms) | × fastest |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `- Cold cache: the cache directory is deleted before each run, so every run loads the AWS SDK and calls GetSecretValue.`,
      `- Warm cache: checked before timing to make **0** requests to the server; the engine answers from its cache without loading the provider or the SDK.`,
      `- The server answered exactly ${served} requests during timing (${failed} errors): one per cold-cache and AWS CLI run, none from the warm runs.`,
      '- The AWS CLI (botocore\'s own signer) passing the same signature check is an independent check of the test server\'s SigV4 verifier.',
      '',
      'Commands:',
      '',
      '```sh',
      ...Object.values(commands).map(([prepare, command]) => (prepare === 'true' ? display(command) : `${display(prepare)}; ${display(command)}`)),
      '```',
      '',
      `Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.kernel}, Node ${m.node}, ${m.awsCli}, ${m.hyperfine}.`,
      '',
    ].join('\n'),
  );
  console.error(`wrote the "${HEADING.slice(3)}" section of docs/benchmarks.md`);
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
