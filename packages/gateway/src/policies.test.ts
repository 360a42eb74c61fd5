// Rate limits and budgets in one gateway: 429 with retry-after, 403 naming the budget and its reset time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('rate limits and budgets', () => {
  let t: TestGateway;

  before(async () => {
    t = await startTestGateway(
      {
        policies: {
          defaults: {},
          users: { alice: { requestsPerMinute: 2 }, bob: { dailyUsd: 0.0001 }, erin: { monthlyUsd: 0.0001 } },
          teams: { ml: { tokensPerMinute: 50 } },
        },
      },
      { now: () => NOW },
    );
  });
  after(() => t.close());

  const send = async (user: string, team: string, body = messagesBody()) => {
    const token = await t.issuer.sign({ sub: user, team }, { nowSec: NOW / 1000 });
    const r = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, headers: r.headers, body: (await r.json()) as { type: string; error?: { type: string; message: string } } };
  };

  it('refuses the request over a user\'s requests per minute with 429 and retry-after, without calling the upstream', async () => {
    assert.equal((await send('alice', 'eng')).status, 200);
    assert.equal((await send('alice', 'eng')).status, 200);
    const before = t.mock.count;
    const third = await send('alice', 'eng');
    assert.equal(third.status, 429);
    assert.equal(third.body.error!.type, 'rate_limit_error');
    const retryAfter = Number(third.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(t.mock.count, before);
    assert.equal((await send('frank', 'eng')).status, 200, 'another user is not limited by alice');
  });

  it('refuses a team over its tokens per minute once an answer has used them up', async () => {
    const long = messagesBody({ messages: [{ role: 'user', content: 'x'.repeat(400) }] }); // ~100 input tokens > 50
    assert.equal((await send('gina', 'ml', long)).status, 200);
    const next = await send('hank', 'ml');
    assert.equal(next.status, 429);
    assert.match(next.body.error!.message, /team "ml" used its 50 tokens per minute/);
  });

  it('refuses a user whose daily budget is spent with 403 saying what and until when', async () => {
    assert.equal((await send('bob', 'eng')).status, 200); // costs ~$0.000126, over the $0.0001 budget
    const refused = await send('bob', 'eng');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error!.type, 'permission_error');
    assert.match(refused.body.error!.message, /daily budget of user "bob" is exhausted \(\$0\.00013 of \$0\.0001 spent\); it resets at 2026-11-24T00:00:00\.000Z/);
  });

  it('names the monthly reset for a monthly budget', async () => {
    assert.equal((await send('erin', 'eng')).status, 200);
    const refused = await send('erin', 'eng');
    assert.equal(refused.status, 403);
    assert.match(refused.body.error!.message, /monthly budget of user "erin".*resets at 2026-12-01T00:00:00\.000Z/);
  });
});

describe('budgets across a restart', () => {
  it('seeds the spend of this month from the store, so a restart does not reset budgets', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'ckg-budget-'));
    const config = { store: { path: join(dir, 'data'), flushIntervalMs: 20 }, policies: { users: { ivy: { dailyUsd: 0.0001 } } } };
    const ask = async (t: TestGateway) => {
      const token = await t.issuer.sign({ sub: 'ivy', team: 'eng' }, { nowSec: NOW / 1000 });
      const r = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' }, body: JSON.stringify(messagesBody()) });
      await r.arrayBuffer();
      return r.status;
    };
    const first = await startTestGateway(config, { now: () => NOW });
    assert.equal(await ask(first), 200);
    await first.close();
    const second = await startTestGateway(config, { now: () => NOW, issuer: first.issuer });
    try {
      assert.equal(await ask(second), 403);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
