// Tests the keychain provider, its commands and the token store against a real OS keychain
// (on Linux: gnome-keyring in a private D-Bus session, cross-checked with libsecret's secret-tool).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, isClaudeKeyError, type CommandIO, type ClaudeKeyError } from '@claude-key/core';
import { checkProviderContract, createTestContext } from '@claude-key/core/testing';
import keychain, { tokenStore, CACHE_SERVICE, secretScheme } from './index.js';
import { setCommand } from './commands.js';
import { insideKeyringSession, outsideKeyringSession, tsxArgs } from './test-support/keyring-session.js';

const indexFile = fileURLToPath(new URL('./index.ts', import.meta.url));

// A unique service per run, so a rerun never sees the leftovers of a crashed one.
const SERVICE = `claude-key-test-${process.pid}`;

function io(secret: string): CommandIO & { out: string[] } {
  const out: string[] = [];
  return {
    out,
    stdout: (text) => out.push(text),
    stderr: (text) => out.push(text),
    // What the core's readSecret returns for `printf '<secret>\n' | claude-key keychain set ...`.
    readSecret: async () => secret,
    isInteractive: false,
    env: {},
    signal: new AbortController().signal,
    context: createTestContext(),
  };
}

/** libsecret's own client: the value gnome-keyring holds for service/account, or undefined. */
function secretToolLookup(service: string, account: string): string | undefined {
  const result = spawnSync('secret-tool', ['lookup', 'service', service, 'username', account], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

/**
 * Runs `tokenStore.set` in a child on its own D-Bus session with HOME=`home`, after the shell
 * `daemonSetup`; returns what it reported. Removes `home` afterwards unless `removeHome` is false.
 */
function tokenStoreSetOnFreshBus(home: string, daemonSetup: string, removeHome = true): { ok?: true; code?: string; line?: string } {
  const script = `
    import { tokenStore } from ${JSON.stringify(indexFile)};
    try { await tokenStore.set('k', 'v'); console.log(JSON.stringify({ ok: true })); }
    catch (err) { console.log(JSON.stringify({ code: err.code, line: err.line })); }`;
  try {
    const result = spawnSync('dbus-run-session', ['--', 'sh', '-c', `${daemonSetup} exec "$@"`, 'sh', process.execPath, ...tsxArgs, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...outsideKeyringSession(), HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home },
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const last = result.stdout.trim().split('\n').at(-1);
    assert.ok(last, `no answer from the child: ${result.stderr}`);
    return JSON.parse(last) as { ok?: true; code?: string; line?: string };
  } finally {
    if (removeHome) rmSync(home, { recursive: true, force: true });
  }
}

async function rejection(promise: Promise<unknown>): Promise<ClaudeKeyError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

/** Runs a fetch in a child process with the given environment; returns the error it reported. */
function fetchInChild(env: NodeJS.ProcessEnv, options: { service: string; account: string }) {
  const script = `
    import provider from ${JSON.stringify(indexFile)};
    import { createTestContext } from '@claude-key/core/testing';
    try { await provider.fetch(${JSON.stringify(options)}, createTestContext()); console.log(JSON.stringify({ ok: true })); }
    catch (err) { console.log(JSON.stringify({ code: err.code, exitCode: err.exitCode, line: err.line })); }`;
  const result = spawnSync(process.execPath, [...tsxArgs, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env,
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { ok?: true; code?: string; exitCode?: number; line?: string };
}

if (insideKeyringSession(import.meta.url)) {
  test('set stores the stdin value (minus its newline) where libsecret finds it, and fetch returns it', async () => {
    const entry = { service: SERVICE, account: 'set-and-fetch' };
    const cmd = io('sk-ant-keychain-1\n');
    await keychain.commands!.set!.run(entry, cmd);
    assert.equal(secretToolLookup(entry.service, entry.account), 'sk-ant-keychain-1');
    const credential = await keychain.fetch(entry, createTestContext());
    assert.equal(credential.token, 'sk-ant-keychain-1');
    assert.equal(credential.expiresAt, undefined);
    assert.ok(!cmd.out.join('').includes('sk-ant-keychain-1'), 'the command must not echo the secret');
  });

  test('fetch reads an entry written by secret-tool (the same Secret Service attributes)', async () => {
    execFileSync('secret-tool', ['store', '--label', 'written by secret-tool', 'service', SERVICE, 'username', 'from-libsecret'], {
      input: 'sk-ant-from-libsecret',
    });
    const credential = await keychain.fetch({ service: SERVICE, account: 'from-libsecret' }, createTestContext());
    assert.equal(credential.token, 'sk-ant-from-libsecret');
  });

  test('set takes the value only from stdin or the prompt: its options are service and account alone', () => {
    assert.deepEqual(Object.keys(setCommand.options.shape), ['service', 'account']);
    const parsed = setCommand.options.safeParse({ service: 's', account: 'a', value: 'x' });
    assert.ok(parsed.success && !('value' in parsed.data), 'an extra value key is dropped, never stored');
  });

  test('set refuses an empty value and stores nothing', async () => {
    const entry = { service: SERVICE, account: 'empty' };
    const err = await rejection(keychain.commands!.set!.run(entry, io('\n')));
    assert.equal(err.exitCode, ExitCode.usage);
    assert.equal(secretToolLookup(entry.service, entry.account), undefined);
  });

  test('delete removes the entry; deleting it again is NotFoundError', async () => {
    const entry = { service: SERVICE, account: 'to-delete' };
    await keychain.commands!.set!.run(entry, io('sk-ant-delete-me'));
    assert.equal(secretToolLookup(entry.service, entry.account), 'sk-ant-delete-me');
    await keychain.commands!.delete!.run(entry, io(''));
    assert.equal(secretToolLookup(entry.service, entry.account), undefined);
    const err = await rejection(keychain.commands!.delete!.run(entry, io('')));
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.line, /to-delete/);
  });

  test('a missing entry is NotFoundError naming service and account, with the command that stores it', async () => {
    const err = await rejection(keychain.fetch({ service: SERVICE, account: 'never-stored' }, createTestContext()));
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, new RegExp(`service "${SERVICE}" account "never-stored"`));
    assert.match(err.line, /claude-key keychain set --service \S+ --account never-stored/);
  });

  test('a multi-line entry (a PEM key behind a keychain: reference) comes back intact', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB0p\n-----END PRIVATE KEY-----';
    execFileSync('secret-tool', ['store', '--label', 'pem', 'service', SERVICE, 'username', 'pem'], { input: pem });
    const credential = await keychain.fetch({ service: SERVICE, account: 'pem' }, createTestContext());
    assert.equal(credential.token, pem);
  });

  test('a whitespace-only entry is a ConfigError, not an empty token', async () => {
    execFileSync('secret-tool', ['store', '--label', 'blank', 'service', SERVICE, 'username', 'blank'], { input: '  \n' });
    const err = await rejection(keychain.fetch({ service: SERVICE, account: 'blank' }, createTestContext()));
    assert.equal(err.code, 'CONFIG');
    assert.match(err.line, /is empty/);
  });

  test('the keychain: reference scheme reads SERVICE/ACCOUNT (account may hold slashes); a malformed or missing one says so', async () => {
    execFileSync('secret-tool', ['store', '--label', 'ref', 'service', SERVICE, 'username', 'team/ref'], { input: 'ref-secret-123\n' });
    const ctx = { env: {}, warn: () => {} };
    assert.equal((await secretScheme.resolve(`${SERVICE}/team/ref`, ctx)).trim(), 'ref-secret-123');
    assert.equal((await rejection(secretScheme.resolve('no-slash', ctx))).code, 'CONFIG');
    assert.equal((await rejection(secretScheme.resolve(`${SERVICE}/never-stored`, ctx))).exitCode, ExitCode.notFound);
  });

  test('tokenStore keeps cache values under the claude-key-cache service, keyed by cache key', async () => {
    const key = `profile-default-${process.pid}`;
    assert.equal(await tokenStore.get(key), undefined);
    await tokenStore.set(key, 'cached-token-1');
    assert.equal(await tokenStore.get(key), 'cached-token-1');
    assert.equal(secretToolLookup(CACHE_SERVICE, key), 'cached-token-1');
    await tokenStore.set(key, 'cached-token-2');
    assert.equal(await tokenStore.get(key), 'cached-token-2');
    await tokenStore.delete(key);
    assert.equal(await tokenStore.get(key), undefined);
    await tokenStore.delete(key); // deleting a missing cache value is not an error
  });

  test('the provider honours the contract', async () => {
    execFileSync('secret-tool', ['store', '--label', 'contract', 'service', SERVICE, 'username', 'contract'], { input: 'sk-ant-contract' });
    const credential = await checkProviderContract(keychain, {
      valid: { options: { service: SERVICE, account: 'contract' } },
      invalid: { service: '', account: 'a' },
      failing: { options: { service: SERVICE, account: 'absent' } },
    });
    assert.equal(credential.token, 'sk-ant-contract');
  });

  if (process.platform === 'linux') {
    test('without a D-Bus session the error says no keychain is reachable and how to fix it', () => {
      const result = fetchInChild(outsideKeyringSession(), { service: SERVICE, account: 'set-and-fetch' });
      assert.equal(result.code, 'UNREACHABLE');
      assert.equal(result.exitCode, ExitCode.unreachable);
      assert.match(result.line!, /DBUS_SESSION_BUS_ADDRESS is not set/);
      assert.match(result.line!, /gnome-keyring.*dbus-run-session.*--cache file/);
      assert.ok(!result.line!.includes('sk-ant-keychain-1'));
    });

    test('a bus address nobody answers on is reported as unreachable too', () => {
      const result = fetchInChild({ ...outsideKeyringSession(), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/claude-key-bus' }, { service: SERVICE, account: 'x' });
      assert.equal(result.code, 'UNREACHABLE');
      assert.match(result.line!, /not answering/);
    });

    test('a Secret Service without a default keyring is reported with the fix', () => {
      // A fresh bus and HOME: D-Bus activation starts gnome-keyring, which has no login keyring there.
      const answer = tokenStoreSetOnFreshBus(mkdtempSync(join(tmpdir(), 'claude-key-nokeyring-')), '');
      assert.equal(answer.code, 'UNREACHABLE');
      assert.match(answer.line!, /no default keyring collection/);
    });

    test('a locked keyring is an AuthError that says to unlock it', () => {
      const home = mkdtempSync(join(tmpdir(), 'claude-key-locked-'));
      // First session creates and unlocks the login keyring; the second starts it locked, and no
      // prompter can run without a display, as on a headless box after a reboot.
      const created = tokenStoreSetOnFreshBus(home, 'printf pw | gnome-keyring-daemon --unlock --daemonize --components=secrets >/dev/null 2>&1;', false);
      assert.equal(created.ok, true);
      const answer = tokenStoreSetOnFreshBus(home, 'gnome-keyring-daemon --start --daemonize --components=secrets >/dev/null 2>&1;');
      assert.equal(answer.code, 'AUTH');
      assert.match(answer.line!, /the OS keychain is locked.*unlock the login keyring/);
    });
  }
}
