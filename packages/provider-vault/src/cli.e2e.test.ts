// End to end: the claude-key binary (from source) runs `vault` against the Vault test server, through the engine's cache.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '@claude-key/core';
import { runClaudeKey } from '../../cli/src/testing.js';
import { VaultTestServer, type AppRoleRole } from '@claude-key/vault-test-server';

const API_KEY = 'sk-litellm-e2e-secret-value';

let server: VaultTestServer;
let home: string;
let role: AppRoleRole;

before(async () => {
  server = await VaultTestServer.start();
  const root = server.root;
  root.enableKv('secret', 2).putSecret('secret/litellm/claude-code', { api_key: API_KEY, team: 'platform' });
  root.addPolicy('claude-code', [{ path: 'secret/data/litellm/*', capabilities: ['read'] }]);
  role = root.enableAppRole([{ name: 'claude-code', policies: ['claude-code'], ttl: 3600 }])[0]!;
  home = mkdtempSync(join(tmpdir(), 'claude-key-vault-e2e-'));
  writeFileSync(join(home, 'secret-id'), `${role.secretId}\n`, { mode: 0o600 });
  writeFileSync(
    join(home, 'config.yaml'),
    ['profiles:', '  litellm:', '    provider: vault', '    path: secret/litellm/claude-code', '    field: api_key', '    auth: approle',
      `    secretId: file:${join(home, 'secret-id')}`, ''].join('\n'),
    { mode: 0o600 },
  );
});
after(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

/** The binary with this suite's home, config, Vault address and the named cache. */
function claudeKey(args: string[], env: Record<string, string>, cacheName: string) {
  return runClaudeKey(args, {
    env: { HOME: home, CLAUDE_KEY_CACHE_DIR: join(home, cacheName), CLAUDE_KEY_CONFIG: join(home, 'config.yaml'), VAULT_ADDR: server.address, ...env },
  });
}

describe('claude-key vault (CLI)', () => {
  test('the settings line prints the field; the warm call is served by the engine cache without a request', async () => {
    const args = ['vault', '--path', 'secret/litellm/claude-code', '--field', 'api_key'];
    const env = { VAULT_TOKEN: server.rootToken };
    server.resetRequests();
    const cold = await claudeKey(args, env, 'cache-token');
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(cold.stdout, `${API_KEY}\n`);
    assert.ok(server.count() > 0);
    server.resetRequests();
    const warm = await claudeKey(args, env, 'cache-token');
    assert.equal(warm.stdout, `${API_KEY}\n`);
    assert.equal(server.count(), 0, 'the warm call made no network request');
  });

  test('a profile logs in with AppRole once; another read in a new process reuses the cached login token', async () => {
    const env = { VAULT_ROLE_ID: role.roleId };
    server.resetRequests();
    const cold = await claudeKey(['--profile', 'litellm'], env, 'cache-approle');
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(cold.stdout, `${API_KEY}\n`);
    assert.equal(server.count('auth/approle/login'), 1);
    // A different field is a different credential (a cache miss) but the same login.
    const other = await claudeKey(['vault', '--path', 'secret/litellm/claude-code', '--field', 'team', '--auth', 'approle', '--secret-id', `file:${join(home, 'secret-id')}`], env, 'cache-approle');
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.stdout, 'platform\n');
    assert.equal(server.count('auth/approle/login'), 1, 'no second login');
  });

  test('--version after the subcommand pins a KV v2 version', async () => {
    server.root.putSecret('secret/pinned', { api_key: 'sk-first' });
    server.root.putSecret('secret/pinned', { api_key: 'sk-second' });
    const run = await claudeKey(['vault', '--path', 'secret/pinned', '--field', 'api_key', '--version', '1'], { VAULT_TOKEN: server.rootToken }, 'cache-pinned');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'sk-first\n');
  });

  test('permission denied exits with the auth code and one stderr line naming the path, no secrets', async () => {
    const token = server.root.createToken({ policies: ['claude-code'] });
    server.root.putSecret('secret/other', { api_key: 'sk-other-secret' });
    const run = await claudeKey(['vault', '--path', 'secret/other', '--field', 'api_key'], { VAULT_TOKEN: token }, 'cache-denied');
    assert.equal(run.code, ExitCode.auth);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /secret\/data\/other/);
    assert.ok(!run.stderr.includes(token) && !run.stderr.includes('sk-other-secret'));
  });

  test('`vault identity --role NAME` prints a Vault identity token; the warm call makes no request', async () => {
    const root = server.root;
    root.createOidcKey('gateway-key', 'ES256');
    root.createOidcRole('claude', { key: 'gateway-key', ttl: 900 });
    const entityId = root.createEntity({ name: 'bob' });
    const token = root.createToken({ policies: ['identity-e2e'], entityId });
    root.addPolicy('identity-e2e', [{ path: 'identity/oidc/token/claude', capabilities: ['read'] }]);
    const args = ['vault', 'identity', '--role', 'claude'];
    const cold = await claudeKey(args, { VAULT_TOKEN: token }, 'cache-identity');
    assert.equal(cold.code, 0, cold.stderr);
    const [, payload] = cold.stdout.trim().split('.');
    assert.equal(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')).sub, entityId);
    server.resetRequests();
    const warm = await claudeKey(args, { VAULT_TOKEN: token }, 'cache-identity');
    assert.equal(warm.stdout, cold.stdout);
    assert.equal(server.count(), 0);
  });

  test('a sealed Vault exits with the unreachable code', async () => {
    server.sealed = true;
    try {
      const run = await claudeKey(['vault', '--path', 'secret/litellm/claude-code', '--field', 'api_key'], { VAULT_TOKEN: server.rootToken }, 'cache-sealed');
      assert.equal(run.code, ExitCode.unreachable);
      assert.match(run.stderr, /sealed/);
    } finally {
      server.sealed = false;
    }
  });
});
