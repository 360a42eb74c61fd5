// PostgreSQL through `pg`, used when DATABASE_URL is set; same schema and migrations as PGlite.
import type { SqlDatabase } from './sql.js';

export async function openPostgres(url: string, schema?: string): Promise<SqlDatabase> {
  const { default: pg } = await import('pg');
  // search_path as a startup option applies to every pooled connection, with no race on connect.
  const options = schema ? { options: `-c search_path=${schema}` } : {};
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    // A server that is down or unreachable fails a write in seconds, so the writer can back off and retry.
    connectionTimeoutMillis: 5000,
    query_timeout: 30_000,
    ...options,
  });
  // An idle connection the server dropped (restart, failover) emits 'error' on the pool; unheard, it
  // would kill the store's thread. The pool has already discarded that client and connects afresh.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  return {
    kind: 'postgres',
    query: (sql, params) => pool.query(sql, params as unknown[]) as never,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({ query: (sql, params) => client.query(sql, params as unknown[]) as never });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async session() {
      // No query_timeout: the pool's 30 s would abandon an index build that is still running.
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'claude-key-gateway migrations', ...options });
      client.on('error', () => undefined); // a dropped connection fails the statement under way instead
      await client.connect();
      return { query: (sql, params) => client.query(sql, params as unknown[]) as never, close: () => client.end() };
    },
    close: () => pool.end(),
  };
}
