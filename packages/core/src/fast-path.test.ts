// The warm path answers only for the identity the full CLI resolved, with node built-ins, and steps aside on any doubt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { chmodSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHelper } from './helper.js';
import { tryFastPath } from './fast-path.js';
import type { HelperIO } from './cli/io.js';
import { helperSandbox } from './testing.js';

function sandbox() {
  const { dir, env } = helperSandbox('ck-fast-');
  const caller = { id: undefined as string | undefined };
  const helper = createHelper({ name: 'ck-fast', providers: [], caller: () => caller.id });
  /** The full CLI (it writes the identity record and the entry). */
  const full = async (argv: string[], cwd: string, extraEnv: Record<string, string> = {}) => {
    let out = '';
    const io: HelperIO = { stdout: (t) => (out += t), stderr: () => {}, stdin: new PassThrough(), env: { ...env, ...extraEnv }, cwd };
    const code = await helper.runFull(argv, io);
    return { code, out };
  };
  /** The warm path alone: what it printed, or undefined when it stepped aside. */
  const warm = (argv: string[], cwd: string, extraEnv: Record<string, string> = {}) => {
    let out = '';
    const served = tryFastPath({
      helperName: 'ck-fast',
      providers: new Set(['env', 'file', 'exec']),
      argv,
      env: { ...env, ...extraEnv },
      cwd,
      caller: () => caller.id,
      write: (t) => (out += t),
    });
    return served ? out : undefined;
  };
  return { dir, env, caller, full, warm };
}

test('serves a cached exec token only in the working directory it was fetched in', async () => {
  const s = sandbox();
  const argv = ['exec', '--', 'pwd'];
  const a = join(s.dir, 'a');
  assert.equal((await s.full(argv, a)).out, `${a}\n`);
  assert.equal(s.warm(argv, a), `${a}\n`);
  assert.equal(s.warm(argv, join(s.dir, 'b')), undefined);
});

test('reads env and file sources afresh on every call instead of serving a copy', async () => {
  const s = sandbox();
  assert.equal((await s.full(['env', 'KEY'], s.dir, { KEY: 'one' })).out, 'one\n');
  assert.equal(s.warm(['env', 'KEY'], s.dir, { KEY: 'two' }), 'two\n');
  assert.equal(s.warm(['env', 'KEY'], s.dir), undefined, 'unset: the full CLI reports it');
  const file = join(s.dir, 'token');
  writeFileSync(file, 'v1\n', { mode: 0o600 });
  await s.full(['file', file], s.dir);
  writeFileSync(file, 'v2\n');
  assert.equal(s.warm(['file', file], s.dir), 'v2\n');
  chmodSync(file, 0o644);
  assert.equal(s.warm(['file', file], s.dir), undefined, 'a readable-by-others file: the full CLI warns');
});

test('a changed provider environment variable or gateway URL is a different identity', async () => {
  const s = sandbox();
  const argv = ['exec', '--', 'date', '+%N'];
  const first = (await s.full(argv, s.dir, { ANTHROPIC_BASE_URL: 'https://a.example' })).out;
  assert.equal(s.warm(argv, s.dir, { ANTHROPIC_BASE_URL: 'https://a.example' }), first);
  assert.equal(s.warm(argv, s.dir, { ANTHROPIC_BASE_URL: 'https://b.example' }), undefined);
});

test('steps aside for a second call from the same Claude Code process (a refusal), serves another process', async () => {
  const s = sandbox();
  const argv = ['exec', '--', 'echo', 'tok'];
  s.caller.id = '100:1';
  await s.full(argv, s.dir);
  assert.equal(s.warm(argv, s.dir), undefined);
  s.caller.id = '200:2';
  assert.equal(s.warm(argv, s.dir), 'tok\n');
});

test('never reads through a symlinked or shared cache dir', async () => {
  const s = sandbox();
  const argv = ['exec', '--', 'echo', 'tok'];
  await s.full(argv, s.dir);
  assert.equal(s.warm(argv, s.dir), 'tok\n');
  const real = join(s.dir, 'cache');
  const moved = join(s.dir, 'cache-real');
  renameSync(real, moved);
  symlinkSync(moved, real);
  assert.equal(s.warm(argv, s.dir), undefined, 'symlinked dir');
  rmSync(real);
  renameSync(moved, real);
  chmodSync(real, 0o777);
  assert.equal(s.warm(argv, s.dir), undefined, 'world-writable dir');
});
