// The exported VaultClient: writes and reads, token lookup, and transit signing that verifies as a JWT.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { base64url, importSPKI, jwtVerify } from 'jose';
import { ExitCode, isClaudeKeyError } from '@claude-key/core';
import { VaultTestServer } from '@claude-key/vault-test-server';
import { VaultClient } from './index.js';

let server: VaultTestServer;
let client: VaultClient;

before(async () => {
  server = await VaultTestServer.start();
  server.root.enableKv('secret', 2).enableTransit();
  server.root.createTransitKey('claude-key', 'ecdsa-p256');
  client = new VaultClient({ address: server.address, token: server.rootToken });
});
after(async () => {
  await client.close();
  await server.close();
});

describe('VaultClient', () => {
  it('writes a KV v2 secret and reads it back', async () => {
    const written = await client.write<{ version: number }>('secret/data/app', { data: { api_key: 'sk-written' } });
    assert.equal(written?.data?.version, 1);
    const read = await client.read<{ data: { api_key: string } }>('secret/data/app');
    assert.equal(read.data?.data.api_key, 'sk-written');
  });

  it('looks up its own token', async () => {
    const self = await client.lookupSelf();
    assert.deepEqual(self.policies, ['root']);
  });

  it('reports the mount and KV version of a path', async () => {
    assert.deepEqual(await client.mountInfo('secret/app'), { path: 'secret/', type: 'kv', kvVersion: 2 });
    assert.deepEqual(await client.mountInfo('transit/keys/x'), { path: 'transit/', type: 'transit', kvVersion: undefined });
  });

  it('signs with transit (JWS marshaling) so the signature completes an ES256 JWT', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'ES256', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ sub: 'alice', exp: 4_102_444_800 }));
    const signingInput = `${header}.${payload}`;
    const { signature, keyVersion } = await client.transitSign('claude-key', new TextEncoder().encode(signingInput), { marshalingAlgorithm: 'jws' });
    assert.equal(keyVersion, 1);
    const key = await client.transitKey('claude-key');
    assert.equal(key.type, 'ecdsa-p256');
    assert.equal(key.latestVersion, 1);
    const { payload: claims } = await jwtVerify(`${signingInput}.${signature}`, await importSPKI(key.publicKeys[1]!, 'ES256'));
    assert.equal(claims.sub, 'alice');
  });

  it('signs with the newest key version after a rotation', async () => {
    server.root.rotateTransitKey('claude-key');
    const { keyVersion } = await client.transitSign('claude-key', new Uint8Array([1, 2, 3]), { marshalingAlgorithm: 'jws' });
    assert.equal(keyVersion, 2);
    assert.equal(Object.keys((await client.transitKey('claude-key')).publicKeys).length, 2);
  });

  it('turns a refusal into a claude-key auth error naming the path', async () => {
    const anonymous = new VaultClient({ address: server.address, token: 'hvs.unknown' });
    try {
      await assert.rejects(anonymous.transitSign('claude-key', new Uint8Array([1])), (err) => {
        assert.ok(isClaudeKeyError(err));
        assert.equal(err.exitCode, ExitCode.auth);
        assert.match(err.message, /update on transit\/sign\/claude-key/);
        return true;
      });
    } finally {
      await anonymous.close();
    }
  });
});
