// A fresh store on each back-end the gateway supports, for tests that must hold on all of them.
import { Store } from '../store/store.js';
import { createTestSchema, TEST_DATABASE_URL } from './postgres.js';

export const BACKENDS = ['sqlite', 'pglite', 'postgres'] as const;

/** An empty store: in memory for the embedded engines, a fresh schema (dropped on close) on PostgreSQL. */
export async function openTestStore(backend: (typeof BACKENDS)[number]): Promise<{ store: Store; close(): Promise<void> }> {
  if (backend !== 'postgres') {
    const store = await Store.open({ path: 'memory://', engine: backend });
    return { store, close: () => store.close() };
  }
  const schema = await createTestSchema();
  const store = await Store.open({ url: TEST_DATABASE_URL, path: '', schema: schema.schema });
  return {
    store,
    async close() {
      await store.close();
      await schema.drop();
    },
  };
}
