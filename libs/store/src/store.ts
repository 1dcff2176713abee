// The one small interface both backends implement: parameter-bound queries, DDL/commands, and batch inserts.

/** Values for `{name:Type}` placeholders (bound by the engine, never spliced into the SQL text). */
export type QueryParamValue = string | number | boolean | null | readonly string[] | readonly number[];
export type QueryParams = Readonly<Record<string, QueryParamValue>>;

export interface InsertOptions {
  /**
   * `insert_deduplication_token`: an insert repeated with the same token (and the same rows) is dropped by the
   * server, and with `deduplicate_blocks_in_dependent_materialized_views=1` so are its materialized-view blocks.
   */
  token?: string;
}

export type StoreBackend = 'chdb' | 'http';

export interface Store {
  readonly backend: StoreBackend;
  /** Database of the kec schema (default `kec`). */
  readonly database: string;
  /** Runs a SELECT; rows as JSON objects (JSONEachRow; 64-bit integers as numbers, timestamps ISO 8601 UTC). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Runs a statement without a result (DDL, OPTIMIZE, ALTER). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /**
   * Inserts rows (objects of column -> value; sent as JSONCompactEachRow with the column list when every row has
   * the same keys, else JSONEachRow) with the pinned insert settings, as one synchronous insert. Resolves only when the
   * server has written them. The HTTP backend retries a retryable failure with the identical rows and token.
   */
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  /** Resolves when the store answers `SELECT 1`; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Releases the connection (chdb: the data directory). Idempotent. */
  close(): Promise<void>;
}

/** `events` -> `kec.events`; a name that already has a database is kept. */
export function qualify(database: string, table: string): string {
  return table.includes('.') ? table : `${database}.${table}`;
}
