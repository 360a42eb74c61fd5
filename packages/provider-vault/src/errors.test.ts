// Error mapping: policy refusals, sealed/standby, unreachable, Vault's 400s, and bad settings.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ExitCode } from '@claude-key/core';
import { VaultTestServer } from '@claude-key/vault-test-server';
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

  it('says an engine may not be mounted when the preflight is refused for a path on no mount', async () => {
    f.env.VAULT_TOKEN = f.server.rootToken;
    const err = await f.fail({ path: 'kv/app', field: 'api_key' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /^Vault refused the KV preflight for kv\/app on http:\/\/127\.0\.0\.1:\d+: no secrets engine is mounted there, or the token may not use it; check the mount exists \(vault secrets list\)/);
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

  for (const [mode, status, text] of [
    ['no-active-node', 500, 'local node not active but active cluster node not found'],
    ['no-leader', 503, 'no active Vault instance found'],
  ] as const) {
    it(`gives the standby hint for Vault's ${status} "${text}"`, async () => {
      f.server.standby = mode;
      const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 });
      assert.equal(err.exitCode, ExitCode.unreachable);
      assert.equal(err.message, `Vault at ${f.server.address} is a standby node and no active node is reachable (${text})`);
      assert.match(err.hint ?? '', /point VAULT_ADDR at the active node/);
    });
  }

  describe('a standby redirecting to the active node', () => {
    let active: VaultTestServer;
    const shared = 'hvs.shared-between-nodes';
    before(async () => {
      active = await VaultTestServer.start();
      active.root.enableKv('secret', 2).putSecret('secret/app', { api_key: 'sk-from-active' });
      active.root.createToken({ id: shared, policies: ['root'] });
      f.server.root.createToken({ id: shared, policies: ['root'] });
    });
    after(() => active.close());
    beforeEach(() => {
      f.env.VAULT_TOKEN = shared;
      f.server.standby = { redirectTo: active.address };
      active.resetRequests();
    });

    it('is not followed to an origin the operator did not name: the token stays home', async () => {
      const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 });
      assert.equal(err.exitCode, ExitCode.unreachable);
      assert.equal(err.message, `Vault at ${f.server.address} is a standby node and redirected secret/data/app to ${active.address}; not followed, because the token goes only to addresses you name`);
      assert.match(err.hint ?? '', new RegExp(`--allow-redirect-to ${active.address}$`));
      assert.equal(active.count(), 0, 'nothing, and so no token, reached the other origin');
      assertNoSecrets(err, [shared]);
    });

    it('is followed, token and all, to an origin named with --allow-redirect-to', async () => {
      const cred = await f.run({ path: 'secret/app', field: 'api_key', kvVersion: 2, allowRedirectTo: [active.address] });
      assert.equal(cred.token, 'sk-from-active');
      assert.deepEqual(active.requests.map((r) => [r.path, r.hadToken]), [['secret/data/app', true]]);
    });

    it('is never followed to another scheme, and a named origin must share the address\'s scheme', async () => {
      f.server.standby = { redirectTo: active.address.replace('http:', 'https:') };
      const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2, allowRedirectTo: [active.address] });
      assert.equal(err.exitCode, ExitCode.unreachable);
      assert.match(err.message, /a different scheme; not followed, so the token stays on http$/);
      const config = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2, allowRedirectTo: ['https://vault-2.example:8200'] });
      assert.equal(config.exitCode, ExitCode.usage);
      assert.match(config.message, /--allow-redirect-to https:\/\/vault-2\.example:8200 uses https but the Vault address uses http/);
    });
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

  it('says VAULT_ADDR is not set when the vault CLI\'s default address does not answer', async () => {
    f.env.VAULT_ADDR = undefined;
    try {
      const err = await f.fail({ path: 'secret/app', field: 'api_key', kvVersion: 2 });
      assert.equal(err.exitCode, ExitCode.unreachable);
      assert.match(err.line, /^cannot reach Vault at https:\/\/127\.0\.0\.1:8200 \(\w+\); VAULT_ADDR is not set, so this is the vault CLI's default address; set VAULT_ADDR/);
    } finally {
      f.env.VAULT_ADDR = f.server.address;
    }
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
