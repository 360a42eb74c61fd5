// Two gateway processes sharing the real Redis and PostgreSQL: one combined rate limit and budget, one audit chain.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestIssuer, issuerConfig, type TestIssuer } from './test-support/keys.js';
import { createTestSchema, TEST_DATABASE_URL } from './test-support/postgres.js';
import { runCli, startGatewayProcess, writeConfig, type GatewayProcess } from './test-support/process.js';
import { messagesBody } from './test-support/gateway.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('two replicas sharing Redis and PostgreSQL', { timeout: 180_000 }, () => {
  let dir: string;
  let issuer: TestIssuer;
  let replicas: GatewayProcess[] = [];
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let configFile: string;
  let env: NodeJS.ProcessEnv;
  // Unique names per run: limiter and ledger keys live in Redis beyond this test.
  const run = randomBytes(4).toString('hex');
  const limited = `limited-${run}`;
  const spender = `spender-${run}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ckg-replicas-'));
    issuer = await createTestIssuer();
    schema = await createTestSchema();
    configFile = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { flushIntervalMs: 50 },
      auth: { issuers: [issuerConfig(issuer)] },
      policies: { users: { [limited]: { requestsPerMinute: 5 }, [spender]: { dailyUsd: 0.0001 } } },
    });
    env = { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL, CLAUDE_KEY_GATEWAY_DB_SCHEMA: schema.schema };
    replicas = await Promise.all([startGatewayProcess(configFile, env), startGatewayProcess(configFile, env)]);
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (replica: GatewayProcess, user: string) => {
    const token = await issuer.sign({ sub: user });
    const r = await fetch(`${replica.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' }, body: JSON.stringify(messagesBody()) });
    await r.arrayBuffer();
    return r.status;
  };

  it('enforces one combined requests-per-minute limit across both replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await send(replicas[i % 2]!, limited));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it('shares one budget: spend on one replica is refused on the other', async () => {
    assert.equal(await send(replicas[0]!, spender), 200);
    // The ledger update follows the response; give it a moment (bounded) to land in Redis.
    let status = 0;
    for (let i = 0; i < 20 && status !== 403; i++) {
      status = await send(replicas[1]!, spender);
      if (status !== 403) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 403);
  });

  it('both replicas write one intact audit chain into PostgreSQL', async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    const verify = await runCli(['audit', 'verify', '--config', configFile], env);
    assert.equal(verify.code, 0, verify.stderr);
    const records = Number(/intact: (\d+) records/.exec(verify.stdout)![1]);
    const usage = JSON.parse((await runCli(['usage', '--config', configFile, '--json', '--since', '1h'], env)).stdout) as { rows: { key: string; requests: number }[] };
    const total = usage.rows.reduce((n, r) => n + r.requests, 0);
    assert.equal(records, total);
    assert.equal(usage.rows.find((r) => r.key === limited)!.requests, 8);
  });
});
