// Server backend: ClickHouse over HTTP with @clickhouse/client. Inserts in JSONCompactEachRow with the column list
// (src/format.ts; JSONEachRow when the rows' keys differ), keep-alive sockets dropped before the server's keep-alive
// closes them, and an insert retried with the identical rows and insert_deduplication_token, so a retry after a
// lost response is dropped by the server instead of written twice.
import {
  type ClickHouseClient,
  ClickHouseError,
  ClickHouseLogLevel,
  type Logger as ClientLogger,
  createClient,
  type ErrorLogParams,
  type LogParams,
  type WarnLogParams,
} from '@clickhouse/client';
import type { Logger } from 'pino';
import {
  clickhouseCode,
  RETRYABLE_CLICKHOUSE_CODES,
  StoreError,
  StoreQueryError,
  StoreUnavailableError,
} from './errors.ts';
import { compactRows } from './format.ts';
import { type ClickHouseSecurity, clickhouseConnection } from './security.ts';
import { PINNED_INSERT_SETTINGS, PINNED_QUERY_SETTINGS } from './settings.ts';
import { type InsertOptions, type QueryParams, qualify, type Store } from './store.ts';

export interface HttpStoreOptions {
  /** `http(s)://user:password@host:8123`; the database of the kec schema is `database`, not the URL path. */
  url: string;
  /** User/password (replacing those of the URL) and TLS files for an https:// URL. */
  security?: ClickHouseSecurity;
  database?: string;
  /** Per-request timeout (default 30000 ms). */
  requestTimeoutMs?: number;
  /**
   * Idle keep-alive sockets are dropped after this long (default 2500 ms). Keep it 500-1000 ms below the server's
   * `keep_alive_timeout` (10 s self-hosted since 21.x, 3 s in ClickHouse Cloud) or a reused socket gets ECONNRESET.
   */
  idleSocketTtlMs?: number;
  /** Insert attempts, the first included (default 5). */
  insertAttempts?: number;
  /** First retry delay; doubles per attempt up to 10 s (default 250 ms). */
  retryDelayMs?: number;
  maxOpenConnections?: number;
  logger?: Logger;
  /**
   * Settings sent with every query on top of the pinned ones (e.g. the API's `readonly=1` and limits). Unlike the
   * pinned settings, one the server does not know fails open() instead of being dropped.
   */
  querySettings?: Readonly<Record<string, string | number>>;
  /** Send `database` as the current database of every request, so unqualified table names resolve there. */
  sessionDatabase?: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** Maps a client error to StoreUnavailableError (network, timeout) or StoreQueryError (server said no). */
export function mapHttpError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const sysCode = (err as { code?: unknown }).code;
  if (err instanceof ClickHouseError) {
    const code = Number(err.code);
    return new StoreQueryError(`${what}: ${message}`, {
      cause: err,
      code: Number.isFinite(code) ? code : undefined,
      retryable: RETRYABLE_CLICKHOUSE_CODES.has(code),
    });
  }
  if (
    (typeof sysCode === 'string' && NETWORK_CODES.has(sysCode)) ||
    /socket hang up|timeout|ECONNREFUSED|ECONNRESET|other side closed/i.test(message)
  ) {
    return new StoreUnavailableError(`${what}: ${message}`, { cause: err });
  }
  // Servers older than the client's error parser (e.g. 18.x "Code: 60, e.displayText() = ...") land here.
  const code = clickhouseCode(message);
  if (code !== undefined) {
    return new StoreQueryError(`${what}: ${message}`, {
      cause: err,
      code,
      retryable: RETRYABLE_CLICKHOUSE_CODES.has(code),
    });
  }
  return new StoreError(`${what}: ${message}`, { cause: err, retryable: false });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class HttpStore implements Store {
  readonly backend = 'http' as const;
  readonly database: string;
  readonly #client: ClickHouseClient;
  readonly #opts: HttpStoreOptions;
  /** Pinned settings this server knows (an old server rejects unknown ones); filled at open(). */
  #insertSettings: Record<string, string | number> = { ...PINNED_INSERT_SETTINGS };
  #querySettings: Record<string, string | number>;
  #supportsToken = true;
  /** The server reads JSONCompactEachRow (>= 20); filled at open(). */
  #compactInsert = true;
  #closed = false;

  private constructor(opts: HttpStoreOptions) {
    this.#opts = opts;
    this.database = opts.database ?? 'kec';
    this.#querySettings = { ...PINNED_QUERY_SETTINGS, ...opts.querySettings };
    this.#client = createClient({
      ...clickhouseConnection(opts.url, opts.security),
      ...(opts.sessionDatabase ? { database: this.database } : {}),
      request_timeout: opts.requestTimeoutMs ?? 30_000,
      max_open_connections: opts.maxOpenConnections ?? 10,
      keep_alive: { enabled: true, idle_socket_ttl: opts.idleSocketTtlMs ?? 2_500 },
      application: 'kec',
      log: { LoggerClass: clientLogger(opts.logger), level: ClickHouseLogLevel.WARN },
    });
  }

  /**
   * Connects: pings, reads the server's version, and keeps the pinned settings it knows (logged when one is
   * dropped: a pre-22 server has no async_insert and no insert_deduplication_token). Rejects with
   * StoreUnavailableError when the server cannot be reached.
   */
  static async open(opts: HttpStoreOptions): Promise<HttpStore> {
    const store = new HttpStore(opts);
    try {
      const required = Object.keys(opts.querySettings ?? {});
      const names = [
        ...Object.keys(PINNED_INSERT_SETTINGS),
        ...Object.keys(PINNED_QUERY_SETTINGS),
        ...required,
        'insert_deduplication_token',
      ];
      const rs = await store.#client.query({
        query: `SELECT name FROM system.settings WHERE name IN (${names.map((n) => `'${n}'`).join(',')})`,
        format: 'JSONEachRow',
      });
      const known = new Set((await rs.json<{ name: string }>()).map((r) => r.name));
      const unknown = required.filter((k) => !known.has(k));
      if (unknown.length > 0) {
        throw new StoreError(`the server does not know the required settings ${unknown.join(', ')}`, {
          retryable: false,
        });
      }
      const dropped: string[] = [];
      for (const table of [store.#insertSettings, store.#querySettings]) {
        for (const k of Object.keys(table)) {
          if (!known.has(k)) {
            delete table[k];
            dropped.push(k);
          }
        }
      }
      store.#supportsToken = known.has('insert_deduplication_token');
      if (!store.#supportsToken) dropped.push('insert_deduplication_token');
      const [v] = await store.query<{ v: string }>('SELECT version() AS v');
      // JSONCompactEachRow input came with 19.x; an older server (kec needs 24+, the transport tests use 18.16)
      // gets JSONEachRow.
      store.#compactInsert = Number(/^(\d+)\./.exec(v?.v ?? '')?.[1] ?? 0) >= 20;
      opts.logger?.info(
        {
          backend: 'http',
          version: v?.v,
          droppedSettings: dropped,
          insertFormat: store.#compactInsert ? 'JSONCompactEachRow' : 'JSONEachRow',
        },
        'ClickHouse server connected',
      );
      if (dropped.length > 0) {
        opts.logger?.warn({ dropped }, 'server does not know some pinned settings (ClickHouse < 24: kec needs 24+)');
      }
    } catch (err) {
      await store.close();
      throw mapHttpError(err, `cannot connect to ClickHouse at ${redact(opts.url)}`);
    }
    return store;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      const rs = await this.#client.query({
        query: sql,
        format: 'JSONEachRow',
        query_params: params,
        clickhouse_settings: this.#querySettings,
      });
      return await rs.json<T>();
    } catch (err) {
      throw mapHttpError(err, 'query failed');
    }
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.#client.command({ query: sql, query_params: params, clickhouse_settings: { wait_end_of_query: 1 } });
    } catch (err) {
      throw mapHttpError(err, 'command failed');
    }
  }

  async insert(table: string, rows: readonly object[], options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    const settings: Record<string, string | number> = { ...this.#insertSettings };
    if (options.token && this.#supportsToken) settings['insert_deduplication_token'] = options.token;
    const attempts = this.#opts.insertAttempts ?? 5;
    const base = this.#opts.retryDelayMs ?? 250;
    const compact = this.#compactInsert ? compactRows(rows) : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        // Same rows, same settings, same token on every attempt: the server dedups a retry of a batch it wrote.
        await this.#client.insert(
          compact
            ? {
                table: qualify(this.database, table),
                columns: compact.columns as [string, ...string[]],
                values: compact.values,
                format: 'JSONCompactEachRow',
                clickhouse_settings: settings,
              }
            : {
                table: qualify(this.database, table),
                values: rows as object[],
                format: 'JSONEachRow',
                clickhouse_settings: settings,
              },
        );
        return;
      } catch (err) {
        const e = mapHttpError(err, `insert into ${table} failed`);
        if (!e.retryable || attempt >= attempts || this.#closed) throw e;
        const delay = Math.min(10_000, base * 2 ** (attempt - 1));
        this.#opts.logger?.warn(
          { err: e, attempt, delayMs: delay, table },
          'insert failed; retrying the identical batch',
        );
        await sleep(delay);
      }
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }
}

/**
 * Routes the client's own log lines to pino (its default writes to the console). Its request errors go to debug:
 * the store maps, retries and logs them itself. Its warnings (e.g. "idle socket TTL is greater than server
 * keep-alive timeout") stay warnings.
 */
function clientLogger(log: Logger | undefined): new () => ClientLogger {
  const l = log?.child({ component: '@clickhouse/client' });
  return class implements ClientLogger {
    trace(p: LogParams) {
      l?.trace({ module: p.module, args: p.args }, p.message);
    }
    debug(p: LogParams) {
      l?.debug({ module: p.module, args: p.args }, p.message);
    }
    info(p: LogParams) {
      l?.info({ module: p.module, args: p.args }, p.message);
    }
    warn(p: WarnLogParams) {
      l?.warn({ module: p.module, args: p.args, err: p.err }, p.message);
    }
    error(p: ErrorLogParams) {
      l?.debug({ module: p.module, err: p.err }, p.message);
    }
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
