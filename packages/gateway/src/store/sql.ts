// The little SQL surface both embedded PGlite and PostgreSQL (pg) offer, so one store serves both.

export type StoreKind = 'sqlite' | 'pglite' | 'postgres';

export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlDatabase extends SqlClient {
  readonly kind: StoreKind;
  /** Runs fn in one transaction on one connection. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
