// Lets a keychain test file run against a private gnome-keyring: it re-runs itself under scripts/with-keyring.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const withKeyring = fileURLToPath(new URL('../../scripts/with-keyring.sh', import.meta.url));
export const tsxArgs = ['--conditions=source', '--import', 'tsx'];

/**
 * True when the caller's tests may run here: inside the with-keyring session, or on macOS and
 * Windows (their login keychain). Otherwise registers one test that re-runs `testFileUrl` inside
 * a fresh session, never against the user's own keyring, and returns false.
 */
export function insideKeyringSession(testFileUrl: string): boolean {
  if (process.platform !== 'linux' || process.env.CLAUDE_KEY_KEYRING_SESSION === '1') return true;
  const file = fileURLToPath(testFileUrl);
  test(`${file.split('/').pop()} passes against a real gnome-keyring (via scripts/with-keyring.sh)`, (t) => {
    // NODE_TEST_CONTEXT would make the inner runner skip the file instead of running it.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const result = spawnSync(withKeyring, [process.execPath, ...tsxArgs, '--test', file], { env, encoding: 'utf8' });
    const failure = `inner run:\n${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, failure);
    assert.match(result.stdout, /^# pass [1-9]/m, failure);
    assert.match(result.stdout, /^# fail 0$/m, failure);
    for (const line of result.stdout.split('\n').filter((l) => /^(not )?ok \d+ /.test(l))) t.diagnostic(line);
    const todo = /^# todo ([1-9]\d*)$/m.exec(result.stdout);
    if (todo) t.diagnostic(`${todo[1]} inner test(s) marked todo (see their reasons above)`);
  });
  return false;
}

/** This environment minus everything that points at the test keyring session. */
export function outsideKeyringSession(): NodeJS.ProcessEnv {
  const { DBUS_SESSION_BUS_ADDRESS: _bus, GNOME_KEYRING_CONTROL: _control, ...env } = process.env;
  return env;
}
