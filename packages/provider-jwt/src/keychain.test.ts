// `keygen --store keychain` against a real OS keychain: gnome-keyring in a private D-Bus session on Linux,
// cross-checked with libsecret's secret-tool (the harness is the keychain provider's with-keyring.sh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createTestContext } from '@claude-key/core/testing';
import provider, { jwtCommands } from './index.js';
import { printedJwks, runCommand, tempDir, verifyAt } from './test-support/fixtures.js';
import { insideKeyringSession } from '../../provider-keychain/src/test-support/keyring-session.js';

const SERVICE = `claude-key-jwt-test-${process.pid}`;

function secretToolLookup(service: string, account: string): string | undefined {
  const result = spawnSync('secret-tool', ['lookup', 'service', service, 'username', account], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

// Outside a keyring session this registers one test that re-runs the file inside with-keyring.sh.
if (insideKeyringSession(import.meta.url)) {
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
