// The console's API: only admins sign in, changes need the session's CSRF token and this Origin, cookies are locked down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messagesBody, startTestGateway, type TestGateway } from '../test-support/gateway.js';
import { TEST_ISSUER } from '../test-support/keys.js';

describe('console API', () => {
  let t: TestGateway;
  let adminToken: string;

  before(async () => {
    t = await startTestGateway({
      console: { enabled: true },
      auth: { admins: [{ source: TEST_ISSUER, subject: 'root' }] },
      policies: { teams: { eng: { monthlyUsd: 100 } } },
    });
    adminToken = await t.issuer.sign({ sub: 'root', team: 'ops' });
  });
  after(() => t.close());

  const origin = () => t.url;
  const signIn = (token: string, headers: Record<string, string> = { origin: origin() }) =>
    fetch(`${t.url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }) });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

  it('refuses a valid token of an identity that is not an admin, in the Anthropic error shape', async () => {
    const res = await signIn(await t.issuer.sign({ sub: 'alice' }));
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('set-cookie'), null);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'permission_error');
    assert.match(body.error.message, /not a gateway admin/);
  });

  it('refuses a forged token with 401 and no cookie', async () => {
    const res = await signIn(`${adminToken.slice(0, -4)}AAAA`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('set-cookie'), null);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const res = await signIn(adminToken, { origin: 'https://evil.example' });
    assert.equal(res.status, 403);
  });

  it('signs an admin in with an HttpOnly, SameSite=Strict cookie scoped to /console, not Secure over plain HTTP', async () => {
    const res = await signIn(adminToken);
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^ckg_console=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\/console/);
    assert.doesNotMatch(cookie, /Secure/);
    const body = (await res.json()) as { identity: string; csrf: string };
    assert.equal(body.identity, `${TEST_ISSUER} root`);
    assert.ok(body.csrf.length >= 43);
    // The token itself is never echoed or logged.
    assert.ok(!JSON.stringify(body).includes(adminToken));
    assert.ok(!t.logs.some((l) => l.includes(adminToken)));
  });

  it('marks the cookie Secure behind a TLS proxy that says so (X-Forwarded-Proto: https)', async () => {
    const res = await signIn(adminToken, { origin: `https://${new URL(t.url).host}`, 'x-forwarded-proto': 'https' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie')!, /; Secure$/);
  });

  it('marks the cookie Secure when configured for a TLS proxy', async () => {
    const g = await startTestGateway({ console: { enabled: true, secureCookie: true }, auth: { admins: [{ source: TEST_ISSUER, subject: 'root' }] } });
    try {
      const res = await fetch(`${g.url}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://' + new URL(g.url).host },
        body: JSON.stringify({ token: await g.issuer.sign({ sub: 'root' }) }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('set-cookie')!, /; Secure/);
    } finally {
      await g.close();
    }
  });

  it('needs a session for every read; a bearer token alone is not one', async () => {
    for (const path of ['usage', 'budgets', 'identities', 'audit', 'health', 'audit/export']) {
      const res = await fetch(`${t.url}/console/api/${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(res.status, 401, path);
    }
  });

  it('refuses a change without the CSRF token, with a wrong one, or from another origin; accepts it with both', async () => {
    const res = await signIn(adminToken);
    const cookie = cookieOf(res);
    const { csrf } = (await res.json()) as { csrf: string };
    const revokeApiKey = (headers: Record<string, string>) =>
      fetch(`${t.url}/console/api/revocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, ...headers },
        body: JSON.stringify({ kind: 'jti', value: 'some-token-id' }),
      });
    assert.equal((await revokeApiKey({ origin: origin() })).status, 403, 'no CSRF header');
    assert.equal((await revokeApiKey({ origin: origin(), 'x-csrf-token': 'x'.repeat(43) })).status, 403, 'wrong CSRF token');
    assert.equal((await revokeApiKey({ 'x-csrf-token': csrf })).status, 403, 'no Origin');
    assert.equal((await revokeApiKey({ origin: 'http://evil.example', 'x-csrf-token': csrf })).status, 403, 'foreign Origin');
    const ok = await revokeApiKey({ origin: origin(), 'x-csrf-token': csrf });
    assert.equal(ok.status, 200);
    // The change is a revocation every replica applies, and an audit record naming the admin.
    const audit = (await (await fetch(`${t.url}/console/api/audit`, { headers: { cookie } })).json()) as { entries: { body: string }[] };
    const events = audit.entries.map((e) => JSON.parse(e.body) as Record<string, unknown>);
    assert.ok(events.some((e) => e.event === 'revoke' && e.value === 'some-token-id' && e.by === `${TEST_ISSUER} root`));
    assert.ok(events.some((e) => e.event === 'console.signin' && e.by === `${TEST_ISSUER} root`));
    assert.ok(t.gateway.trust.isRevoked('jti', 'some-token-id'));
  });

  it('ends a session whose admin token is revoked', async () => {
    const token = await t.issuer.sign({ sub: 'root', jti: 'admin-session-jti' });
    const res = await signIn(token);
    const cookie = cookieOf(res);
    const { csrf } = (await res.json()) as { csrf: string };
    assert.equal((await fetch(`${t.url}/console/api/session`, { headers: { cookie } })).status, 200);
    await fetch(`${t.url}/console/api/revocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: origin(), 'x-csrf-token': csrf },
      body: JSON.stringify({ kind: 'jti', value: 'admin-session-jti' }),
    });
    assert.equal((await fetch(`${t.url}/console/api/session`, { headers: { cookie } })).status, 401);
  });

  it('shows usage that requests through the gateway produced, and budgets with spend against them', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${t.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await t.issuer.sign({ sub: 'bob', team: 'eng' })}`, 'content-type': 'application/json' },
        body: JSON.stringify(messagesBody()),
      });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
    const cookie = cookieOf(await signIn(adminToken));
    const usage = (await (await fetch(`${t.url}/console/api/usage?by=user&period=day`, { headers: { cookie } })).json()) as {
      buckets: string[];
      series: { key: string; requests: number[]; costUsd: number[] }[];
      totals: { key: string; requests: number }[];
    };
    assert.equal(usage.buckets.length, 24);
    const bob = usage.series.find((s) => s.key === 'bob')!;
    assert.equal(bob.requests.reduce((a, b) => a + b, 0), 3);
    assert.equal(bob.requests[23], 3, 'this hour is the last bucket');
    assert.ok(bob.costUsd[23]! > 0);
    const budgets = (await (await fetch(`${t.url}/console/api/budgets`, { headers: { cookie } })).json()) as {
      scopes: { kind: string; id: string; monthlyUsd?: number; monthSpentUsd: number; monthForecastUsd: number }[];
    };
    const eng = budgets.scopes.find((s) => s.kind === 'team' && s.id === 'eng')!;
    assert.equal(eng.monthlyUsd, 100);
    assert.ok(eng.monthSpentUsd > 0 && eng.monthForecastUsd >= eng.monthSpentUsd);
    const bad = await fetch(`${t.url}/console/api/usage?by=nobody`, { headers: { cookie } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
  });

  it('shows, under health, Redis up and a fallback from a deployment that is down to the next one', async () => {
    const g = await startTestGateway({
      console: { enabled: true },
      // No policies here, so nothing is written to the shared Redis: only its health is read.
      redis: { url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
      auth: { admins: [{ source: TEST_ISSUER, subject: 'root' }] },
      upstreams: { down: { type: 'mock', url: 'http://127.0.0.1:1' }, mock: { type: 'mock' } },
      models: [{ name: 'claude-sonnet-4-6', deployments: [{ upstream: 'down', model: 'm1', weight: 1 }, { upstream: 'mock', model: 'm2', weight: 0 }] }],
    });
    try {
      const r = await fetch(`${g.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await g.issuer.sign()}`, 'content-type': 'application/json' },
        body: JSON.stringify(messagesBody()),
      });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      const signin = await fetch(`${g.url}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: g.url },
        body: JSON.stringify({ token: await g.issuer.sign({ sub: 'root' }) }),
      });
      const health = (await (await fetch(`${g.url}/console/api/health`, { headers: { cookie: cookieOf(signin) } })).json()) as {
        store: { ok: boolean };
        redis: { configured: boolean; ok: boolean };
        fallbacks: { from: string; to: string; requests: number }[];
        lastHour: { deployment: string; requests: number }[];
      };
      assert.equal(health.store.ok, true);
      assert.deepEqual([health.redis.configured, health.redis.ok], [true, true]);
      assert.deepEqual(health.fallbacks, [{ from: 'down/m1', to: 'mock/m2', requests: 1 }]);
      assert.deepEqual(health.lastHour.map((d) => [d.deployment, d.requests]), [['mock/m2', 1]]);
    } finally {
      await g.close();
    }
  });

  it('serves the page with a strict CSP, and is absent when the console is off', async () => {
    const page = await fetch(`${t.url}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(await page.text(), /app\.js/);
    assert.equal((await fetch(`${t.url}/console/../../etc/passwd`)).status, 404);
    const off = await startTestGateway({});
    try {
      assert.equal((await fetch(`${off.url}/console/`)).status, 404);
    } finally {
      await off.close();
    }
  });
});
