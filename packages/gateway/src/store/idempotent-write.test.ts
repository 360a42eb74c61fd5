// A batch written twice (its commit unacknowledged, or replayed from the journal) leaves one usage row and one audit record per request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAudit } from '../audit/export.js';
import { createTestSchema, TEST_DATABASE_URL } from '../test-support/postgres.js';
import { testRecord } from '../test-support/records.js';
import { Store } from './store.js';

for (const backend of ['sqlite', 'pglite', 'postgres'] as const) {
  describe(`idempotent writes on ${backend}`, () => {
    let store: Store;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      if (backend === 'postgres') {
        const s = await createTestSchema();
        drop = s.drop;
        store = await Store.open({ url: TEST_DATABASE_URL, path: '', schema: s.schema });
      } else {
        store = await Store.open({ path: 'memory://', engine: backend });
      }
    });
    after(async () => {
      await store.close();
      await drop?.();
    });

    it('skips records already stored, within a batch and across batches, and the chain still verifies', async () => {
      const [a, b, c] = [testRecord(1), testRecord(2), testRecord(3)];
      await store.write([a, b]);
      await store.write([a, b, c, c]); // the first two retried, the third twice in one batch
      await store.write([a]);
      assert.deepEqual(await store.count(), { usage: 3, audit: 3 });
      assert.deepEqual(await verifyAudit(store), { ok: true, records: 3 });
    });
  });
}
