// Session stores: the 0600 file, the keychain adapter, and `auto` falling back from keychain to file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestContext } from '@claude-key/core/testing';
import { tempConfigDir } from '../test-support/harness.js';
import { createFileStore } from './file-store.js';
import { createKeychainStore, KEYCHAIN_SERVICE, type KeyringBinding } from './keychain-store.js';
import { openSessionStore } from './open-store.js';
import { sessionId } from './session-store.js';

const key = { issuer: 'https://idp.example.com', clientId: 'claude-code', scope: ['openid', 'offline_access'] };

/** Stands in for @napi-rs/keyring: entries in a Map, or every call failing like a missing Secret Service. */
function fakeKeyring(opts: { broken?: boolean } = {}) {
  const entries = new Map<string, string>();
  const binding: KeyringBinding = {
    AsyncEntry: class {
      private readonly id: string;
      constructor(service: string, account: string, options?: { linux?: { store?: string } }) {
        if (opts.broken) throw new Error('Platform failure: DBus error: no session bus');
        assert.equal(options?.linux?.store, 'secret-service', 'never the forgetful kernel keyring');
        this.id = `${service}/${account}`;
      }
      async getPassword() {
        return entries.get(this.id) ?? null;
      }
      async setPassword(value: string) {
        entries.set(this.id, value);
      }
      async deletePassword() {
        return entries.delete(this.id);
      }
    },
  };
  return { entries, load: async () => binding };
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
  const store = openSessionStore('auto', { env, log: ctx.log, loadKeyring: fakeKeyring({ broken: true }).load });
  const where = await store.save(key, 'rt-1');
  assert.match(where, /oidc\/[0-9a-f]{32}\.json$/);
  assert.equal(await store.load(key), 'rt-1');
  assert.equal(ctx.logs.length, 1);
  assert.equal(ctx.logs[0]!.level, 'debug');
  assert.match(ctx.logs[0]!.message, /OS keychain could not .*; keeping the OIDC session in a file instead/);
});

test('auto prefers the keychain and removes a copy an earlier fallback left in the file', async () => {
  const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
  const ctx = createTestContext({ env });
  await openSessionStore('file', { env, log: ctx.log }).save(key, 'rt-old');
  const keyring = fakeKeyring();
  const store = openSessionStore('auto', { env, log: ctx.log, loadKeyring: keyring.load });
  assert.equal(await store.load(key), 'rt-old', 'a session from the fallback file is still found');
  await store.save(key, 'rt-new');
  assert.equal(await store.load(key), 'rt-new');
  assert.equal(await openSessionStore('file', { env, log: ctx.log }).load(key), undefined);
});

test('--storage keychain reports an unavailable keychain instead of falling back', async () => {
  const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
  const store = openSessionStore('keychain', { env, log: createTestContext().log, loadKeyring: fakeKeyring({ broken: true }).load });
  await assert.rejects(store.load(key), (err: Error & { exitCode?: number }) => err.exitCode === 4 && /use --storage file/.test((err as { line?: string }).line ?? ''));
});
