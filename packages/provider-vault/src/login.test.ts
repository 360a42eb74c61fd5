// Logging in: static tokens, AppRole, JWT (also from another profile), Kubernetes; caching, renewal, re-login.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { ExitCode } from '@claude-key/core';
import type { AppRoleRole } from '@claude-key/vault-test-server';
import { assertNoSecrets, startVault, type VaultFixture } from './test-support/vault-fixture.js';

let f: VaultFixture;
let dir: string;
let approle: AppRoleRole;
let shortRole: AppRoleRole;
let jwtKey: CryptoKey;
const SA_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.service-account.sig';

const logins = () => f.server.count(/\/login$/);
const readOptions = { path: 'secret/claude', field: 'api_key' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vault-login-test-'));
  f = await startVault();
  const root = f.server.root;
  root.enableKv('secret', 2).putSecret('secret/claude', { api_key: 'sk-from-vault' });
  root.addPolicy('claude', [{ path: 'secret/data/claude', capabilities: ['read'] }]);
  const roles = root.enableAppRole([
    { name: 'helper', policies: ['claude'], ttl: 600, renewable: true },
    { name: 'short', policies: ['claude'], ttl: 60, renewable: false },
  ]);
  approle = roles[0]!;
  shortRole = roles[1]!;
  const pair = await generateKeyPair('ES256');
  jwtKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256' };
  root.enableJwt({ key: createLocalJWKSet({ keys: [jwk] }), boundIssuer: 'https://idp.test', roles: [{ name: 'dev', boundAudiences: ['vault'], policies: ['claude'], ttl: 300 }] });
  root.enableKubernetes([{ name: 'claude-code', serviceAccountJwt: SA_TOKEN, policies: ['claude'], ttl: 900 }]);
  await writeFile(join(dir, 'sa-token'), SA_TOKEN);
  await writeFile(join(dir, 'role-id'), `${approle.roleId}\n`);
});
after(async () => {
  await f.server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  f.env.VAULT_TOKEN = undefined;
  f.env.VAULT_ROLE_ID = approle.roleId;
  f.env.VAULT_SECRET_ID = approle.secretId;
  f.ctx.advance(24 * 3_600_000); // every test starts after all earlier logins expired
  f.server.resetRequests();
});

const signJwt = (aud = 'vault') =>
  new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer('https://idp.test').setSubject('alice')
    .setAudience(aud).setIssuedAt(Math.floor(f.ctx.now() / 1000)).setExpirationTime(Math.floor(f.ctx.now() / 1000) + 600).sign(jwtKey);

describe('vault provider: token auth', () => {
  it('uses VAULT_TOKEN', async () => {
    f.env.VAULT_TOKEN = f.server.root.createToken({ policies: ['claude'] });
    assert.equal((await f.run(readOptions)).token, 'sk-from-vault');
    assert.equal(logins(), 0);
  });

  it('falls back to ~/.vault-token', async () => {
    const home = join(dir, 'home');
    await rm(home, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(home, { mode: 0o700 }));
    await writeFile(join(home, '.vault-token'), `${f.server.root.createToken({ policies: ['claude'] })}\n`);
    await chmod(join(home, '.vault-token'), 0o600);
    f.env.HOME = home;
    try {
      assert.equal((await f.run(readOptions)).token, 'sk-from-vault');
    } finally {
      f.env.HOME = '/nonexistent-home';
    }
  });

  it('takes --token as a reference', async () => {
    f.env.MY_VAULT_TOKEN = f.server.root.createToken({ policies: ['claude'] });
    assert.equal((await f.run({ ...readOptions, token: 'env:MY_VAULT_TOKEN' })).token, 'sk-from-vault');
  });

  it('says how to get a token when there is none', async () => {
    const err = await f.fail(readOptions);
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /no Vault token found in VAULT_TOKEN or ~\/\.vault-token; run `vault login`/);
  });
});

describe('vault provider: AppRole', () => {
  it('logs in once and reuses the engine-cached login token on the next fetch', async () => {
    const options = { ...readOptions, auth: 'approle', roleId: 'file:' + join(dir, 'role-id') };
    assert.equal((await f.run(options)).token, 'sk-from-vault');
    assert.equal(logins(), 1);
    f.ctx.advance(60_000);
    assert.equal((await f.run(options)).token, 'sk-from-vault');
    assert.equal(logins(), 1, 'second fetch made no login request');
    assert.equal(f.server.count('auth/token/renew-self'), 0);
  });

  it('renews a renewable login token in the last third of its lease instead of logging in again', async () => {
    const options = { ...readOptions, auth: 'approle' };
    await f.run(options);
    f.ctx.advance(450_000); // 150 s of 600 left
    await f.run(options);
    assert.equal(f.server.count('auth/token/renew-self'), 1);
    f.ctx.advance(300_000); // past the first lease; the renewed one still has 300 s
    assert.equal((await f.run(options)).token, 'sk-from-vault');
    assert.equal(logins(), 1);
    assert.equal(f.server.count('auth/token/renew-self'), 1);
  });

  it('logs in again once a non-renewable login token has expired', async () => {
    const options = { ...readOptions, auth: 'approle', roleId: 'env:SHORT_ROLE', secretId: 'env:SHORT_SECRET' };
    f.env.SHORT_ROLE = shortRole.roleId;
    f.env.SHORT_SECRET = shortRole.secretId;
    await f.run(options);
    f.ctx.advance(45_000); // 15 s left: under the engine's 30 s minimum validity
    await f.run(options);
    assert.equal(logins(), 2);
    assert.equal(f.server.count('auth/token/renew-self'), 0);
  });

  it('logs in once more when Vault refuses a cached login token that was revoked', async () => {
    const options = { ...readOptions, auth: 'approle' };
    await f.run(options);
    assert.ok(f.server.tokens.revokeWhere() > 0);
    assert.equal((await f.run(options)).token, 'sk-from-vault');
    assert.equal(logins(), 2);
  });

  it('reports a refused login as an auth error without the secret_id', async () => {
    f.env.VAULT_SECRET_ID = 'wrong-secret-id-value';
    const err = await f.fail({ ...readOptions, auth: 'approle' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.message, /Vault refused the login at auth\/approle\/login on http:\/\/127\.0\.0\.1:\d+ \(invalid role or secret ID\)/);
    assertNoSecrets(err, ['wrong-secret-id-value', approle.roleId]);
  });

  it('names an unresolvable reference, not its value', async () => {
    f.env.VAULT_SECRET_ID = undefined;
    const err = await f.fail({ ...readOptions, auth: 'approle' });
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.message, /cannot resolve env:VAULT_SECRET_ID for --secret-id/);
  });
});

describe('vault provider: JWT and Kubernetes', () => {
  it('logs in with a JWT taken from another claude-key profile', async () => {
    const ctx = f.newContext({ secrets: { 'profile:idp': await signJwt() } });
    const cred = await f.run({ ...readOptions, auth: 'jwt', role: 'dev', jwt: 'profile:idp' }, ctx);
    assert.equal(cred.token, 'sk-from-vault');
    const login = f.server.requests.find((r) => r.path === 'auth/jwt/login');
    assert.ok(login, 'logged in at auth/jwt/login');
  });

  it('reports a JWT for another audience as refused', async () => {
    const ctx = f.newContext({ secrets: { 'profile:idp': await signJwt('someone-else') } });
    const err = await f.fail({ ...readOptions, auth: 'jwt', role: 'dev', jwt: 'profile:idp' }, ctx);
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.message, /auth\/jwt\/login/);
  });

  it('needs --role and --jwt for JWT login', async () => {
    assert.equal((await f.fail({ ...readOptions, auth: 'jwt', jwt: 'env:X' })).exitCode, ExitCode.usage);
    assert.match((await f.fail({ ...readOptions, auth: 'jwt', role: 'dev' })).message, /--jwt is required/);
  });

  it('logs in with a Kubernetes service-account token file at a custom mount path', async () => {
    f.server.root.enableKubernetes([{ name: 'claude-code', serviceAccountJwt: SA_TOKEN, policies: ['claude'] }], 'k8s-prod');
    const cred = await f.run({ ...readOptions, auth: 'kubernetes', authMount: 'k8s-prod', role: 'claude-code', jwt: 'file:' + join(dir, 'sa-token') });
    assert.equal(cred.token, 'sk-from-vault');
    assert.equal(f.server.count('auth/k8s-prod/login'), 1);
  });

  it('reports a rejected service-account token as refused', async () => {
    await writeFile(join(dir, 'bad-sa'), 'not-the-service-account');
    const err = await f.fail({ ...readOptions, auth: 'kubernetes', role: 'claude-code', jwt: 'file:' + join(dir, 'bad-sa') });
    assert.equal(err.exitCode, ExitCode.auth);
    assertNoSecrets(err, ['not-the-service-account']);
  });
});

describe('vault provider: namespaces', () => {
  it('logs in and reads inside VAULT_NAMESPACE, or the --namespace option', async () => {
    const team = f.server.namespace('team-a');
    team.enableKv('secret', 2).putSecret('secret/claude', { api_key: 'sk-team-a' });
    team.addPolicy('claude', [{ path: 'secret/data/claude', capabilities: ['read'] }]);
    const [role] = team.enableAppRole([{ name: 'helper', policies: ['claude'] }]);
    f.env.TEAM_ROLE = role!.roleId;
    f.env.TEAM_SECRET = role!.secretId;
    const options = { ...readOptions, auth: 'approle', roleId: 'env:TEAM_ROLE', secretId: 'env:TEAM_SECRET' };
    f.env.VAULT_NAMESPACE = 'team-a';
    try {
      assert.equal((await f.run(options)).token, 'sk-team-a');
    } finally {
      f.env.VAULT_NAMESPACE = undefined;
    }
    assert.ok(f.server.requests.every((r) => r.namespaceHeader === 'team-a' && r.namespace === 'team-a'));
    assert.equal((await f.run({ ...options, namespace: 'team-a' }, f.newContext())).token, 'sk-team-a');
  });
});
