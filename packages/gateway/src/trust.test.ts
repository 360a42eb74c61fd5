// Every claim has an authority: enrolled keys are their user, service issuers stay in their pins, admins are identities.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK } from 'jose';
import { ENROLL_AUDIENCE } from './admin.js';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';
import { createTestIssuer, ENROLLED_ISSUER as ENROLLED, issuerConfig, TEST_AUDIENCE, TEST_ISSUER, userKey, type TestIssuer } from './test-support/keys.js';

const SERVICE = 'ci-signer';

describe('trust sources: no caller can be someone else', () => {
  let t: TestGateway;
  let service: TestIssuer;
  let mallory: Awaited<ReturnType<typeof userKey>>;
  let root: string;

  before(async () => {
    service = await createTestIssuer('ci-key');
    const oidc = await createTestIssuer();
    t = await startTestGateway({
      auth: {
        issuers: [
          { ...issuerConfig(oidc), approveEnrollment: true },
          { issuer: ENROLLED, audience: TEST_AUDIENCE, trust: 'enrolled' },
          { issuer: SERVICE, audience: TEST_AUDIENCE, trust: 'service', jwksFile: service.jwksFile, subjects: ['ci-*'], teams: ['platform'] },
        ],
        admins: [{ source: TEST_ISSUER, subject: 'root' }, { source: TEST_ISSUER, group: 'gateway-admins' }],
      },
      policies: { teams: { eng: {}, research: {}, platform: {} } },
    }, { issuer: oidc });
    root = await t.issuer.sign({ sub: 'root', team: 'ops' });
    mallory = await userKey();
  });
  after(() => t.close());

  const post = (token: string, path = '/v1/messages') =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(messagesBody()) });
  const admin = (path: string, body?: unknown, token = root) =>
    fetch(`${t.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  async function refused(res: Promise<Response>, status: number, message: RegExp) {
    const before = t.mock.count;
    const r = await res;
    const body = (await r.json()) as { error: { type: string; message: string } };
    assert.equal(r.status, status, body.error.message);
    assert.match(body.error.message, message);
    assert.equal(t.mock.count, before, 'nothing may reach the upstream');
  }
  const enroll = async (key: Awaited<ReturnType<typeof userKey>>, user: string, teams: string[]) =>
    fetch(`${t.url}/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwk: key.jwk, user, teams, proof: await key.sign({ sub: user }, ENROLL_AUDIENCE) }),
    });

  it('a pending key authenticates nobody; an approved one is its user in its teams', async () => {
    // The old gateway knew no enrolled keys at all: only a JWKS file, whose holders could claim any sub.
    const r = await enroll(mallory, 'mallory', ['eng', 'research']);
    assert.equal(r.status, 202);
    const pending = (await r.json()) as { kid: string; status: string };
    assert.deepEqual([pending.kid, pending.status], [mallory.kid, 'pending']);
    await refused(post(await mallory.sign({ sub: 'mallory', team: 'eng' })), 401, /unknown kid/);

    // The admin decides the teams, not the requester.
    const approved = await admin(`/admin/keys/${mallory.kid}/approve`, { teams: ['eng'] });
    assert.equal(approved.status, 200, await approved.clone().text());
    const before = t.mock.count;
    assert.equal((await post(await mallory.sign({ sub: 'mallory', team: 'eng' }))).status, 200);
    assert.equal((await post(await mallory.sign())).status, 200, 'no sub and no team: the enrolled user and first team');
    assert.equal(t.mock.count, before + 2);
  });

  it('refuses a valid enrolled key minting the sub of an admin or a colleague, or another team; nothing reaches the upstream', async () => {
    await refused(post(await mallory.sign({ sub: 'root' })), 401, /does not match the user its key is enrolled for/);
    await refused(post(await mallory.sign({ sub: 'alice', team: 'eng' })), 401, /does not match/);
    await refused(post(await mallory.sign({ sub: 'mallory', team: 'research' })), 403, /may not use team "research"/);
    await refused(post(await mallory.sign({ sub: 'mallory', team: 'platform' })), 403, /may not use team/);
    // Not an admin either, whatever it claims: admin rights belong to (source, subject).
    await refused(admin('/admin/keys', undefined, await mallory.sign({ sub: 'root' })), 401, /does not match/);
    await refused(admin('/admin/keys', undefined, await mallory.sign()), 403, /claude-key mallory is not a gateway admin/);
    await refused(admin(`/admin/keys/${mallory.kid}/approve`, { teams: ['research'] }, await mallory.sign()), 403, /not a gateway admin/);
  });

  it('pins a service issuer to its subjects and teams', async () => {
    const sign = (claims: JWTPayload) => service.sign({ iss: SERVICE, ...claims });
    assert.equal((await post(await sign({ sub: 'ci-release', team: 'platform' }))).status, 200);
    await refused(post(await sign({ sub: 'root', team: 'platform' })), 401, /may not assert subject "root"/);
    await refused(post(await sign({ sub: 'ci-release', team: 'eng' })), 403, /may not assert team "eng"/);
    // A subject named like an admin from another source is not that admin.
    await refused(admin('/admin/keys', undefined, await sign({ sub: 'ci-root', team: 'platform' })), 403, /not a gateway admin/);
  });

  it('grants admin rights to an IdP group of the named source', async () => {
    const member = await t.issuer.sign({ sub: 'dana', team: 'eng', groups: ['eng', 'gateway-admins'] });
    assert.equal((await admin('/admin/keys', undefined, member)).status, 200);
    // The same group asserted by a service issuer is not the IdP's group.
    const fake = await service.sign({ iss: SERVICE, sub: 'ci-x', team: 'platform', groups: ['gateway-admins'] });
    await refused(admin('/admin/keys', undefined, fake), 403, /not a gateway admin/);
  });

  it('approves at once an enrollment proven by a login at an OpenID Provider that may approve, within the teams it asserts', async () => {
    const dana = await userKey();
    const login = await t.issuer.sign({ sub: 'dana', team: 'eng', groups: ['research', 'not-a-team'] });
    const send = async (key: Awaited<ReturnType<typeof userKey>>, body: Record<string, unknown>, token = login) =>
      fetch(`${t.url}/enroll`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jwk: key.jwk, proof: await key.sign(body.user ? { sub: body.user } : {}, ENROLL_AUDIENCE), ...body }),
      });
    const r = await send(dana, {});
    assert.equal(r.status, 202);
    assert.deepEqual(await r.json(), { kid: dana.kid, status: 'active', user: 'dana', teams: ['eng', 'research'], issuer: ENROLLED, audience: TEST_AUDIENCE });
    assert.equal((await post(await dana.sign({ sub: 'dana', team: 'research' }))).status, 200, 'usable at once');

    const other = await userKey();
    const asRoot = await send(other, { user: 'root' });
    assert.equal(asRoot.status, 403, 'a login enrolls keys for itself only');
    const platform = await send(other, { teams: ['platform'] });
    assert.equal(platform.status, 403, 'and only for teams the login asserts');
    await refused(post(await other.sign()), 401, /unknown kid/);
  });

  it('refuses an enrollment without proof of holding the key, and a key with its private half', async () => {
    const other = await userKey();
    const proofByOther = await other.sign({ sub: 'eve' }, ENROLL_AUDIENCE);
    const r = await fetch(`${t.url}/enroll`, { method: 'POST', body: JSON.stringify({ jwk: mallory.jwk, user: 'eve', teams: [], proof: proofByOther }) });
    assert.equal(r.status, 401);
    const withPrivate = { ...(await exportJWK(other.privateKey)) };
    const p = await fetch(`${t.url}/enroll`, { method: 'POST', body: JSON.stringify({ jwk: withPrivate, user: 'eve', proof: proofByOther }) });
    assert.equal(p.status, 400);
    assert.match(((await p.json()) as { error: { message: string } }).error.message, /private key/);
  });

  it('revokes by key, token id and identity at once, and audits every enrollment, approval and revocation', async () => {
    const jtiToken = await mallory.sign({ jti: 'leaked-1' });
    assert.equal((await post(jtiToken)).status, 200);
    assert.equal((await admin('/admin/revocations', { kind: 'jti', value: 'leaked-1', reason: 'pasted in chat' })).status, 201);
    await refused(post(jtiToken), 401, /revoked/);
    assert.equal((await post(await mallory.sign({ jti: 'fresh' }))).status, 200, 'other tokens of the key still work');

    const ci = await service.sign({ iss: SERVICE, sub: 'ci-nightly', team: 'platform' });
    assert.equal((await post(ci)).status, 200);
    assert.equal((await admin('/admin/revocations', { kind: 'subject', value: `${SERVICE} ci-nightly` })).status, 201);
    await refused(post(ci), 401, /revoked/);

    const cached = await mallory.sign();
    assert.equal((await post(cached)).status, 200);
    assert.equal((await admin(`/admin/keys/${mallory.kid}/revoke`, { reason: 'laptop lost' })).status, 200);
    await refused(post(cached), 401, /revoked/);
    await refused(post(await mallory.sign()), 401, /unknown kid/);

    const rows = await t.gateway.store.query<{ body: string }>(`SELECT body FROM audit_log ORDER BY seq`);
    const events = rows.map((r) => JSON.parse(r.body) as { event?: string; by?: string; kind?: string }).filter((e) => e.event);
    assert.deepEqual(
      events.map((e) => `${e.event}${e.kind ? `:${e.kind}` : ''}`),
      ['key.enroll', 'key.approve', 'key.enroll', 'key.approve', 'revoke:jti', 'revoke:subject', 'key.revoke'],
    );
    assert.equal(events[1]!.by, `${TEST_ISSUER} root`);
    assert.equal(events[3]!.by, `${TEST_ISSUER} dana`, 'the login that proved the enrollment');
  });
});

describe('enrolled keys expire, and a missed notification is caught by the poll', () => {
  it('refuses an approved key after its lifetime and applies a revocation written behind its back within the poll period', async () => {
    let clock = Date.now();
    const t = await startTestGateway(
      { auth: { issuers: [{ issuer: ENROLLED, audience: TEST_AUDIENCE, trust: 'enrolled' }], enrollment: { keyLifetimeDays: 1, maxPending: 10 }, trustPollMs: 200 } },
      { now: () => clock },
    );
    try {
      const key = await userKey();
      const db = { kind: t.gateway.store.kind, rows: <T>(sql: string, params?: unknown[]) => t.gateway.store.query<T>(sql, params), applyTrustChange: t.gateway.store.applyTrustChange.bind(t.gateway.store) };
      const { enrollKey, decideKey } = await import('./auth/trust.js');
      await enrollKey(db, { by: 'test', now: clock }, { jwk: key.jwk, user: 'ada', teams: ['eng'], lifetimeDays: 1, maxPending: 10 });
      await decideKey(db, { by: 'test', now: clock }, key.kid, 'approve', { lifetimeDays: 1 });
      await t.gateway.trust.reload();
      const send = async (token: string) => {
        const r = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(messagesBody()) });
        await r.arrayBuffer();
        return r.status;
      };
      // Tokens on the gateway's clock, which moves below (a loaded machine can be slow enough to matter).
      const at = (claims: JWTPayload = {}) => key.sign({ iat: Math.floor(clock / 1000), exp: Math.floor(clock / 1000) + 300, ...claims });
      assert.equal(await send(await at()), 200);

      // A revocation row written straight into the store: no reload is triggered, only the poll finds it.
      await t.gateway.store.query(`INSERT INTO revocations (kind, value, revoked_by, created_at) VALUES ('jti', 'behind-its-back', 'test', $1)`, [new Date().toISOString()]);
      const token = await at({ jti: 'behind-its-back' });
      const started = performance.now();
      let status = await send(token);
      while (status === 200 && performance.now() - started < 3_000) {
        await new Promise((r) => setTimeout(r, 50));
        status = await send(token);
      }
      assert.equal(status, 401);
      assert.ok(performance.now() - started < 1_500, 'within a few poll periods');

      clock += 86_400_000 + 1_000; // past the key's one-day lifetime
      const late = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${await at()}` }, body: JSON.stringify(messagesBody()) });
      assert.equal(late.status, 401);
      assert.match(((await late.json()) as { error: { message: string } }).error.message, /unknown kid/, 'refused for the key, not for the token');
    } finally {
      await t.close();
    }
  });
});

describe('onboarding discovery', () => {
  it('publishes the enrolled issuer, its audience and where to enroll at /.well-known/claude-key, without a credential', async () => {
    const t = await startTestGateway({
      auth: { issuers: [{ issuer: ENROLLED, audience: TEST_AUDIENCE, trust: 'enrolled' }, { issuer: 'https://login.example.com', audience: 'gw', jwksUrl: 'https://login.example.com/certs', clientId: 'claude-code' }] },
    });
    try {
      const r = await fetch(`${t.url}/.well-known/claude-key`);
      assert.equal(r.status, 200);
      const doc = (await r.json()) as { enrollment: { issuer: string; audience: string; endpoint: string }[]; openid: { issuer: string; clientId?: string }[] };
      assert.deepEqual(doc.enrollment.map((e) => [e.issuer, e.audience, e.endpoint]), [[ENROLLED, TEST_AUDIENCE, '/enroll']]);
      assert.deepEqual(doc.openid, [{ issuer: 'https://login.example.com', audience: 'gw', clientId: 'claude-code' }]);
    } finally {
      await t.close();
    }
  });
});

describe('admins are identities', () => {
  it('refuses a bare user name in auth.admins', async () => {
    await assert.rejects(startTestGateway({ auth: { admins: ['root' as never] } }), /name an identity/);
  });
});
