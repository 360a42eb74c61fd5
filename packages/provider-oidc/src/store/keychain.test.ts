// The refresh token in a real OS keychain: gnome-keyring in a private D-Bus session on Linux (the keychain
// provider's with-keyring.sh), cross-checked with libsecret's secret-tool, against the test OP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createTestContext } from '@claude-key/core/testing';
import { createOidcProvider } from '../index.js';
import { commandIo, loginThroughDeviceFlow, tempConfigDir } from '../test-support/harness.js';
import { DEVICE_CLIENT_ID, startTestOp, type TestOp } from '../test-support/test-op.js';
import { KEYCHAIN_SERVICE } from './keychain-store.js';
import { sessionLabel } from './session-store.js';
import { insideKeyringSession } from '../../../provider-keychain/src/test-support/keyring-session.js';


/** libsecret's own client: what gnome-keyring holds for service/account, or undefined. */
function secretToolLookup(account: string): string | undefined {
  const result = spawnSync('secret-tool', ['lookup', 'service', KEYCHAIN_SERVICE, 'username', account], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

// Outside a keyring session this registers one test that re-runs the file inside with-keyring.sh.
if (insideKeyringSession(import.meta.url)) {
  let op: TestOp;
  before(async () => {
    op = await startTestOp();
  });
  after(() => op.close());

  test('login keeps the refresh token in the keychain, fetch rotates it there, logout deletes it; no file is written', async () => {
    const provider = createOidcProvider({ isInteractive: () => false, browserFor: () => undefined });
    const dir = await tempConfigDir();
    const env = { CLAUDE_KEY_CONFIG_DIR: dir };
    const options = { issuer: op.issuer, clientId: DEVICE_CLIENT_ID, allowInsecureRequests: true, storage: 'auto' };
    const account = sessionLabel({ issuer: op.issuer, clientId: DEVICE_CLIENT_ID, scope: ['openid', 'offline_access'] });

    const login = await loginThroughDeviceFlow(provider, options, { env });
    assert.match(login.stderr, new RegExp(`session stored in the OS keychain \\(service ${KEYCHAIN_SERVICE}`));
    const first = secretToolLookup(account);
    assert.ok(first && first.length > 20, 'secret-tool sees the refresh token');

    const credential = await provider.fetch(provider.options.parse(options), createTestContext({ env }));
    assert.ok(credential.token.length > 20);
    const afterFetch = secretToolLookup(account);
    assert.ok(afterFetch && afterFetch !== first, 'the rotated refresh token replaced the old one in the keychain');
    await assert.rejects(readdir(`${dir}/oidc`), { code: 'ENOENT' }, 'no session file when the keychain works');

    const { io } = commandIo(createTestContext({ env }));
    const logout = provider.commands!.logout!;
    await logout.run(logout.options.parse(options), io);
    assert.equal(secretToolLookup(account), undefined);
  });
}
