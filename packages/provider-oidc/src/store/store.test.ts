// Session stores: the 0600 file, the keychain adapter, and `auto` falling back from keychain to file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestContext } from '@claude-key/core/testing';
import { tempConfigDir } from '../test-support/harness.js';
import { createFileStore } from './file-store.js';
import { UnreachableError } from '@claude-key/core';
import { createKeychainStore, KEYCHAIN_SERVICE, type KeychainEntries } from './keychain-store.js';
import { openSessionStore } from './open-store.js';
import { sessionId } from './session-store.js';

const key = { issuer: 'https://idp.example.com', clientId: 'claude-code', scope: ['openid', 'offline_access'] };

/** Stands in for provider-keychain: entries in a Map, or every call failing as it does without a Secret Service. */
function fakeKeyring(opts: { broken?: boolean } = {}) {
  const entries = new Map<string, string>();
  const id = (name: { service: string; account: string }) => {
    if (opts.broken) throw new UnreachableError(`no OS keychain reachable to read service "${name.service}" (no D-Bus session bus)`);
    return `${name.service}/${name.account}`;
  };
  const keychain: KeychainEntries = {
    readEntry: async (name) => entries.get(id(name)),
    writeEntry: async (name, value) => void entries.set(id(name), value),
    deleteEntry: async (name) => entries.delete(id(name)),
  };
  return { entries, load: async () => keychain };
}

test('the session id ignores scope order but not issuer, client or scope', () => {
  assert.equal(sessionId(key), sessionId({ ...key, scope: ['offline_access', 'openid'] }));
  assert.notEqual(sessionId(key), sessionId({ ...key, clientId: 'other' }));
  assert.notEqual(sessionId(key), sessionId({ ...key, scope: ['openid'] }));
});

test('the file store writes 0600 files in a 0700 dir, replaces and removes them', async () => {
  const dir = join(await tempConfigDir(), 'oidc');
  const store = createFileStore(dir);
  assert.equal(await store.load(key), undefined);
  const path = await store.save(key, 'rt-1');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  await store.save(key, 'rt-2');
  assert.equal(await store.load(key), 'rt-2');
  assert.deepEqual(await readdir(dir), [`${sessionId(key)}.json`], 'the atomic write leaves no temp files');
  assert.equal(await store.remove(key), true);
  assert.equal(await store.remove(key), false);
});

test('the keychain store keeps one entry per session under the claude-key-oidc service', async () => {
  const keyring = fakeKeyring();
  const store = createKeychainStore(keyring.load);
  const where = await store.save(key, 'rt-1');
  assert.match(where, new RegExp(`service ${KEYCHAIN_SERVICE}, account claude-code@https://idp.example.com`));
  assert.equal(await store.load(key), 'rt-1');
  assert.equal(keyring.entries.size, 1);
  assert.equal(await store.remove(key), true);
  assert.equal(await store.load(key), undefined);
});

test('auto falls back to the file with one debug line when the keychain is unavailable', async () => {
  const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
  const ctx = createTestContext({ env });
  const store = openSessionStore('auto', { env, log: ctx.log, loadKeychain: fakeKeyring({ broken: true }).load });
  const where = await store.save(key, 'rt-1');
  assert.match(where, /oidc\/[0-9a-f]{32}\.json$/);
  assert.equal(await store.load(key), 'rt-1');
  assert.equal(ctx.logs.length, 1);
  assert.equal(ctx.logs[0]!.level, 'debug');
  assert.match(ctx.logs[0]!.message, /no OS keychain reachable .*; keeping the OIDC session in a file instead/);
});

test('auto prefers the keychain and removes a copy an earlier fallback left in the file', async () => {
  const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
  const ctx = createTestContext({ env });
  await openSessionStore('file', { env, log: ctx.log }).save(key, 'rt-old');
  const keyring = fakeKeyring();
  const store = openSessionStore('auto', { env, log: ctx.log, loadKeychain: keyring.load });
  assert.equal(await store.load(key), 'rt-old', 'a session from the fallback file is still found');
  await store.save(key, 'rt-new');
  assert.equal(await store.load(key), 'rt-new');
  assert.equal(await openSessionStore('file', { env, log: ctx.log }).load(key), undefined);
});

test('--storage keychain reports an unavailable keychain instead of falling back', async () => {
  const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
  const store = openSessionStore('keychain', { env, log: createTestContext().log, loadKeychain: fakeKeyring({ broken: true }).load });
  await assert.rejects(store.load(key), (err: Error & { exitCode?: number }) => err.exitCode === 4 && /use --storage file/.test((err as { line?: string }).line ?? ''));
});
