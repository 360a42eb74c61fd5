// End to end: the claude-key binary (from source) stores, prints, caches and deletes keychain entries in a real gnome-keyring.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '@claude-key/core';
import { runClaudeKey } from '../../cli/src/testing.js';
import { CACHE_SERVICE } from './index.js';
import { insideKeyringSession } from './test-support/keyring-session.js';

const SERVICE = `claude-key-e2e-${process.pid}`;
const TOKEN = 'sk-ant-api03-keychain-e2e-value';
// `keychain set|delete --service ...` needs the core CLI to parse a subcommand's own flags
// (commander's enablePositionalOptions); until then the parent `keychain` command swallows them.

let home: string;

/**
 * What the binary needs to reach the keychain: on Linux the test keyring session's bus and
 * throw-away home, nothing else; elsewhere the user's login keychain, reached through this session as is.
 */
function keychainSession(): Record<string, string | undefined> {
  if (process.platform !== 'linux') return process.env;
  const { HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME, DBUS_SESSION_BUS_ADDRESS, GNOME_KEYRING_CONTROL } = process.env;
  return { HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME, DBUS_SESSION_BUS_ADDRESS, GNOME_KEYRING_CONTROL };
}

/** Runs the binary with stdin piped (never a TTY), the keychain session, and a throw-away cache; `env` overrides. */
function claudeKey(args: string[], opts: { stdin?: string; env?: Record<string, string | undefined> } = {}) {
  const env = { ...keychainSession(), CLAUDE_KEY_CACHE_DIR: join(home, 'cache'), CLAUDE_KEY_CONFIG: join(home, 'config.yaml'), ...opts.env };
  return runClaudeKey(args, { stdin: opts.stdin, env });
}

function secretToolLookup(service: string, account: string): string | undefined {
  const result = spawnSync('secret-tool', ['lookup', 'service', service, 'username', account], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

if (insideKeyringSession(import.meta.url)) {
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'claude-key-keychain-e2e-'));
    writeFileSync(join(home, 'config.yaml'), ['profiles:', '  work:', '    provider: keychain', `    service: ${SERVICE}`, '    account: work', ''].join('\n'), {
      mode: 0o600,
    });
    spawnSync('secret-tool', ['store', '--label', 'e2e', 'service', SERVICE, 'username', 'work'], { input: TOKEN });
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('`keychain set` reads the value from stdin and never echoes it', async () => {
    const run = await claudeKey(['keychain', 'set', '--service', SERVICE, '--account', 'stdin'], { stdin: `${TOKEN}\n` });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Stored keychain entry/);
    assert.ok(!run.stdout.includes(TOKEN) && !run.stderr.includes(TOKEN));
    assert.equal(secretToolLookup(SERVICE, 'stdin'), TOKEN);
  });

  test('`keychain set` has no flag that takes the value on argv', async () => {
    const run = await claudeKey(['keychain', 'set', '--service', SERVICE, '--account', 'argv', '--value', TOKEN]);
    assert.notEqual(run.code, 0);
    assert.equal(secretToolLookup(SERVICE, 'argv'), undefined);
    assert.ok(!run.stderr.includes(TOKEN), 'the rejected value is not echoed back');
  });

  test('the provider prints the entry from flags and from a profile', async () => {
    const fromFlags = await claudeKey(['keychain', '--service', SERVICE, '--account', 'work', '--no-cache']);
    assert.equal(fromFlags.code, 0, fromFlags.stderr);
    assert.equal(fromFlags.stdout, `${TOKEN}\n`);
    const fromProfile = await claudeKey(['--profile', 'work', '--no-cache']);
    assert.equal(fromProfile.code, 0, fromProfile.stderr);
    assert.equal(fromProfile.stdout, `${TOKEN}\n`);
  });

  test('--cache keychain keeps the cached token in the keychain and out of the cache files', async () => {
    const run = await claudeKey(['--profile', 'work', '--cache', 'keychain']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${TOKEN}\n`);
    const listed = spawnSync('secret-tool', ['search', '--all', 'service', CACHE_SERVICE], { encoding: 'utf8' });
    assert.match(listed.stdout, new RegExp(`secret = ${TOKEN}`), 'the cached value is in the keychain');
    for (const file of readdirSync(join(home, 'cache'))) {
      assert.ok(!readFileSync(join(home, 'cache', file), 'utf8').includes(TOKEN), `${file} must not hold the token`);
    }
    // A warm run is served from the keychain store even after the source entry is gone.
    spawnSync('secret-tool', ['clear', 'service', SERVICE, 'username', 'work']);
    const warm = await claudeKey(['--profile', 'work', '--cache', 'keychain']);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(warm.stdout, `${TOKEN}\n`);
  });

  test('a missing entry exits 6 with one line naming it', async () => {
    const run = await claudeKey(['keychain', '--service', SERVICE, '--account', 'missing', '--no-cache']);
    assert.equal(run.code, ExitCode.notFound);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /no keychain entry for service "claude-key-e2e-\d+" account "missing"/);
  });

  test('`keychain delete` removes the entry, then exits 6', async () => {
    spawnSync('secret-tool', ['store', '--label', 'e2e', 'service', SERVICE, 'username', 'gone'], { input: 'temporary' });
    const first = await claudeKey(['keychain', 'delete', '--service', SERVICE, '--account', 'gone']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(secretToolLookup(SERVICE, 'gone'), undefined);
    const second = await claudeKey(['keychain', 'delete', '--service', SERVICE, '--account', 'gone']);
    assert.equal(second.code, ExitCode.notFound);
  });

  test('without a Secret Service the binary exits 4 with the fix', async () => {
    const run = await claudeKey(['keychain', '--service', SERVICE, '--account', 'work', '--no-cache'], { env: { DBUS_SESSION_BUS_ADDRESS: undefined, GNOME_KEYRING_CONTROL: undefined } });
    assert.equal(run.code, ExitCode.unreachable);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /DBUS_SESSION_BUS_ADDRESS is not set.*dbus-run-session/);
  });
}
