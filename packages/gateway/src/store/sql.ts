// The little SQL surface both embedded PGlite and PostgreSQL (pg) offer, so one store serves both.

export type StoreKind = 'sqlite' | 'pglite' | 'postgres';

export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlDatabase extends SqlClient {
  readonly kind: StoreKind;
  /** Runs fn in one transaction on one connection. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: a connection of its own, outside the pool, in autocommit and with no query
   * timeout, for statements that must run outside a transaction and may take long (CREATE INDEX
   * CONCURRENTLY) and for session-level advisory locks. Closing it releases its locks.
   */
  session?(): Promise<SqlClient & { close(): Promise<void> }>;
  close(): Promise<void>;
}
