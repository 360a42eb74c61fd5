// The one secret-reference resolver: env:, file: (with ~), registered schemes, literals, and exit 6 for what is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, isClaudeKeyError } from './errors.js';
import { resolveSecretRef, type SecretScheme } from './secret-ref.js';

const ctx = (env: Record<string, string | undefined> = {}, warnings: string[] = []) => ({ env, warn: (m: string) => void warnings.push(m) });
const exit = (code: number) => (err: unknown) => isClaudeKeyError(err) && err.exitCode === code;

test('env: gives the trimmed value; an unset or blank variable is "does not exist" (exit 6)', async () => {
  assert.equal(await resolveSecretRef('env:KEY', ctx({ KEY: ' v-123456 \n' })), 'v-123456');
  await assert.rejects(resolveSecretRef('env:NOPE', ctx()), exit(ExitCode.notFound));
  await assert.rejects(resolveSecretRef('env:BLANK', ctx({ BLANK: '  ' })), /environment variable BLANK is not set/);
});

test('file: expands ~, trims, warns about a file others can read; a missing file is exit 6', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'ck-secret-ref-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, '.keys'));
  writeFileSync(join(home, '.keys', 'k'), '  file-secret-42\n', { mode: 0o600 });
  assert.equal(await resolveSecretRef('file:~/.keys/k', ctx({ HOME: home })), 'file-secret-42');
  const warnings: string[] = [];
  chmodSync(join(home, '.keys', 'k'), 0o644);
  await resolveSecretRef(`file:${join(home, '.keys', 'k')}`, ctx({}, warnings));
  assert.match(warnings.join('\n'), /readable by other users .*chmod 600/);
  await assert.rejects(resolveSecretRef('file:~/.keys/none', ctx({ HOME: home })), (err: unknown) =>
    exit(ExitCode.notFound)(err) && (err as Error).message === `secret file ${join(home, '.keys', 'none')} does not exist`);
});

test('a registered scheme resolves its references; an unknown scheme is an error, URLs and plain text are literals', async () => {
  const seen: string[] = [];
  const vaultish: SecretScheme = { usage: 'mem:NAME', resolve: async (rest) => (seen.push(rest), ` from-mem-${rest}\n`) };
  const schemes = (name: string) => (name === 'mem' ? vaultish : undefined);
  assert.equal(await resolveSecretRef('mem:a/b', ctx(), schemes), 'from-mem-a/b');
  assert.deepEqual(seen, ['a/b']);
  await assert.rejects(resolveSecretRef('keychain:svc/acct', ctx(), schemes), (err: unknown) =>
    exit(ExitCode.usage)(err) && /"keychain:" references are not available here/.test((err as Error).message));
  assert.equal(await resolveSecretRef('https://example.com/x', ctx(), schemes), 'https://example.com/x');
  assert.equal(await resolveSecretRef('literal-value', ctx(), schemes), 'literal-value');
});

test('the engine resolves a provider\'s references through the schemes the helper registers (it names no provider itself)', async () => {
  const { Engine } = await import('./engine.js');
  const { FileStore } = await import('./cache/file-store.js');
  const { defineProvider } = await import('./provider.js');
  const { z } = await import('zod');
  const provider = defineProvider({
    name: 'uses-ref',
    summary: 'test',
    options: z.object({ key: z.string() }),
    fetch: async ({ key }, c) => ({ token: `tok-${await c.secret(key)}` }),
  });
  const engine = new Engine({
    helperName: 'ck-ref-test',
    store: new FileStore(join(tmpdir(), 'ck-ref-test-unused')),
    env: {},
    now: () => 0,
    caller: () => undefined,
    log: { warn: () => {}, debug: () => {} },
    tokenStore: async () => assert.fail('no token store'),
    profileToken: async () => assert.fail('no profiles'),
    secretScheme: (name) => (name === 'vaultish' ? { usage: 'vaultish:PATH', resolve: async (rest) => `resolved-${rest.replace('/', '-')}` } : undefined),
  });
  const settings = { ttlMs: 0, graceMs: 0, timeoutMs: 5000, maxAgeMs: 1000, cache: 'off', verbose: false };
  const result = await engine.getToken({ key: 'k', provider, label: 'uses-ref', options: { key: 'vaultish:a/b' }, settings });
  assert.equal(result.token, 'tok-resolved-a-b');
});
