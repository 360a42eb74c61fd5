// The console's queries on SQLite, PGlite and PostgreSQL: rollups agree with the raw rows, the audit search finds requests and events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chainBodies, GENESIS_HASH } from '../audit/chain.js';
import { createTestSchema, TEST_DATABASE_URL } from '../test-support/postgres.js';
import { testRecord } from '../test-support/records.js';
import { recentRefusals, searchAudit, spendByScope, usageSeries, type Rows } from './console-sql.js';
import { Store } from './store.js';

const NOW = Date.UTC(2026, 10, 23, 14, 30);

for (const backend of ['sqlite', 'pglite', 'postgres'] as const) {
  describe(`console queries on ${backend}`, () => {
    let store: Store;
    let drop: (() => Promise<void>) | undefined;
    let rows: Rows;

    before(async () => {
      if (backend === 'postgres') {
        const s = await createTestSchema();
        drop = s.drop;
        store = await Store.open({ url: TEST_DATABASE_URL, path: '', schema: s.schema });
      } else {
        store = await Store.open({ path: 'memory://', engine: backend });
      }
      rows = (async (sql: string, params?: unknown[]) => (await store.db.query(sql, params)).rows) as Rows;
      // Two batches in one hour and one an hour later; a 429 and a 403 among them.
      await store.write([testRecord(1), testRecord(2), testRecord(3, { status: 429, costUsd: 0 })]);
      await store.write([testRecord(4, { model: 'claude-haiku-4-5', costUsd: 0.001, team: 'research', user: 'erin' })]);
      await store.write([testRecord(5, { time: new Date(Date.UTC(2026, 10, 23, 13, 5)).toISOString(), status: 403, costUsd: 0 })]);
      await store.applyTrustChange([], { time: new Date(NOW).toISOString(), event: 'key.revoke', by: 'https://idp root', kid: 'k1', user: 'alice' });
    });
    after(async () => {
      await store.close();
      await drop?.();
    });

    it('charts sums per bucket that add up to the raw rows', async () => {
      const byUser = await usageSeries(rows, 'user', 'day', NOW);
      assert.equal(byUser.buckets.length, 24);
      assert.equal(byUser.buckets.at(-1), '2026-11-23T14');
      const alice = byUser.series.find((s) => s.key === 'alice')!;
      assert.equal(alice.requests.at(-3), 2, 'records 1 and 3 in the 12:00 hour');
      assert.equal(alice.requests.at(-2), 1, 'record 5 in the 13:00 hour');
      const byTeam = await usageSeries(rows, 'team', 'month', NOW);
      assert.equal(byTeam.bucket, 'day');
      assert.deepEqual(byTeam.totals.map((t) => [t.key, t.requests]), [['research', 1], ['eng', 4]]);
      const raw = (await store.db.query<{ c: number }>(`SELECT sum(cost_usd) AS c FROM usage_records`)).rows[0]!;
      const charted = byTeam.series.reduce((n, s) => n + s.costUsd.reduce((a, b) => a + b, 0), 0);
      assert.ok(Math.abs(charted - Number(raw.c)) < 1e-12);
    });

    it('sums spend per user and team since a day', async () => {
      const spend = await spendByScope(rows, '2026-11-23');
      assert.ok(Math.abs(spend.find((s) => s.kind === 'user' && s.id === 'erin')!.usd - 0.001) < 1e-12);
      assert.ok(Math.abs(spend.find((s) => s.kind === 'team' && s.id === 'eng')!.usd - 0.0009) < 1e-12);
      assert.equal((await spendByScope(rows, '2026-11-24')).length, 0);
    });

    it('lists the newest refusals (429 and 403) across both statuses, newest first, up to the limit', async () => {
      // Record 5 (403, 13:05) is newer than record 3 (429, 12:00:03); 200s are never refusals.
      const all = await recentRefusals(rows, '2026-11-23T00:00:00.000Z');
      assert.deepEqual(all.map((r) => r.status), [403, 429]);
      assert.deepEqual((await recentRefusals(rows, '2026-11-23T00:00:00.000Z', 1)).map((r) => r.status), [403]);
      assert.deepEqual((await recentRefusals(rows, '2026-11-23T13:00:00.000Z')).map((r) => r.status), [403], 'the 429 is before `since`');
    });

    it('finds request entries by status and user, and events by the user they concern, as chain entries', async () => {
      const refused = await searchAudit(rows, { status: 429 });
      assert.equal(refused.length, 1);
      assert.equal(JSON.parse(refused[0]!.body).status, 429);
      const alice = await searchAudit(rows, { user: 'alice' });
      assert.deepEqual(alice.map((e) => JSON.parse(e.body).event ?? JSON.parse(e.body).status), ['key.revoke', 403, 429, 200]);
      // Each entry is the hashed text itself: its hash recomputes from its seq, predecessor and body.
      for (const e of alice) assert.equal(chainBodies({ seq: e.seq - 1, hash: e.prevHash }, [e.body])[0]!.hash, e.hash);
      assert.notEqual(alice[0]!.prevHash, GENESIS_HASH);
      const hour = await searchAudit(rows, { from: '2026-11-23T13:00:00.000Z', to: '2026-11-23T14:00:00.000Z' });
      assert.deepEqual(hour.map((e) => JSON.parse(e.body).status), [403]);
      assert.equal((await searchAudit(rows, { model: 'claude-haiku-4-5' })).length, 1);
    });

    it('combines any of the filters (each mix has its index), including ones that never occur together', async () => {
      const found = async (f: Parameters<typeof searchAudit>[1]) => (await searchAudit(rows, f)).map((e) => (JSON.parse(e.body) as { status: number }).status);
      const sonnet = 'claude-sonnet-4-5-20250929';
      assert.deepEqual(await found({ team: 'research', model: 'claude-haiku-4-5' }), [200]);
      assert.deepEqual(await found({ team: 'research', model: sonnet }), []);
      assert.deepEqual(await found({ team: 'eng', status: 429 }), [429]);
      assert.deepEqual(await found({ team: 'research', status: 429 }), []);
      assert.deepEqual(await found({ model: sonnet, status: 403 }), [403]);
      assert.deepEqual(await found({ team: 'eng', model: sonnet, status: 200 }), [200, 200]);
      assert.deepEqual(await found({ user: 'alice', model: sonnet, status: 200 }), [200]);
      assert.deepEqual(await found({ user: 'bob', team: 'research' }), []);
      assert.deepEqual(await found({ user: 'alice', team: 'eng', model: sonnet, status: 403, from: '2026-11-23T13:00:00.000Z' }), [403]);
    });
  });
}
