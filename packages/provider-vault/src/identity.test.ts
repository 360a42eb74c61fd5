// `vault identity --role NAME`: a Vault-signed per-user JWT from identity/oidc/token, verified the way a gateway would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ExitCode } from '@claude-key/core';
import type { AppRoleRole, OidcRole } from '@claude-key/vault-test-server';
import { assertNoSecrets, startVault, type VaultFixture } from './test-support/vault-fixture.js';

let f: VaultFixture;
let role: AppRoleRole;
let claude: OidcRole;
let entityId: string;

before(async () => {
  f = await startVault();
  const root = f.server.root;
  root.createOidcKey('gateway-key', 'ES256');
  claude = root.createOidcRole('claude', {
    key: 'gateway-key',
    ttl: 900,
    template: '{"email": {{identity.entity.metadata.email}}, "team": {{identity.entity.metadata.team}}, "groups": {{identity.entity.groups.names}}}',
  });
  entityId = root.createEntity({ name: 'alice', metadata: { email: 'alice@example.com', team: 'platform' }, groups: ['eng'] });
  root.addPolicy('identity', [{ path: 'identity/oidc/token/claude', capabilities: ['read'] }, { path: 'identity/oidc/token/*', capabilities: ['read'] }]);
  [role] = root.enableAppRole([{ name: 'alice', policies: ['identity'], entityId }]) as [AppRoleRole];
  f.env.VAULT_ROLE_ID = role.roleId;
  f.env.VAULT_SECRET_ID = role.secretId;
});
after(() => f.server.close());

describe('vault identity', () => {
  it('prints the identity token of the login\'s entity, expiring with its exp, verifiable through Vault\'s discovery', async () => {
    const cred = await f.run({ kind: 'identity', role: 'claude', auth: 'approle' });
    assert.equal(cred.meta?.kind, 'identity');
    assert.equal(cred.meta?.clientId, claude.clientId);
    const discovery = (await (await fetch(`${f.server.address}/v1/identity/oidc/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    const { payload } = await jwtVerify(cred.token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: discovery.issuer,
      audience: claude.clientId,
      currentDate: new Date(f.ctx.now()),
    });
    assert.deepEqual([payload.sub, payload.email, payload.team, payload.groups], [entityId, 'alice@example.com', 'platform', ['eng']]);
    assert.equal(cred.expiresAt, payload.exp! * 1000);
    assert.equal(payload.exp! - payload.iat!, 900);
  });

  it('says why when the login has no entity (a plain token), without echoing the token', async () => {
    const bare = f.server.root.createToken({ policies: ['identity'] });
    f.env.BARE = bare;
    const err = await f.fail({ kind: 'identity', role: 'claude', token: 'env:BARE' }, f.newContext());
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.line, /^Vault cannot sign an identity token for this login: the token has no identity entity; log in with an auth method that maps to an entity/);
    assertNoSecrets(err, [bare]);
  });

  it('names a missing role and how to create it', async () => {
    const err = await f.fail({ kind: 'identity', role: 'nope', auth: 'approle' }, f.newContext());
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, /has no identity token role "nope"; create it: vault write identity\/oidc\/role\/nope key=<named key>/);
  });

  it('needs --role, and --path only for secrets', () => {
    assert.throws(() => f.run({ kind: 'identity' }), /vault identity needs --role/);
    assert.throws(() => f.run({ field: 'api_key' }), /needs --path/);
  });
});
