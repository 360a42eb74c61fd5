// Console sessions behind a load balancer: two gateway processes on one PostgreSQL share them, sign-in to sign-out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestIssuer, issuerConfig, TEST_ISSUER, type TestIssuer } from '../test-support/keys.js';
import { createTestSchema, TEST_DATABASE_URL } from '../test-support/postgres.js';
import { startGatewayProcess, writeConfig, type GatewayProcess } from '../test-support/process.js';
import { hashSessionId } from './sessions.js';

describe('console sessions across two replicas sharing PostgreSQL', { timeout: 180_000 }, () => {
  let dir: string;
  let issuer: TestIssuer;
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let a: GatewayProcess;
  let b: GatewayProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ckg-sessions-'));
    issuer = await createTestIssuer();
    schema = await createTestSchema();
    const configFile = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { flushIntervalMs: 50 },
      console: { enabled: true },
      auth: { issuers: [issuerConfig(issuer)], admins: [{ source: TEST_ISSUER, subject: 'root' }] },
    });
    const env = { DATABASE_URL: TEST_DATABASE_URL, CLAUDE_KEY_GATEWAY_DB_SCHEMA: schema.schema };
    [a, b] = await Promise.all([startGatewayProcess(configFile, env), startGatewayProcess(configFile, env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sessionRows = async () => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema.schema}` });
    await c.connect();
    try {
      return (await c.query<Record<string, unknown>>(`SELECT * FROM console_sessions`)).rows;
    } finally {
      await c.end();
    }
  };

  it('signs in on A, reads and changes on B with the same cookie and CSRF token, signs out on B, and A refuses the cookie', async () => {
    const signIn = await fetch(`${a.url}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: a.url },
      body: JSON.stringify({ token: await issuer.sign({ sub: 'root' }) }),
    });
    assert.equal(signIn.status, 200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const id = cookie.slice(cookie.indexOf('=') + 1);
    const { csrf } = (await signIn.json()) as { csrf: string };

    const [row, ...more] = await sessionRows();
    assert.equal(more.length, 0);
    assert.equal(row!.id_hash, hashSessionId(id));
    assert.ok(!JSON.stringify(row).includes(id) && !JSON.stringify(row).includes(csrf), 'neither the session id nor the CSRF token is stored');

    const onB = await fetch(`${b.url}/console/api/session`, { headers: { cookie } });
    assert.equal(onB.status, 200);
    assert.deepEqual(await onB.json().then((s) => [(s as { identity: string }).identity, (s as { csrf: string }).csrf]), [`${TEST_ISSUER} root`, csrf]);

    const revoke = (token: string) =>
      fetch(`${b.url}/console/api/revocations`, {
        method: 'POST',
        headers: { cookie, origin: b.url, 'x-csrf-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'jti', value: 'leaked-token-id' }),
      });
    assert.equal((await revoke(`${csrf.slice(0, -2)}AA`)).status, 403, 'a wrong CSRF token is refused on B too');
    const changed = await revoke(csrf);
    assert.equal(changed.status, 200, await changed.clone().text());
    assert.deepEqual(await changed.json(), { kind: 'jti', value: 'leaked-token-id' });

    const signOut = await fetch(`${b.url}/console/api/session`, { method: 'DELETE', headers: { cookie, origin: b.url, 'x-csrf-token': csrf } });
    assert.equal(signOut.status, 200);
    assert.deepEqual(await sessionRows(), []);

    const onA = await fetch(`${a.url}/console/api/session`, { headers: { cookie } });
    assert.equal(onA.status, 401);
    const afterSignOut = await fetch(`${a.url}/console/api/revocations`, {
      method: 'POST',
      headers: { cookie, origin: a.url, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'jti', value: 'another' }),
    });
    assert.equal(afterSignOut.status, 401);
  });
});
