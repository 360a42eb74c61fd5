// Error mapping: policy refusals, sealed/standby, unreachable, Vault's 400s, and bad settings.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ExitCode } from '@claude-key/core';
import { assertNoSecrets, startVault, type VaultFixture } from './test-support/vault-fixture.js';

let f: VaultFixture;
let limitedToken: string;

before(async () => {
  f = await startVault();
  const root = f.server.root;
  root.enableKv('secret', 2).enableKv('private', 2).enableDatabase([{ name: 'claude' }]);
  root.putSecret('secret/app', { api_key: 'sk-allowed' });
  root.putSecret('secret/locked', { api_key: 'sk-locked' });
  root.putSecret('private/app', { api_key: 'sk-private' });
  root.addPolicy('app-only', [{ path: 'secret/data/app', capabilities: ['read'] }]);
  limitedToken = root.createToken({ policies: ['app-only'] });
});
after(() => f.server.close());
beforeEach(() => {
  f.env.VAULT_TOKEN = limitedToken;
  f.server.sealed = false;
  f.server.standby = false;
});

describe('vault provider: errors', () => {
  it('names the API path and the policy to check when Vault says permission denied', async () => {
    const err = await f.fail({ path: 'secret/locked', field: 'api_key' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.message, /^Vault denied read on secret\/data\/locked on http:\/\/127\.0\.0\.1:\d+ \(permission denied\)$/);
    assert.equal(err.hint, 'check the policy attached to this token grants read on secret/data/locked, and that the token has not expired');
    assertNoSecrets(err, [limitedToken, 'sk-locked']);
  });

  it('explains a refused KV preflight and how to skip it', async () => {
    const err = await f.fail({ path: 'private/app', field: 'api_key' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /Vault refused the KV preflight for private\/app .*--kv-version 1\|2/);
  });

  it('treats an unknown token as refused', async () => {
    f.env.VAULT_TOKEN = 'hvs.not-a-real-token-value';
    const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 });
    assert.equal(err.exitCode, ExitCode.auth);
    assertNoSecrets(err, ['hvs.not-a-real-token-value']);
  });

  it('says the server is sealed', async () => {
    f.server.sealed = true;
    const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 });
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.line, /Vault at http:\/\/127\.0\.0\.1:\d+ is sealed; unseal it/);
  });

  it('says the node is a standby with no active node', async () => {
    f.server.standby = true;
    const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 });
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.message, /is a standby node and no active node is reachable/);
  });

  it('names VAULT_ADDR when nothing listens there', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const err = await f.fail({ path: 'secret/app', field: 'api_key', address: `http://127.0.0.1:${port}` });
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.line, new RegExp(`cannot reach Vault at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check VAULT_ADDR`));
  });

  it('passes on Vault\'s own reason for a rejected request', async () => {
    f.env.VAULT_TOKEN = f.server.rootToken;
    const err = await f.fail({ path: 'database/creds/nope', field: 'password' });
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.message, /Vault rejected the request to database\/creds\/nope on .*: HTTP 400 \(unknown role: nope\)/);
  });

  it('rejects a malformed VAULT_SKIP_VERIFY and a non-http address', async () => {
    f.env.VAULT_SKIP_VERIFY = 'maybe';
    try {
      assert.equal((await f.fail({ path: 'secret/app' })).exitCode, ExitCode.usage);
    } finally {
      f.env.VAULT_SKIP_VERIFY = undefined;
    }
    f.env.VAULT_ADDR = 'vault.example.com:8200';
    try {
      assert.match((await f.fail({ path: 'secret/app' })).message, /must start with http/);
    } finally {
      f.env.VAULT_ADDR = f.server.address;
    }
  });

  it('fails promptly with a deadline error when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 }, f.newContext({ signal: controller.signal }));
    assert.equal(err.exitCode, ExitCode.deadline);
  });
});
