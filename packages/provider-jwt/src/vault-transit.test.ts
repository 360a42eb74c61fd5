// Vault transit as the signer: tokens signed in Vault verify with jose against `jwt jwks --vault-transit-key`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { isClaudeKeyError } from '@claude-key/core';
import { createTestContext, type TestContextOptions } from '@claude-key/core/testing';
import { VaultTestServer } from '@claude-key/vault-test-server';
import provider, { jwtCommands } from './index.js';
import { printedJwks, recordingIO, runCommand, verifyAt } from './test-support/fixtures.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

describe('jwt with Vault transit', () => {
  let vault: VaultTestServer;
  let signerToken: string;
  let env: Record<string, string>;

  before(async () => {
    vault = await VaultTestServer.start();
    vault.root.enableTransit();
    vault.root.createTransitKey('jwt-es', 'ecdsa-p256');
    vault.root.createTransitKey('jwt-ed', 'ed25519');
    vault.root.createTransitKey('jwt-rsa', 'rsa-2048');
    vault.root.createTransitKey('jwt-p384', 'ecdsa-p384');
    vault.root.createTransitKey('jwt-rotating', 'ecdsa-p256');
    // The least privilege the README documents: sign with the keys and read their public halves.
    vault.root.addPolicy('jwt-signer', [
      { path: 'transit/sign/*', capabilities: ['update'] },
      { path: 'transit/keys/*', capabilities: ['read'] },
    ]);
    signerToken = vault.root.createToken({ policies: ['jwt-signer'] });
    env = { VAULT_ADDR: vault.address, VAULT_TOKEN: signerToken };
  });
  after(() => vault.close());

  const context = (extra: TestContextOptions = {}) => createTestContext({ now: T0, env, ...extra });
  const mint = (raw: Record<string, unknown>, ctx = context()) => provider.fetch(provider.options.parse(raw), ctx);
  const vaultJwks = async (key: string, ctx = context()) => printedJwks(await runCommand(jwtCommands().jwks, { vaultTransitKey: key }, recordingIO(ctx)));

  for (const [key, alg] of [['jwt-es', 'ES256'], ['jwt-ed', 'EdDSA'], ['jwt-rsa', 'RS256']] as const) {
    it(`signs ${alg} in Vault (${key}) and the token verifies against the printed JWKS`, async () => {
      const jwks = await vaultJwks(key);
      assert.deepEqual(jwks.keys.map((k) => [k.kid, k.alg]), [[`${key}-v1`, alg]]);
      vault.resetRequests();
      const credential = await mint({ vaultTransitKey: key, aud: 'claude-gateway', sub: 'ada' });
      const { payload, protectedHeader } = await verifyAt(credential.token, jwks, T0, { audience: 'claude-gateway' });
      assert.equal(payload.sub, 'ada');
      assert.deepEqual([protectedHeader.alg, protectedHeader.kid], [alg, `${key}-v1`]);
      assert.equal(credential.meta?.source, 'vault-transit');
      // Only the public key is read and only the signing input is sent: the private key stays in Vault.
      assert.deepEqual(vault.requests.map((r) => `${r.method} ${r.path}`), [`GET transit/keys/${key}`, `POST transit/sign/${key}`]);
    });
  }

  it('reads the key version once per few minutes, signing every refused re-run with a new jti', async () => {
    const ctx = context();
    vault.resetRequests();
    const first = await mint({ vaultTransitKey: 'jwt-es' }, ctx);
    const again = await mint({ vaultTransitKey: 'jwt-es' }, createTestContext({ now: T0, env, refused: true }));
    const third = await mint({ vaultTransitKey: 'jwt-es' }, ctx);
    assert.equal(ctx.loads.get('jwt-vault-transit-key'), 1);
    assert.equal(vault.count('transit/sign/jwt-es'), 3);
    const jtis = new Set([first, again, third].map((c) => c.meta?.jti));
    assert.equal(jtis.size, 3);
  });

  it('after a Vault rotation, new tokens carry the new kid and old ones still verify against the JWKS', async () => {
    const oldToken = (await mint({ vaultTransitKey: 'jwt-rotating' })).token;
    vault.root.rotateTransitKey('jwt-rotating');
    const jwks = await vaultJwks('jwt-rotating');
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), ['jwt-rotating-v1', 'jwt-rotating-v2']);
    const newToken = (await mint({ vaultTransitKey: 'jwt-rotating' })).token;
    assert.equal(decodeProtectedHeader(newToken).kid, 'jwt-rotating-v2');
    await verifyAt(oldToken, jwks, T0);
    await verifyAt(newToken, jwks, T0);
  });

  it('logs in with AppRole (the vault provider\'s login) and signs with the token it got', async () => {
    const [role] = vault.root.enableAppRole([{ name: 'jwt-minter', policies: ['jwt-signer'] }]);
    const ctx = createTestContext({ now: T0, env: { VAULT_ADDR: vault.address, ROLE_ID: role!.roleId, SECRET_ID: role!.secretId } });
    vault.resetRequests();
    const credential = await mint({ vaultTransitKey: 'jwt-es', vaultAuth: 'approle', vaultRoleId: 'env:ROLE_ID', vaultSecretId: 'env:SECRET_ID' }, ctx);
    assert.deepEqual(vault.requests.map((r) => r.path), ['auth/approle/login', 'transit/keys/jwt-es', 'transit/sign/jwt-es']);
    await verifyAt(credential.token, await vaultJwks('jwt-es'), T0);
  });

  it('uses --vault-mount and the namespace header', async () => {
    const ns = vault.namespace('team-a');
    ns.enableTransit('signing');
    ns.createTransitKey('jwt', 'ed25519', 'signing');
    const nsEnv = { VAULT_ADDR: vault.address, VAULT_TOKEN: ns.createToken({ policies: ['root'] }), VAULT_NAMESPACE: 'team-a' };
    const ctx = createTestContext({ now: T0, env: nsEnv });
    const jwks = printedJwks(await runCommand(jwtCommands().jwks, { vaultTransitKey: 'jwt', vaultMount: 'signing' }, recordingIO(ctx)));
    const credential = await mint({ vaultTransitKey: 'jwt', vaultMount: 'signing' }, ctx);
    await verifyAt(credential.token, jwks, T0);
    assert.equal(vault.requests.at(-1)?.namespaceHeader, 'team-a');
  });

  async function failure(raw: Record<string, unknown>, ctx: ReturnType<typeof context>) {
    try {
      await mint(raw, ctx);
    } catch (err) {
      assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
      assert.ok(!err.line.includes(String(ctx.env.VAULT_TOKEN)), 'the Vault token leaked into the error');
      return err;
    }
    return assert.fail('minting should have failed');
  }

  it('maps Vault failures to one-line errors with distinct exit codes', async () => {
    const cases: [string, Record<string, unknown>, ReturnType<typeof context>, number, RegExp][] = [
      ['bad token', { vaultTransitKey: 'jwt-es' }, context({ env: { ...env, VAULT_TOKEN: 'hvs.not-a-real-token' } }), 3, /Vault denied read on transit\/keys\/jwt-es .*permission denied/],
      ['missing key', { vaultTransitKey: 'no-such-key' }, context(), 6, /no transit key "no-such-key".*vault write -f transit\/keys\/no-such-key/],
      ['unsupported type', { vaultTransitKey: 'jwt-p384' }, context(), 2, /has type ecdsa-p384, which cannot sign JWTs/],
      ['unreachable', { vaultTransitKey: 'jwt-es', vaultAddr: 'http://127.0.0.1:9' }, context(), 4, /cannot reach Vault at http:\/\/127.0.0.1:9\b/],
    ];
    for (const [name, raw, ctx, exitCode, pattern] of cases) {
      const err = await failure(raw, ctx);
      assert.equal(err.exitCode, exitCode, `${name}: ${err.line}`);
      assert.match(err.line, pattern, name);
    }
  });

  it('a token allowed to read keys but not to sign is an auth error naming the sign path', async () => {
    vault.root.addPolicy('read-only', [{ path: 'transit/keys/*', capabilities: ['read'] }]);
    const readOnly = vault.root.createToken({ policies: ['read-only'] });
    const err = await failure({ vaultTransitKey: 'jwt-es' }, context({ env: { ...env, VAULT_TOKEN: readOnly } }));
    assert.equal(err.exitCode, 3);
    assert.match(err.line, /Vault denied update on transit\/sign\/jwt-es .*grants update on transit\/sign\/jwt-es/);
  });

  it('a sealed Vault is unreachable (exit 4)', async () => {
    vault.sealed = true;
    try {
      const err = await failure({ vaultTransitKey: 'jwt-es' }, context());
      assert.equal(err.exitCode, 4);
      assert.match(err.line, /Vault at http:\/\/127.0.0.1:\d+ is sealed/);
    } finally {
      vault.sealed = false;
    }
  });
});
