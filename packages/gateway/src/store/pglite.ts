// Embedded PostgreSQL (PGlite, WebAssembly): the default store, no server and no native build.
import type { SqlDatabase } from './sql.js';

export async function openPglite(path: string): Promise<SqlDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = path.startsWith('memory://') ? new PGlite() : new PGlite(path);
  await db.waitReady;
  return {
    kind: 'pglite',
    query: (sql, params) => db.query(sql, params) as never,
    transaction: (fn) => db.transaction((tx) => fn({ query: (sql, params) => tx.query(sql, params) as never })),
    close: () => db.close(),
  };
}
