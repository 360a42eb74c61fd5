// Embedded SQLite (better-sqlite3): the default store, a fraction of PGlite's memory; same schema and migrations.
//
// The store's SQL is PostgreSQL's. The few statements that differ branch on `kind` in store.ts;
// here only the placeholder syntax is translated ($1 → ?, in order of appearance).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlClient, SqlDatabase } from './sql.js';

export const SQLITE_FILE = 'gateway.sqlite';

type Value = string | number | bigint | Buffer | null;

export async function openSqlite(path: string): Promise<SqlDatabase> {
  const { default: Database } = await import('better-sqlite3');
  let file = ':memory:';
  if (!path.startsWith('memory://')) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    file = join(path, SQLITE_FILE);
  }
  const db = new Database(file);
  // WAL with synchronous=NORMAL: a crash loses at most the last commits, never corrupts, and the
  // record journal already holds whatever a lost commit had.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Statement journals and sorts in memory: on disk they are a temporary file created, written and
  // deleted for every batch of records (a multi-row INSERT with unique keys needs one), about 30
  // files a second at 500 req/s, each an open, writes and an unlink on the store's thread.
  db.pragma('temp_store = MEMORY');

  const statements = new Map<string, ReturnType<typeof db.prepare<unknown[]>>>();
  const run = <T>(sql: string, params: unknown[] = []): { rows: T[] } => {
    const order: number[] = [];
    const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    let stmt = statements.get(text);
    if (!stmt) statements.set(text, (stmt = db.prepare<unknown[]>(text)));
    const values: unknown[] = order.map((i) => (params[i] ?? null) as Value);
    if (stmt.reader) return { rows: stmt.all(...values) as T[] };
    stmt.run(...values);
    return { rows: [] };
  };
  const client: SqlClient = { query: async (sql, params) => run(sql, params) };

  // One connection: transactions take turns (a second BEGIN inside the first would fail).
  let turn: Promise<unknown> = Promise.resolve();
  return {
    kind: 'sqlite',
    query: client.query,
    transaction(fn) {
      const next = turn.then(async () => {
        run('BEGIN IMMEDIATE');
        try {
          const result = await fn(client);
          run('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) run('ROLLBACK');
          throw err;
        }
      });
      turn = next.catch(() => undefined);
      return next;
    },
    close: async () => void db.close(),
  };
}
