// Three gateway processes sharing the real Redis and PostgreSQL: one combined rate limit and budget, one audit chain.
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
import { costUsd } from './usage/usage.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('three replicas sharing Redis and PostgreSQL', { timeout: 180_000 }, () => {
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
  const crowd = `crowd-${run}`;
  /** One mock answer's cost, measured at start; the crowd's budget is worth 39.5 of them. */
  let unitCost: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ckg-replicas-'));
    issuer = await createTestIssuer();
    schema = await createTestSchema();
    // What one answer of the deterministic mock costs, to size a budget in requests.
    const { startMockUpstream } = await import('./upstreams/mock.js');
    const mock = await startMockUpstream({}, 0);
    const probe = (await (await fetch(`${mock.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(messagesBody()) })).json()) as {
      usage: { input_tokens: number; output_tokens: number };
    };
    await mock.close();
    unitCost = costUsd('claude-sonnet-4-5', { inputTokens: probe.usage.input_tokens, outputTokens: probe.usage.output_tokens, cacheReadTokens: 0, cacheWriteTokens: 0 });
    configFile = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { flushIntervalMs: 50 },
      auth: { issuers: [issuerConfig(issuer)] },
      policies: { users: { [limited]: { requestsPerMinute: 5 }, [spender]: { dailyUsd: 0.0001 }, [crowd]: { dailyUsd: unitCost * 39.5 } } },
    });
    env = { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL, CLAUDE_KEY_GATEWAY_DB_SCHEMA: schema.schema };
    replicas = await Promise.all([0, 1, 2].map(() => startGatewayProcess(configFile, env)));
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

  it('enforces one combined requests-per-minute limit across the replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await send(replicas[i % 2]!, limited));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it('shares one budget: spend on one replica is refused on the other at once', async () => {
    assert.equal(await send(replicas[0]!, spender), 200);
    // The spend is in Redis before the answer ends: the other replica's first request is refused.
    assert.equal(await send(replicas[1]!, spender), 403);
  });

  it('24 concurrent clients on three replicas never spend more than the budget plus one request', async (t) => {
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 24 }, async (_, client) => {
        for (let i = 0; i < 20; i++) {
          const status = await send(replicas[client % 3]!, crowd);
          statuses.push(status);
          if (status === 403) return;
        }
      }),
    );
    const served = statuses.filter((s) => s === 200).length;
    t.diagnostic(`served ${served} of ${statuses.length} on a budget worth 39.5 answers`);
    assert.equal(statuses.filter((s) => s !== 200 && s !== 403).length, 0, `unexpected statuses ${statuses}`);
    // A budget of 39.5 answers admits while spend < 39.5: at most 40 answers, whatever the concurrency.
    assert.ok(served <= 40, `${served} answers served on a budget worth 39.5`);
    assert.ok(served >= 30, `${served} answers: reservations refused too much`);
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
