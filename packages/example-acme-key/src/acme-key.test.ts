// The worked example's own tests: the provider honours the contract, and the branded binary runs it with the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { checkProviderContract } from '@claude-key/core/testing';
import type { HelperIO } from '@claude-key/core';
import { tokenService } from './token-service-provider.js';
import { acmeKey } from './index.js';

async function tokenServer() {
  let issued = 0;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== 'Device dev-key-123') {
      res.writeHead(401).end();
      return;
    }
    issued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: `acme-${issued}-token`, expires_in: 3600 }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/claude`, issued: () => issued, close: () => server.close() };
}

test('the token-service provider honours the claude-key provider contract', async () => {
  const svc = await tokenServer();
  try {
    const credential = await checkProviderContract(tokenService, {
      valid: { options: { url: svc.url, deviceKey: 'env:DEVICE' }, context: { env: { DEVICE: 'dev-key-123' } } },
      invalid: { url: 'not a url' },
      failing: { options: { url: svc.url, deviceKey: 'env:DEVICE' }, context: { env: { DEVICE: 'wrong' } } },
    });
    assert.match(credential.token, /^acme-\d+-token$/);
  } finally {
    svc.close();
  }
});

test('acme-key prints the token once and serves the next call from its own cache dir', async () => {
  const svc = await tokenServer();
  const root = mkdtempSync(join(tmpdir(), 'acme-key-'));
  const env = { PATH: process.env.PATH, HOME: root, CLAUDE_KEY_CACHE_DIR: join(root, 'cache'), DEVICE: 'dev-key-123', ACME_TOKEN_SERVICE: svc.url };
  const runOnce = async () => {
    let stdout = '';
    let stderr = '';
    const io: HelperIO = {
      stdout: (t) => (stdout += t),
      stderr: (l) => (stderr += `${l}\n`),
      stdin: Readable.from([]) as unknown as HelperIO['stdin'],
      env,
      cwd: root,
    };
    const code = await acmeKey.run(['token-service', '--device-key', 'env:DEVICE'], io);
    return { code, stdout, stderr };
  };
  try {
    assert.deepEqual(await runOnce(), { code: 0, stdout: 'acme-1-token\n', stderr: '' });
    assert.deepEqual(await runOnce(), { code: 0, stdout: 'acme-1-token\n', stderr: '' });
    assert.equal(svc.issued(), 1);
    assert.equal(readdirSync(join(root, 'cache')).filter((n) => /^[0-9a-f]{40}\.json$/.test(n)).length, 1, 'one token entry');
  } finally {
    svc.close();
  }
});
