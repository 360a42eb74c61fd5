// End to end with the reference gateway: what `jwt keygen` prints is the gateway's jwksFile, and minted tokens get through.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestContext } from '@claude-key/core/testing';
import { createGateway, parseConfig, type Gateway } from '@claude-key/gateway';
import provider, { jwtCommands } from './index.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { recordingIO, runCommand, tempDir } from './test-support/fixtures.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const commands = jwtCommands();

describe('jwt tokens at the reference gateway', () => {
  let keysDir: string;
  let jwksFile: string;
  let clock = T0;
  const gateways: Gateway[] = [];
  after(() => Promise.all(gateways.map((g) => g.close())));

  before(async () => {
    keysDir = await tempDir();
    jwksFile = join(keysDir, '..', `${Date.now()}-jwks.json`);
    await runCommand(commands.keygen, { keysDir, kid: 'k1' });
  });

  /** A gateway trusting the JWKS `claude-key jwt jwks` prints right now (it loads the file at start-up). */
  async function gatewayTrustingCurrentJwks(): Promise<string> {
    await writeFile(jwksFile, (await runCommand(commands.jwks, { keysDir })).out.join(''));
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: 'memory://', flushIntervalMs: 20 },
      log: { level: 'error' },
      auth: { issuers: [{ issuer: 'claude-key', audience: 'claude-gateway', jwksFile }] },
    });
    const gateway = await createGateway(config, { now: () => clock });
    gateways.push(gateway);
    return gateway.listen(0, '127.0.0.1');
  }

  async function mint(extra: Record<string, unknown> = {}) {
    const ctx = createTestContext({ now: clock, ttlMs: 5 * 60_000 });
    return (await provider.fetch(provider.options.parse({ keysDir, aud: 'claude-gateway', team: 'platform', sub: 'ada', ...extra }), ctx)).token;
  }

  /** What Claude Code sends: the helper's output as both Authorization: Bearer and X-Api-Key. */
  const ask = (url: string, token: string) =>
    fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: `Bearer ${token}`, 'x-api-key': token },
      body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('accepts a minted token, refuses another audience and, once expired, the token with 401; accepts a fresh one', async () => {
    const url = await gatewayTrustingCurrentJwks();
    const token = await mint();
    const ok = await ask(url, token);
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal((await ask(url, await mint({ aud: 'another-gateway' }))).status, 401);
    clock += 60 * 60_000;
    const expired = await ask(url, token);
    assert.equal(expired.status, 401);
    assert.match(await expired.text(), /expired/);
    assert.equal((await ask(url, await mint())).status, 200);
  });

  it('keeps accepting the old kid during a rotation and stops after retire', async () => {
    const oldToken = await mint();
    await runCommand(commands.keygen, { keysDir, kid: 'k2' });
    const overlap = await gatewayTrustingCurrentJwks();
    assert.equal((await ask(overlap, oldToken)).status, 200);
    assert.equal((await ask(overlap, await mint())).status, 200);
    await runCommand(commands.retire, { keysDir, kid: 'k1' });
    const afterRetire = await gatewayTrustingCurrentJwks();
    const refused = await ask(afterRetire, oldToken);
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /unknown kid/);
    assert.equal((await ask(afterRetire, await mint())).status, 200);
  });

  it('enrolls the local key; once approved its tokens are its user only: another sub or team is refused and never forwarded', async () => {
    const dir = await tempDir();
    await runCommand(commands.keygen, { keysDir: dir });
    const adminKey = 'ckg_admin_key_for_this_test_0123456789';
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: 'memory://', flushIntervalMs: 20 },
      log: { level: 'error' },
      auth: {
        issuers: [{ issuer: 'claude-key', audience: 'claude-gateway', trust: 'enrolled' }],
        apiKeys: [{ id: 'ops', sha256: createHash('sha256').update(adminKey).digest('hex'), user: 'ops', team: 'platform' }],
        admins: [{ apiKey: 'ops' }, { source: 'claude-key', subject: 'root' }],
      },
      policies: { teams: { platform: {}, research: {} } },
    });
    const gateway = await createGateway(config);
    gateways.push(gateway);
    const url = await gateway.listen(0, '127.0.0.1');

    const enrolled = await runCommand(commands.enroll, { gateway: url, keysDir: dir, user: 'ada', team: ['platform', 'research'] });
    const kid = enrolled.out.join('').trim();
    assert.match(enrolled.err.join(''), /pending.*\n.*claude-key-gateway keys approve/s);
    const mintNow = async (extra: Record<string, unknown> = {}) => {
      const ctx = createTestContext({ now: Date.now(), ttlMs: 5 * 60_000 });
      return (await provider.fetch(provider.options.parse({ keysDir: dir, aud: 'claude-gateway', sub: 'ada', team: 'platform', ...extra }), ctx)).token;
    };
    assert.equal((await ask(url, await mintNow())).status, 401, 'pending: not trusted yet');
    const approve = await fetch(`${url}/admin/keys/${kid}/approve`, { method: 'POST', headers: { 'x-api-key': adminKey }, body: JSON.stringify({ teams: ['platform'] }) });
    assert.equal(approve.status, 200, await approve.text());
    assert.equal((await ask(url, await mintNow())).status, 200);

    const forwarded = gateway.upstreams.mock!.count;
    for (const [extra, status] of [[{ sub: 'root' }, 401], [{ sub: 'grace' }, 401], [{ team: 'research' }, 403]] as const) {
      const r = await ask(url, await mintNow(extra));
      assert.equal(r.status, status, `${JSON.stringify(extra)}: ${await r.text()}`);
    }
    const asRoot = await fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${await mintNow({ sub: 'root' })}` } });
    assert.equal(asRoot.status, 401);
    assert.equal(gateway.upstreams.mock!.count, forwarded, 'no refused request reached the upstream');
  });

  it('enroll --login profile:sso: a login at an OpenID Provider the gateway trusts for enrollment makes the key active at once', async () => {
    const dir = await tempDir();
    await runCommand(commands.keygen, { keysDir: dir });
    const idp = await generateKeyPair('ES256');
    const idpJwks = join(dir, 'idp-jwks.json');
    await writeFile(idpJwks, JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp', alg: 'ES256' }] }));
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: 'memory://', flushIntervalMs: 20 },
      log: { level: 'error' },
      auth: {
        issuers: [
          { issuer: 'claude-key', audience: 'claude-gateway', trust: 'enrolled' },
          { issuer: 'https://sso.example', audience: 'claude-gateway', jwksFile: idpJwks, claims: { user: 'email', team: 'groups' }, approveEnrollment: true },
        ],
      },
      policies: { teams: { platform: {}, research: {} } },
    });
    const gateway = await createGateway(config);
    gateways.push(gateway);
    const url = await gateway.listen(0, '127.0.0.1');
    const now = Math.floor(Date.now() / 1000);
    const login = await new SignJWT({ email: 'ada@example.com', groups: ['platform', 'staff'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'idp' }).setIssuer('https://sso.example').setAudience('claude-gateway').setIssuedAt(now).setExpirationTime(now + 300)
      .sign(idp.privateKey);

    const io = recordingIO(createTestContext({ now: Date.now(), secrets: { 'profile:sso': login } }));
    await runCommand(commands.enroll, { gateway: url, keysDir: dir, login: 'profile:sso' }, io);
    assert.match(io.err.join(''), /enrolled for ada@example\.com and active/);
    const ctx = createTestContext({ now: Date.now(), ttlMs: 5 * 60_000 });
    const token = (await provider.fetch(provider.options.parse({ keysDir: dir, aud: 'claude-gateway', sub: 'ada@example.com', team: 'platform' }), ctx)).token;
    assert.equal((await ask(url, token)).status, 200);
  });
});
