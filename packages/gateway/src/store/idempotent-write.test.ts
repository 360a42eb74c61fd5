// A batch written twice (its commit unacknowledged, or replayed from the journal) leaves one usage row and one audit record per request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAudit } from '../audit/export.js';
import { testRecord } from '../test-support/records.js';
import { BACKENDS, openTestStore } from '../test-support/stores.js';
import type { Store } from './store.js';

for (const backend of BACKENDS) {
  describe(`idempotent writes on ${backend}`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openTestStore(backend));
    });
    after(() => close());

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
