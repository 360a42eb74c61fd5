// The store on embedded SQLite and PGlite and on the real PostgreSQL server: same schema, reports, and tamper-evident audit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAudit, exportAudit } from '../audit/export.js';
import { testRecord } from '../test-support/records.js';
import { BACKENDS, openTestStore } from '../test-support/stores.js';
import type { Store } from './store.js';

for (const backend of BACKENDS) {
  describe(`store on ${backend}`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openTestStore(backend));
    });
    after(() => close());

    it('applies the migrations once (re-opening is a no-op)', async () => {
      const { rows } = await store.db.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.deepEqual(rows.map((r) => Number(r.version)).sort(), [1, 2, 3, 4, 5, 6, 7]);
    });

    it('writes batches, reports by user and model, and the audit chain verifies', async () => {
      await store.write([testRecord(1), testRecord(2), testRecord(3)]);
      await store.write([testRecord(4, { model: 'claude-haiku-4-5', costUsd: 0.001 })]);
      const byUser = await store.report('user', new Date(0));
      assert.deepEqual(byUser.map((r) => [r.key, r.requests]).sort(), [['alice', 2], ['bob', 2]]);
      const byModel = await store.report('model', new Date(0));
      assert.equal(byModel.find((r) => r.key === 'claude-haiku-4-5')!.requests, 1);
      assert.deepEqual(await verifyAudit(store), { ok: true, records: 4 });
      const lines: string[] = [];
      assert.equal(await exportAudit(store, (l) => lines.push(l)), 4);
      const first = JSON.parse(lines[0]!);
      assert.equal(first.seq, 1);
      assert.equal(first.record.credentialId, 'jti:t1');
    });

    it('detects an edited record', async () => {
      await store.db.query(`UPDATE audit_log SET body = replace(body, '"status":200', '"status":500') WHERE seq = 2`);
      const result = await verifyAudit(store);
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.seq === 2 && /edited/.test(result.problem));
      await store.db.query(`UPDATE audit_log SET body = replace(body, '"status":500', '"status":200') WHERE seq = 2`);
      assert.equal((await verifyAudit(store)).ok, true);
    });

    it('detects a record deleted from the middle', async () => {
      const saved = (await store.db.query<Record<string, unknown>>(`SELECT * FROM audit_log WHERE seq = 3`)).rows[0]!;
      await store.db.query(`DELETE FROM audit_log WHERE seq = 3`);
      const result = await verifyAudit(store);
      assert.ok(!result.ok && result.seq === 3 && /missing/.test(result.problem));
      await store.db.query(`INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES ($1, $2, $3, $4)`, [saved.seq, saved.prev_hash, saved.hash, saved.body]);
    });

    it('detects records deleted from the end', async () => {
      await store.db.query(`DELETE FROM audit_log WHERE seq = 4`);
      const result = await verifyAudit(store);
      assert.ok(!result.ok && /removed from the end/.test(result.problem));
    });

    it('detects a record rewritten with a recomputed hash (the next link breaks)', async () => {
      await store.write([testRecord(5)]);
      await store.db.query(`DELETE FROM audit_log`);
      await store.db.query(`DELETE FROM audit_head`);
      await store.write([testRecord(6), testRecord(7)]);
      const { chainHash } = await import('../audit/chain.js');
      const row = (await store.db.query<{ prev_hash: string; body: string }>(`SELECT prev_hash, body FROM audit_log WHERE seq = 1`)).rows[0]!;
      const body = row.body.replace('"user":"bob"', '"user":"mallory"');
      await store.db.query(`UPDATE audit_log SET body = $1, hash = $2 WHERE seq = 1`, [body, chainHash(1, row.prev_hash, body)]);
      const result = await verifyAudit(store);
      assert.ok(!result.ok && result.seq === 2 && /does not follow/.test(result.problem));
    });
  });
}
