// Pins the test server's wire shapes against Vault's documented requests and responses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, createLocalJWKSet, importSPKI, jwtVerify } from 'jose';
import { PERMISSION_DENIED, VaultTestServer } from './index.js';

let server: VaultTestServer;
let clock = Date.UTC(2026, 0, 1);

async function call(path: string, init: { method?: string; token?: string; namespace?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers['x-vault-token'] = init.token;
  if (init.namespace) headers['x-vault-namespace'] = init.namespace;
  const res = await fetch(`${server.address}/v1/${path}`, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers,
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

before(async () => {
  server = await VaultTestServer.start({ now: () => clock });
  server.root.enableKv('secret', 2).enableKv('kv', 1).enableDatabase([{ name: 'ro', ttl: 600 }]).enableTransit();
  server.root.putSecret('secret/app', { api_key: 'v1-key' });
  server.root.putSecret('secret/app', { api_key: 'v2-key' });
  server.root.putSecret('kv/app', { api_key: 'plain' });
  server.root.addPolicy('app', [{ path: 'secret/data/app', capabilities: ['read'] }]);
});
after(() => server.close());

describe('vault test server', () => {
  it('answers KV v2 reads with data.data and data.metadata, latest or pinned version', async () => {
    const latest = await call('secret/data/app', { token: server.rootToken });
    assert.equal(latest.status, 200);
    assert.equal(latest.body.data.data.api_key, 'v2-key');
    assert.equal(latest.body.data.metadata.version, 2);
    assert.equal(latest.body.data.metadata.deletion_time, '');
    const pinned = await call('secret/data/app?version=1', { token: server.rootToken });
    assert.equal(pinned.body.data.data.api_key, 'v1-key');
  });

  it('answers KV v1 reads with the secret as data and the 768h refresh hint, and no lease id', async () => {
    const res = await call('kv/app', { token: server.rootToken });
    assert.deepEqual(res.body.data, { api_key: 'plain' });
    assert.equal(res.body.lease_duration, 2764800);
    assert.equal(res.body.lease_id, '');
  });

  it('answers the mounts preflight with the KV version, and 403 for an unknown mount', async () => {
    const res = await call('sys/internal/ui/mounts/secret/app', { token: server.rootToken });
    assert.equal(res.body.data.path, 'secret/');
    assert.equal(res.body.data.type, 'kv');
    assert.deepEqual(res.body.data.options, { version: '2' });
    const v1 = await call('sys/internal/ui/mounts/kv/app', { token: server.rootToken });
    assert.deepEqual(v1.body.data.options, { version: '1' });
    const none = await call('sys/internal/ui/mounts/nope/x', { token: server.rootToken });
    assert.equal(none.status, 403);
  });

  it('enforces policies with 403 and the errors array, and 404 with empty errors for a missing secret', async () => {
    const token = server.root.createToken({ policies: ['app'] });
    assert.equal((await call('secret/data/app', { token })).status, 200);
    const denied = await call('secret/data/other', { token });
    assert.deepEqual(denied, { status: 403, body: { errors: [PERMISSION_DENIED] } });
    assert.deepEqual(await call('secret/data/missing', { token: server.rootToken }), { status: 404, body: { errors: [] } });
    assert.equal((await call('secret/data/app', { token: 'hvs.bogus' })).status, 403);
  });

  it('returns dynamic leases with lease_id and lease_duration', async () => {
    const res = await call('database/creds/ro', { token: server.rootToken });
    assert.match(res.body.lease_id, /^database\/creds\/ro\//);
    assert.equal(res.body.lease_duration, 600);
    assert.equal(res.body.renewable, true);
    assert.ok(res.body.data.username && res.body.data.password);
  });

  it('logs in with AppRole, returns auth.client_token and renews it with renew-self', async () => {
    const [role] = server.root.enableAppRole([{ name: 'ci', policies: ['app'], ttl: 60 }]);
    const bad = await call('auth/approle/login', { body: { role_id: role!.roleId, secret_id: 'wrong' } });
    assert.deepEqual(bad, { status: 400, body: { errors: ['invalid role or secret ID'] } });
    const res = await call('auth/approle/login', { body: { role_id: role!.roleId, secret_id: role!.secretId } });
    assert.equal(res.body.auth.lease_duration, 60);
    assert.equal(res.body.auth.renewable, true);
    const token = res.body.auth.client_token as string;
    clock += 50_000;
    assert.equal((await call('auth/token/lookup-self', { token })).body.data.ttl, 10);
    const renewed = await call('auth/token/renew-self', { token, body: {} });
    assert.equal(renewed.body.auth.lease_duration, 60);
    clock += 61_000;
    assert.equal((await call('auth/token/lookup-self', { token })).status, 403, 'expired token is refused');
  });

  it('verifies JWT logins against the configured key set and bound audience', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    server.root.enableJwt({ key: createLocalJWKSet({ keys: [jwk] }), roles: [{ name: 'dev', boundAudiences: ['vault'], policies: ['app'] }] });
    const sign = (aud: string) =>
      new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice').setAudience(aud).setIssuedAt(clock / 1000).setExpirationTime(clock / 1000 + 300).sign(privateKey);
    const ok = await call('auth/jwt/login', { body: { role: 'dev', jwt: await sign('vault') } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.auth.policies, ['app']);
    const wrongAud = await call('auth/jwt/login', { body: { role: 'dev', jwt: await sign('other') } });
    assert.equal(wrongAud.status, 400);
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","aud":"vault"}').toString('base64url')}.`;
    assert.equal((await call('auth/jwt/login', { body: { role: 'dev', jwt: noneAlg } })).status, 400);
  });

  it('signs with transit in JWS marshaling so the result verifies as an ES256 JWT', async () => {
    server.root.createTransitKey('jwt-signer', 'ecdsa-p256');
    const signingInput = `${Buffer.from('{"alg":"ES256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'bob', exp: 4102444800 })).toString('base64url')}`;
    const res = await call('transit/sign/jwt-signer', {
      token: server.rootToken,
      body: { input: Buffer.from(signingInput).toString('base64'), hash_algorithm: 'sha2-256', marshaling_algorithm: 'jws' },
    });
    assert.match(res.body.data.signature, /^vault:v1:[A-Za-z0-9_-]+$/);
    const keys = await call('transit/keys/jwt-signer', { token: server.rootToken });
    assert.equal(keys.body.data.type, 'ecdsa-p256');
    assert.equal(keys.body.data.latest_version, 1);
    const publicKey = await importSPKI(keys.body.data.keys['1'].public_key, 'ES256');
    const jwt = `${signingInput}.${res.body.data.signature.split(':')[2]}`;
    const { payload } = await jwtVerify(jwt, publicKey, { currentDate: new Date(clock) });
    assert.equal(payload.sub, 'bob');
  });

  it('scopes state to namespaces given by header or path prefix', async () => {
    const team = server.namespace('team-a');
    team.enableKv('secret', 2);
    team.putSecret('secret/app', { api_key: 'team-key' });
    const token = team.createToken({ policies: ['root'] });
    const viaHeader = await call('secret/data/app', { token, namespace: 'team-a' });
    assert.equal(viaHeader.body.data.data.api_key, 'team-key');
    const viaPrefix = await call('team-a/secret/data/app', { token });
    assert.equal(viaPrefix.body.data.data.api_key, 'team-key');
    assert.equal((await call('secret/data/app', { token })).status, 403, 'a namespace token is not valid in root');
  });

  it('answers sealed and standby states with the texts and codes of http/handler.go, and counts requests', async () => {
    server.resetRequests();
    server.sealed = true;
    assert.deepEqual(await call('secret/data/app', { token: server.rootToken }), { status: 503, body: { errors: ['Vault is sealed'] } });
    server.sealed = false;
    server.standby = 'no-active-node';
    assert.deepEqual(await call('secret/data/app', { token: server.rootToken }), {
      status: 500,
      body: { errors: ['local node not active but active cluster node not found'] },
    });
    server.standby = 'no-leader';
    assert.deepEqual(await call('secret/data/app', { token: server.rootToken }), { status: 503, body: { errors: ['no active Vault instance found'] } });
    server.standby = { redirectTo: 'https://vault-active.example:8200' };
    const redirected = await fetch(`${server.address}/v1/secret/data/app?version=1`, { redirect: 'manual', headers: { 'x-vault-token': server.rootToken } });
    assert.equal(redirected.status, 307);
    assert.equal(redirected.headers.get('location'), 'https://vault-active.example:8200/v1/secret/data/app?version=1');
    server.standby = false;
    assert.equal(server.count('secret/data/app'), 4);
  });

  it('signs with transit only under an `update` grant (no existence check there), and reads a missing key as 404', async () => {
    server.root.createTransitKey('signer');
    server.root.addPolicy('create-only', [{ path: 'transit/sign/signer', capabilities: ['create'] }]);
    server.root.addPolicy('update', [{ path: 'transit/sign/signer', capabilities: ['update'] }]);
    const input = { input: Buffer.from('x').toString('base64') };
    assert.equal((await call('transit/sign/signer', { token: server.root.createToken({ policies: ['create-only'] }), body: input })).status, 403);
    assert.equal((await call('transit/sign/signer', { token: server.root.createToken({ policies: ['update'] }), body: input })).status, 200);
    assert.deepEqual(await call('transit/keys/nope', { token: server.rootToken }), { status: 404, body: { errors: [] } });
    assert.deepEqual(await call('transit/sign/nope', { token: server.rootToken, body: input }), { status: 400, body: { errors: ['signing key not found'] } });
  });

  it('names a mount in a child namespace with the namespace\'s full path in the preflight, and refuses with the preflight\'s text', async () => {
    server.namespace('corp');
    server.namespace('corp/team').enableKv('kv', 2);
    const res = await call('sys/internal/ui/mounts/team/kv/app', { token: server.rootToken, namespace: 'corp' });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.path, 'corp/team/kv/');
    const own = await call('sys/internal/ui/mounts/kv/app', { token: server.rootToken, namespace: 'corp/team' });
    assert.equal(own.body.data.path, 'kv/');
    const none = await call('sys/internal/ui/mounts/nope/x', { token: server.rootToken });
    assert.deepEqual(none, { status: 403, body: { errors: ['preflight capability check returned 403, please ensure client\'s policies grant access to path "nope/x/"'] } });
  });

  it('lets a parent namespace\'s token into a child namespace where its policies name the child path', async () => {
    const corp = server.namespace('corp');
    server.namespace('corp/team').enableKv('kv', 2).putSecret('kv/app', { api_key: 'child-key' });
    corp.addPolicy('team-kv', [{ path: 'team/kv/data/app', capabilities: ['read'] }]);
    const token = corp.createToken({ policies: ['team-kv'] });
    const res = await call('team/kv/data/app', { token, namespace: 'corp' });
    assert.equal(res.body.data.data.api_key, 'child-key');
    const viaChild = await call('kv/data/app', { token, namespace: 'corp/team' });
    assert.equal(viaChild.body.data.data.api_key, 'child-key', 'the same secret, named from the child namespace');
    assert.equal((await call('team/kv/data/other', { token, namespace: 'corp' })).status, 403);
  });

  it('issues identity tokens for the caller\'s entity, verifiable through discovery and the keys document', async () => {
    const root = server.root;
    root.createOidcKey('gateway', 'ES256');
    const role = root.createOidcRole('claude', { key: 'gateway', ttl: 900, template: '{"team": {{identity.entity.metadata.team}}, "groups": {{identity.entity.groups.names}}, "iss": "forged"}' });
    const entityId = root.createEntity({ name: 'alice', metadata: { team: 'platform' }, groups: ['eng'] });
    root.addPolicy('identity', [{ path: 'identity/oidc/token/claude', capabilities: ['read'] }]);
    const token = root.createToken({ policies: ['identity'], entityId });
    const issued = await call('identity/oidc/token/claude', { token });
    assert.equal(issued.status, 200);
    assert.equal(issued.body.data.client_id, role.clientId);
    assert.equal(issued.body.data.ttl, 900);
    const discovery = await call('identity/oidc/.well-known/openid-configuration');
    assert.equal(discovery.body.issuer, `${server.address}/v1/identity/oidc`);
    assert.equal(discovery.body.jwks_uri, `${server.address}/v1/identity/oidc/.well-known/keys`);
    const keys = await call('identity/oidc/.well-known/keys');
    const { payload } = await jwtVerify(issued.body.data.token, createLocalJWKSet(keys.body), { issuer: discovery.body.issuer, audience: role.clientId, currentDate: new Date(clock) });
    assert.equal(payload.sub, entityId);
    assert.equal(payload.team, 'platform');
    assert.deepEqual(payload.groups, ['eng']);
    assert.equal(payload.exp! - payload.iat!, 900);
    const noEntity = await call('identity/oidc/token/claude', { token: root.createToken({ policies: ['identity'] }) });
    assert.deepEqual(noEntity, { status: 400, body: { errors: ["no entity associated with the request's token"] } });
    assert.deepEqual(await call('identity/oidc/token/nope', { token: server.rootToken }), { status: 400, body: { errors: ['role "nope" not found'] } });
  });
});
