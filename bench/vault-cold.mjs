#!/usr/bin/env node
// Benchmark: `claude-key vault` with an empty cache (cold) and a warm one, against `node -e 0`, on the local Vault test server.
//
// Run from the repo root after a build: `node bench/vault-cold.mjs [outdir]`. Prints hyperfine's
// markdown table and leaves its JSON and a `--cpu-prof` profile of one cold run in outdir.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BINARY = join(REPO, 'packages/cli/dist/claude-key.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const out = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), 'vault-bench-')));
mkdirSync(out, { recursive: true });

const { register } = await import('tsx/esm/api');
register();
const { VaultTestServer } = await import('../packages/vault-test-server/src/index.ts');
const server = await VaultTestServer.start();
server.root.enableKv('secret', 2).putSecret('secret/litellm/claude-code', { api_key: 'sk-litellm-bench' });

const exec = (cmd, args, env = {}) =>
  new Promise((done, fail) =>
    spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } }).on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`${cmd} exited with ${code}`)),
    ),
  );

const cold = join(out, 'cold-cache');
const warm = join(out, 'warm-cache');
const env = { VAULT_ADDR: server.address, VAULT_TOKEN: server.rootToken, HOME: out };
const vault = (cache, extra = '') => `env CLAUDE_KEY_CACHE_DIR=${cache} node ${BINARY} vault --path secret/litellm/claude-code --field api_key${extra}`;
try {
  await exec('node', [BINARY, 'vault', '--path', 'secret/litellm/claude-code', '--field', 'api_key'], { ...env, CLAUDE_KEY_CACHE_DIR: warm });
  await exec('hyperfine', [
    '-N', '--runs', String(RUNS), '--warmup', '3', '--export-markdown', join(out, 'vault.md'), '--export-json', join(out, 'vault.json'),
    // hyperfine pairs the n-th --prepare and -n with the n-th command.
    '--prepare', 'true', '--prepare', `rm -rf ${cold}`, '--prepare', `rm -rf ${cold}`, '--prepare', 'true',
    '-n', 'node -e 0', '-n', 'claude-key vault (cold: preflight + read)', '-n', 'claude-key vault --kv-version 2 (cold: read only)', '-n', 'claude-key vault (warm)',
    'node -e 0', vault(cold), vault(cold, ' --kv-version 2'), vault(warm),
  ], env);
  server.resetRequests();
  rmSync(cold, { recursive: true, force: true });
  await exec('node', ['--cpu-prof', `--cpu-prof-dir=${join(out, 'prof')}`, BINARY, 'vault', '--path', 'secret/litellm/claude-code', '--field', 'api_key'], { ...env, CLAUDE_KEY_CACHE_DIR: cold });
  console.error(`profile: ${readdirSync(join(out, 'prof')).map((f) => join(out, 'prof', f)).join(', ')}; requests in the profiled run: ${server.count()}`);
} finally {
  await server.close();
}
