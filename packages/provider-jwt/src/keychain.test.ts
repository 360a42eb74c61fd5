// `keygen --store keychain` against a real OS keychain: gnome-keyring in a private D-Bus session on Linux,
// cross-checked with libsecret's secret-tool (the harness is the keychain provider's with-keyring.sh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createTestContext } from '@claude-key/core/testing';
import provider, { jwtCommands } from './index.js';
import { printedJwks, runCommand, tempDir, verifyAt } from './test-support/fixtures.js';

const thisFile = fileURLToPath(import.meta.url);
const withKeyring = fileURLToPath(new URL('../../provider-keychain/scripts/with-keyring.sh', import.meta.url));
const SERVICE = `claude-key-jwt-test-${process.pid}`;

function secretToolLookup(service: string, account: string): string | undefined {
  const result = spawnSync('secret-tool', ['lookup', 'service', service, 'username', account], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

if (process.platform === 'linux' && process.env.CLAUDE_KEY_KEYRING_SESSION !== '1') {
  test('the keychain key store passes against a real gnome-keyring (via with-keyring.sh)', () => {
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const result = spawnSync(withKeyring, [process.execPath, '--conditions=source', '--import', 'tsx', '--test', thisFile], { env, encoding: 'utf8' });
    const failure = `inner run:\n${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, failure);
    assert.match(result.stdout, /^# pass [1-9]/m, failure);
    assert.match(result.stdout, /^# fail 0$/m, failure);
  });
} else {
  test('keygen --store keychain writes the private JWK to the OS keychain, mints with it, and retire deletes it', async () => {
    const keysDir = await tempDir();
    const commands = jwtCommands();
    const first = await runCommand(commands.keygen, { keysDir, kid: 'kc-1', store: 'keychain', keychainService: SERVICE });
    const stored = secretToolLookup(SERVICE, 'kc-1');
    assert.ok(stored, 'secret-tool does not see the key');
    assert.equal(JSON.parse(stored).kid, 'kc-1');
    assert.equal(typeof JSON.parse(stored).d, 'string');

    // What the core's ctx.secret returns for keychain:<service>/<account>, read here with libsecret's own client.
    const ctx = createTestContext({ now: Date.UTC(2026, 2, 1), secrets: { [`keychain:${SERVICE}/kc-1`]: stored } });
    const credential = await provider.fetch(provider.options.parse({ keysDir }), ctx);
    await verifyAt(credential.token, printedJwks(first), ctx.now());

    await runCommand(commands.keygen, { keysDir, kid: 'kc-2', store: 'keychain', keychainService: SERVICE });
    await runCommand(commands.retire, { keysDir, kid: 'kc-1' });
    assert.equal(secretToolLookup(SERVICE, 'kc-1'), undefined);
  });
}
