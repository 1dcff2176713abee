// Store errors. Every error says whether the same operation is worth retrying (`retryable`).

export interface StoreErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** ClickHouse error code (e.g. 60 UNKNOWN_TABLE), when the server gave one. */
  code?: number;
}

export class StoreError extends Error {
  override name = 'StoreError';
  readonly retryable: boolean;
  readonly code: number | undefined;
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.code = options.code;
  }
}

/** The store cannot be reached or opened (connection refused/reset, timeout, data directory locked). Retryable. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  constructor(message: string, options: Omit<StoreErrorOptions, 'retryable'> = {}) {
    super(message, { ...options, retryable: true });
  }
}

/** The server rejected the statement (syntax, unknown table, type mismatch...). Retryable only for load codes. */
export class StoreQueryError extends StoreError {
  override name = 'StoreQueryError';
}

/** A migration failed; `version` says which. Not retryable by itself. */
export class MigrationError extends StoreError {
  override name = 'MigrationError';
  readonly version: number;
  constructor(message: string, version: number, options: StoreErrorOptions = {}) {
    super(message, options);
    this.version = version;
  }
}

/**
 * ClickHouse error codes that mean "try again later" rather than "this statement is wrong":
 * timeouts, overload, too many parts, memory, network, readonly replica, shutdown.
 */
export const RETRYABLE_CLICKHOUSE_CODES: ReadonlySet<number> = new Set([
  3, // UNEXPECTED_END_OF_FILE
  159, // TIMEOUT_EXCEEDED
  164, // READONLY (replica)
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
]);

/** Reads the ClickHouse error code out of a message such as "Code: 60. DB::Exception: ..." or "Code: 60, e.displayText()". */
export function clickhouseCode(text: string): number | undefined {
  const m = /Code: (\d+)[.,]/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export function isRetryableStoreError(err: unknown): boolean {
  return err instanceof StoreError ? err.retryable : false;
}
