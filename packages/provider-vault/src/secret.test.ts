// Reading secrets: KV v2 (latest, pinned, deleted), KV v1, mount detection, fields, expiry, dynamic leases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '@claude-key/core';
import { assertNoSecrets, startVault, type VaultFixture } from './test-support/vault-fixture.js';

let f: VaultFixture;

before(async () => {
  f = await startVault();
  const root = f.server.root;
  root.enableKv('secret', 2).enableKv('kv', 1).enableKv('team/kv', 2).enableDatabase([{ name: 'claude', ttl: 900 }]);
  root.putSecret('secret/litellm/claude-code', { api_key: 'sk-old', owner: 'platform' });
  root.putSecret('secret/litellm/claude-code', { api_key: 'sk-current', owner: 'platform' });
  root.putSecret('secret/single', { key: 'sk-only-field' });
  root.putSecret('secret/nested', { api_key: { value: 'sk-nested' } });
  root.putSecret('kv/anthropic', { api_key: 'sk-kv1' });
  root.putSecret('team/kv/claude', { api_key: 'sk-team' });
  f.env.VAULT_TOKEN = f.server.rootToken;
});
after(() => f.server.close());

describe('vault provider: KV under a namespace', () => {
  it('reads a KV v2 mount in a child namespace named in the path (VAULT_NAMESPACE=admin, team/secret/app)', async () => {
    f.server.namespace('admin');
    const team = f.server.namespace('admin/team');
    team.enableKv('secret', 2).putSecret('secret/app', { api_key: 'sk-team-ns' });
    f.server.resetRequests();
    const ctx = f.newContext();
    f.env.VAULT_NAMESPACE = 'admin';
    try {
      const cred = await f.run({ path: 'team/secret/app', field: 'api_key' }, ctx);
      assert.equal(cred.token, 'sk-team-ns');
    } finally {
      f.env.VAULT_NAMESPACE = undefined;
    }
    const [preflight, read] = f.server.requests;
    assert.deepEqual([preflight?.path, preflight?.namespaceHeader], ['sys/internal/ui/mounts/team/secret/app', 'admin']);
    assert.deepEqual([read?.path, read?.namespaceHeader, read?.namespace], ['team/secret/data/app', 'admin', 'admin/team']);
  });

  it('cuts the namespace off a mount whose name repeats in the path (whole segments only)', async () => {
    const { mountWithinPath } = await import('./secret.js');
    assert.equal(mountWithinPath('team/secret/app', 'admin/team/secret/'), 'team/secret/');
    assert.equal(mountWithinPath('my/kv-v2/mount/path/foo/bar/baz', 'my/ns1/my/kv-v2/mount/path'), 'my/kv-v2/mount/path/');
    assert.equal(mountWithinPath('secret/app', 'secret/'), 'secret/');
    assert.equal(mountWithinPath('secretive/app', 'secret/'), undefined);
  });
});

describe('vault provider: KV', () => {
  it('reads the latest KV v2 version through data/ after asking the mounts preflight', async () => {
    f.server.resetRequests();
    const cred = await f.run({ path: 'secret/litellm/claude-code', field: 'api_key' });
    assert.equal(cred.token, 'sk-current');
    assert.equal(cred.expiresAt, undefined);
    assert.deepEqual(cred.meta, { field: 'api_key', lease: false, kvVersion: 2, version: 2 });
    assert.deepEqual(f.server.requests.map((r) => r.path), ['sys/internal/ui/mounts/secret/litellm/claude-code', 'secret/data/litellm/claude-code']);
  });

  it('remembers the mount layout, so the next cold fetch makes only the read', async () => {
    f.server.resetRequests();
    await f.run({ path: 'secret/litellm/claude-code', field: 'api_key' });
    assert.deepEqual(f.server.requests.map((r) => r.path), ['secret/data/litellm/claude-code']);
  });

  it('reads a pinned KV v2 version', async () => {
    const cred = await f.run({ path: 'secret/litellm/claude-code', field: 'api_key', version: '1' });
    assert.equal(cred.token, 'sk-old');
    assert.equal(cred.meta?.version, 1);
  });

  it('reads KV v1 and ignores its lease_duration refresh hint', async () => {
    const cred = await f.run({ path: 'kv/anthropic', field: 'api_key' });
    assert.equal(cred.token, 'sk-kv1');
    assert.equal(cred.expiresAt, undefined, 'KV v1 lease_duration is not an expiry');
    assert.equal(cred.meta?.kvVersion, 1);
  });

  it('finds a nested mount path from the preflight answer', async () => {
    const cred = await f.run({ path: 'team/kv/claude', field: 'api_key' });
    assert.equal(cred.token, 'sk-team');
  });

  it('skips the preflight when --kv-version is given', async () => {
    f.server.resetRequests();
    const cred = await f.run({ path: 'secret/single', kvVersion: '2' }, f.newContext());
    assert.equal(cred.token, 'sk-only-field');
    assert.equal(f.server.count(/^sys\/internal/), 0);
  });

  it('reads a path that already holds data/ as `vault kv get` does (data/ added again), and says how to fix it', async () => {
    f.server.resetRequests();
    const err = await f.fail({ path: 'secret/data/single' });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.equal(f.server.requests.at(-1)?.path, 'secret/data/data/single');
    assert.match(err.line, /no secret at secret\/data\/single \(read as secret\/data\/data\/single, as `vault kv get` does\); leave data\/ out: --path secret\/single$/);
  });

  it('--mount names a mount of several segments, with --kv-version and no preflight', async () => {
    f.server.resetRequests();
    const cred = await f.run({ mount: 'team/kv', path: 'claude', field: 'api_key', kvVersion: 2 }, f.newContext());
    assert.equal(cred.token, 'sk-team');
    assert.deepEqual(f.server.requests.map((r) => r.path), ['team/kv/data/claude']);
  });

  it('--mount without --kv-version asks the preflight about the mount, as `vault kv get -mount=` does', async () => {
    f.server.resetRequests();
    const cred = await f.run({ mount: '/team/kv/', path: '/claude', field: 'api_key' }, f.newContext());
    assert.equal(cred.token, 'sk-team');
    assert.deepEqual(f.server.requests.map((r) => r.path), ['sys/internal/ui/mounts/team/kv', 'team/kv/data/claude']);
  });

  it('--kv-version without --mount takes the first segment as the mount, and a miss there points at --mount', async () => {
    const err = await f.fail({ path: 'team/kv/claude', field: 'api_key', kvVersion: 2 }, f.newContext());
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, /no secrets engine is mounted at team\/ on http:\/\/127\.0\.0\.1:\d+; check the mount path \(vault secrets list\) and the namespace; for a mount of several segments pass --mount/);
  });

  it('prints the only field when --field is left out, and asks for one when there are several', async () => {
    assert.equal((await f.run({ path: 'secret/single' })).token, 'sk-only-field');
    const err = await f.fail({ path: 'secret/litellm/claude-code' });
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.message, /has fields api_key, owner; pick one with --field/);
    assertNoSecrets(err, ['sk-current', 'platform']);
  });

  it('names the fields that exist (never their values) when the field is missing', async () => {
    const err = await f.fail({ path: 'secret/litellm/claude-code', field: 'apikey' });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.message, /field "apikey" not found at secret\/litellm\/claude-code; its fields are: api_key, owner/);
    assertNoSecrets(err, ['sk-current', 'platform']);
  });

  it('refuses a field holding an object', async () => {
    const err = await f.fail({ path: 'secret/nested', field: 'api_key' });
    assert.equal(err.exitCode, ExitCode.usage);
    assertNoSecrets(err, ['sk-nested']);
  });

  it('says which path is missing, and which version when one is pinned', async () => {
    const missing = await f.fail({ path: 'secret/nope', field: 'api_key' });
    assert.equal(missing.exitCode, ExitCode.notFound);
    assert.match(missing.message, /no secret at secret\/nope/);
    const noVersion = await f.fail({ path: 'secret/single', version: 9 });
    assert.match(noVersion.message, /version 9 of secret\/single does not exist/);
    const kv1 = await f.fail({ path: 'kv/nope', field: 'x' });
    assert.match(kv1.message, /no secret at kv\/nope \(KV v1\)/);
  });

  it('reports a deleted KV v2 version as deleted', async () => {
    f.server.root.putSecret('secret/rotated', { api_key: 'sk-deleted' });
    f.server.root.deleteSecretVersion('secret/rotated', 1);
    const err = await f.fail({ path: 'secret/rotated', field: 'api_key' });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.message, /the latest version of secret\/rotated was deleted at /);
  });

  it('refuses --version on a KV v1 mount', async () => {
    const err = await f.fail({ path: 'kv/anthropic', field: 'api_key', version: 2 });
    assert.equal(err.exitCode, ExitCode.usage);
  });

  it('takes the expiry from an expires_at field (RFC 3339 or epoch seconds), or a chosen field', async () => {
    const in1h = f.ctx.now() + 3_600_000;
    f.server.root.putSecret('secret/expiring', { api_key: 'sk-exp', expires_at: new Date(in1h).toISOString(), until: Math.floor(in1h / 1000) + 60 });
    assert.equal((await f.run({ path: 'secret/expiring', field: 'api_key' })).expiresAt, in1h);
    assert.equal((await f.run({ path: 'secret/expiring', field: 'api_key', expiresField: 'until' })).expiresAt, in1h + 60_000);
    f.server.root.putSecret('secret/expired', { api_key: 'sk-exp', expires_at: new Date(f.ctx.now() - 1000).toISOString() });
    const err = await f.fail({ path: 'secret/expired', field: 'api_key' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.message, /expired at/);
  });

  it('reads a dynamic secret and takes its expiry from lease_duration', async () => {
    const cred = await f.run({ path: 'database/creds/claude', field: 'password' });
    assert.equal(cred.expiresAt, f.ctx.now() + 900_000);
    assert.equal(cred.meta?.lease, true);
    assert.equal(cred.meta?.leaseSeconds, 900);
    assert.equal(cred.meta?.kvVersion, undefined);
    assert.equal(cred.token.length > 10, true);
  });

  it('reads a non-KV path as given with --raw, without the preflight', async () => {
    f.server.resetRequests();
    const cred = await f.run({ path: 'database/creds/claude', field: 'username', raw: true }, f.newContext());
    assert.match(cred.token, /^v-claude-/);
    assert.deepEqual(f.server.requests.map((r) => r.path), ['database/creds/claude']);
  });
});
