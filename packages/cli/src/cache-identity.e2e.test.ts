// The built claude-key binary never prints a token outside the context it was fetched for, and its deadline ends the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { helperSandbox } from '@claude-key/core/testing';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled binary (`pnpm run build`), as Claude Code runs it. */
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/claude-key.cjs');

function sandbox() {
  const { dir, env } = helperSandbox('ck-identity-');
  // A command that counts its runs and prints a new token each time.
  const script = join(dir, 'mint.sh');
  writeFileSync(script, `#!/bin/sh\necho run >> "${join(dir, 'calls')}"\necho "minted-$$-$(date +%s%N)"\n`);
  chmodSync(script, 0o755);
  // Profile `work` runs that command.
  writeFileSync(join(env.CLAUDE_KEY_CONFIG_DIR, 'config.json'), JSON.stringify({ profiles: { work: { provider: 'exec', command: [script], 'max-age': '1h' } } }));
  const calls = () => {
    try {
      return readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  return { dir, script, env, calls };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const ck = (args: string[], opts: { cwd: string; env: Record<string, string> }) => run(process.execPath, [BIN, ...args], opts);

test('file and exec with a relative path in two working directories print each directory\'s own token', async () => {
  const s = sandbox();
  writeFileSync(join(s.dir, 'a', 'token'), 'token-of-project-a\n', { mode: 0o600 });
  writeFileSync(join(s.dir, 'b', 'token'), 'token-of-project-b\n', { mode: 0o600 });
  for (const args of [['file', 'token'], ['exec', '--', 'cat', 'token']]) {
    const a = await ck(args, { cwd: join(s.dir, 'a'), env: s.env });
    const a2 = await ck(args, { cwd: join(s.dir, 'a'), env: s.env });
    const b = await ck(args, { cwd: join(s.dir, 'b'), env: s.env });
    assert.equal(a.stdout, 'token-of-project-a\n', args.join(' '));
    assert.equal(a2.stdout, 'token-of-project-a\n', args.join(' '));
    assert.equal(b.stdout, 'token-of-project-b\n', args.join(' '));
  }
});

test('env: a changed variable prints the new value at once, an unset one fails instead of printing the old value', async () => {
  const s = sandbox();
  const cwd = s.dir;
  assert.equal((await ck(['env', 'LITELLM_KEY'], { cwd, env: { ...s.env, LITELLM_KEY: 'first-value' } })).stdout, 'first-value\n');
  assert.equal((await ck(['env', 'LITELLM_KEY'], { cwd, env: { ...s.env, LITELLM_KEY: 'first-value' } })).stdout, 'first-value\n');
  assert.equal((await ck(['env', 'LITELLM_KEY'], { cwd, env: { ...s.env, LITELLM_KEY: 'second-value' } })).stdout, 'second-value\n');
  const unset = await ck(['env', 'LITELLM_KEY'], { cwd, env: s.env });
  assert.notEqual(unset.code, 0);
  assert.equal(unset.stdout, '');
  assert.ok(!unset.stderr.includes('value'), unset.stderr);
});

test('file: a file rotated in place is re-read, and its content never lands in the cache', async () => {
  const s = sandbox();
  const path = join(s.dir, 'key');
  writeFileSync(path, 'before-rotation\n', { mode: 0o600 });
  assert.equal((await ck(['file', path], { cwd: s.dir, env: s.env })).stdout, 'before-rotation\n');
  assert.equal((await ck(['file', path], { cwd: s.dir, env: s.env })).stdout, 'before-rotation\n');
  writeFileSync(path, 'after-rotation\n');
  assert.equal((await ck(['file', path], { cwd: s.dir, env: s.env })).stdout, 'after-rotation\n');
  const cached = (await run('sh', ['-c', `cat "${s.env.CLAUDE_KEY_CACHE_DIR}"/* 2>/dev/null || true`], { cwd: s.dir, env: s.env })).stdout;
  assert.ok(!cached.includes('rotation'), 'the token is not copied into the cache');
});

test('init --project for two gateways: the token fetched for gateway A is never sent to gateway B', async () => {
  const s = sandbox();
  const printed: string[] = [];
  for (const [project, url] of [['a', 'https://gateway-a.example'], ['b', 'https://gateway-b.example']] as const) {
    const cwd = join(s.dir, project);
    const init = await ck(['init', '--project', '--profile', 'work', '--base-url', url, '--yes'], { cwd, env: s.env });
    assert.equal(init.code, 0, init.stderr);
    // Claude Code runs the helper with the settings' env applied, from the project directory.
    const settings = JSON.parse(readFileSync(join(cwd, '.claude', 'settings.json'), 'utf8')) as { apiKeyHelper: string; env: Record<string, string> };
    const helper = settings.apiKeyHelper.replace(/^claude-key /, '').split(' ');
    printed.push((await ck(helper, { cwd, env: { ...s.env, ...settings.env } })).stdout);
    printed.push((await ck(helper, { cwd, env: { ...s.env, ...settings.env } })).stdout);
  }
  assert.equal(printed[0], printed[1], 'gateway A reuses its own token');
  assert.equal(printed[2], printed[3], 'gateway B reuses its own token');
  assert.notEqual(printed[0], printed[2], 'gateway B never gets gateway A\'s token');
  assert.equal(s.calls(), 2);
});

test('otel-headers and apiKeyHelper on one profile inside one Claude Code process are not mistaken for a 401 refusal', async () => {
  const s = sandbox();
  // A real process tree: a shell named `claude` (as Claude Code's process is) runs both hooks,
  // then the apiKeyHelper once more after its TTL; a second apiKeyHelper call within the TTL would be a 401.
  const claude = join(s.dir, 'claude');
  symlinkSync('/bin/sh', claude);
  const node = process.execPath;
  const script = [
    `"${node}" "${BIN}" --profile work > api1`,
    `"${node}" "${BIN}" otel-headers --profile work > otel`,
    `"${node}" "${BIN}" otel-headers --profile work > otel2`,
    `"${node}" "${BIN}" --profile work > api2`,
  ].join(' && ');
  const result = await run(claude, ['-c', script], { cwd: s.dir, env: { ...s.env, CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '1' } });
  assert.equal(result.code, 0, result.stderr);
  const read = (name: string) => readFileSync(join(s.dir, name), 'utf8').trim();
  const otel = JSON.parse(read('otel')) as { Authorization: string };
  assert.match(otel.Authorization, /^Bearer minted-/);
  assert.equal(read('otel2'), read('otel'), 'otel-headers reuses its own token');
  assert.equal(read('api2'), read('api1'), 'the apiKeyHelper token was not treated as refused');
  assert.equal(s.calls(), 2, 'one fetch per purpose');
});

test('--timeout ends the process with exit 5 even when the command ignores SIGTERM, and leaves no grandchild running', { timeout: 30_000 }, async () => {
  const s = sandbox();
  const pidFile = join(s.dir, 'grandchild.pid');
  const stubborn = join(s.dir, 'stubborn.sh');
  // The grandchild ignores SIGTERM too and would outlive the test by far.
  writeFileSync(stubborn, `#!/bin/sh\ntrap '' TERM\nsh -c 'trap "" TERM; echo $$ > "${pidFile}"; exec sleep 600' &\nwait\n`);
  chmodSync(stubborn, 0o755);
  const result = await ck(['--timeout', '1s', 'exec', '--', stubborn], { cwd: s.dir, env: s.env });
  assert.equal(result.code, 5, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /within 1s/);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  // The group was sent SIGKILL before claude-key exited; give the kernel a moment to reap.
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, `grandchild ${pid} still running`);
});

test('HOME="" and an unusable cache dir: the token still comes with exit 0 and one warning, and nothing is written to the working directory', async () => {
  const s = sandbox();
  const blocker = join(s.dir, 'blocker');
  writeFileSync(blocker, '');
  for (const env of <Record<string, string>[]>[
    { PATH: s.env.PATH, HOME: '', CLAUDE_KEY_CONFIG_DIR: s.env.CLAUDE_KEY_CONFIG_DIR, XDG_CACHE_HOME: '' },
    { ...s.env, CLAUDE_KEY_CACHE_DIR: join(blocker, 'cache') },
    { ...s.env, CLAUDE_KEY_CACHE_DIR: join(s.dir, 'x'.repeat(300)) },
  ]) {
    const cwd = join(s.dir, 'a');
    const result = await ck(['exec', '--', 'echo', 'still-a-token'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'still-a-token\n');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /cache unavailable/);
    assert.deepEqual(readdirSync(cwd), []);
  }
});
