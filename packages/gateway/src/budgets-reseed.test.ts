// Budgets.reseed against a real Redis: an emptied ledger gets back the spend the store recorded, a
// ledger that kept its data is never lowered, and spend counted in process while Redis was away is
// not counted twice.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Budgets, RedisLedger, periodsAt, type RecordedSpend, type SpendLedger } from './budgets.js';
import type { Scope } from './policy.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NOW = Date.parse('2026-12-02T15:00:00Z');
const [today, month] = periodsAt(NOW).map((p) => p.key);

describe('Budgets.reseed (Redis)', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    const keys = await redis.keys('ckg:spend:user:reseed-*');
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  /** A user of its own per test, so that runs and tests never share keys. */
  const freshUser = () => `reseed-${randomUUID()}`;
  const spendOf = async (key: string) => Number((await redis.get(`ckg:spend:${key}`)) ?? 0);
  /** The Redis ledger as the gateway sees it during an outage: reserve and add fail until `end()`. */
  const ledgerInOutage = () => {
    let down = true;
    const real = new RedisLedger(redis);
    const unavailable = () => Promise.reject(new Error('Connection is closed.'));
    const ledger: SpendLedger = {
      reserve: (...args) => (down ? unavailable() : real.reserve(...args)),
      add: (...args) => (down ? unavailable() : real.add(...args)),
      raiseTo: (...args) => real.raiseTo(...args),
    };
    return { ledger, end: () => void (down = false) };
  };
  const scope = (id: string): Scope => ({ kind: 'user', id, policy: { dailyUsd: 100, monthlyUsd: 1000 } });

  it('raises an emptied ledger to the recorded spend of today and of the month', async () => {
    const user = freshUser();
    const budgets = new Budgets(new RedisLedger(redis), () => NOW);
    const recorded: RecordedSpend[] = [
      { kind: 'user', id: user, day: '2026-12-01', usd: 2 },
      { kind: 'user', id: user, day: '2026-12-02', usd: 3 },
    ];
    await budgets.reseed(async () => recorded);
    assert.equal(await spendOf(`user:${user}:${today}`), 3);
    assert.equal(await spendOf(`user:${user}:${month}`), 5);
    const ttl = await redis.ttl(`ckg:spend:user:${user}:${today}`);
    assert.ok(ttl > 0 && ttl <= 9 * 3600 + 3600, `today's key expires an hour after midnight (ttl ${ttl} s)`);
  });

  it('never lowers a key that holds more than the store recorded (spend since, reservations in flight)', async () => {
    const user = freshUser();
    const budgets = new Budgets(new RedisLedger(redis), () => NOW);
    await budgets.reserve([scope(user)], () => 7); // a reservation of an answer in flight
    await budgets.reseed(async () => [{ kind: 'user', id: user, day: '2026-12-02', usd: 3 }]);
    assert.equal(await spendOf(`user:${user}:${today}`), 7);
  });

  it('does not push spend counted in process a second time once the recorded spend includes it', async () => {
    const user = freshUser();
    const outage = ledgerInOutage();
    const budgets = new Budgets(outage.ledger, () => NOW);
    const hold = await budgets.reserve([scope(user)], () => 1);
    assert.equal(hold?.local, true);
    await budgets.settle(hold, 0.25);
    assert.equal(budgets.unsyncedUsd, 0.5, 'counted in process: the day and the month');
    outage.end();
    // The store has that answer's record: Redis comes back empty and is raised to it.
    await budgets.reseed(async () => [{ kind: 'user', id: user, day: '2026-12-02', usd: 0.25 }]);
    assert.equal(budgets.unsyncedUsd, 0);
    await budgets.sync();
    assert.equal(await spendOf(`user:${user}:${today}`), 0.25, 'counted once');
    assert.equal(await spendOf(`user:${user}:${month}`), 0.25);
  });

  it('keeps spend counted in process when the store cannot be read, for the next sync to push', async () => {
    const user = freshUser();
    const outage = ledgerInOutage();
    const budgets = new Budgets(outage.ledger, () => NOW);
    await budgets.settle(await budgets.reserve([scope(user)], () => 1), 0.25);
    outage.end();
    await assert.rejects(budgets.reseed(() => Promise.reject(new Error('store down'))), /store down/);
    assert.equal(budgets.unsyncedUsd, 0.5);
    await budgets.sync();
    assert.equal(await spendOf(`user:${user}:${today}`), 0.25);
  });
});
