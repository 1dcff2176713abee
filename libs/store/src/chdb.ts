// Embedded backend: ClickHouse in the process (the `chdb` package), data under a directory.
// One process owns a data directory (ClickHouse locks its `status` file), and chdb allows one data directory per
// process: the writer and whatever queries its data run in that process. Only the async API is used (queryAsync,
// insert): the synchronous calls would block the event loop. The native engine is loaded when a store is opened, not
// when this module is imported: it maps ~160 MB into the process (RSS), which a writer or API on a ClickHouse server
// (HTTP backend) must not carry.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Session } from 'chdb';
import type { Logger } from 'pino';
import { clickhouseCode, RETRYABLE_CLICKHOUSE_CODES, StoreQueryError, StoreUnavailableError } from './errors.ts';
import { compactBody, compactRows } from './format.ts';
import {
  EMBEDDED_QUERY_SETTINGS,
  EMBEDDED_SERVER_SETTINGS,
  PINNED_INSERT_SETTINGS,
  PINNED_QUERY_SETTINGS,
} from './settings.ts';
import { type InsertOptions, type QueryParams, qualify, type Store } from './store.ts';

let engine: typeof import('chdb') | undefined;

export interface ChdbStoreOptions {
  /** Data directory (created when missing). */
  dataDir: string;
  database?: string;
  logger?: Logger;
  /**
   * Settings of every query of this store on top of the pinned ones, given to the engine at connect (so a
   * `readonly=1` here cannot be lifted by a statement). Used by the API's read-only stores.
   */
  querySettings?: Readonly<Record<string, string | number>>;
  /** Make `database` the current database of the connection (`USE`), so unqualified table names resolve there. */
  sessionDatabase?: boolean;
  /**
   * Server settings of the engine over EMBEDDED_SERVER_SETTINGS (memory limit, cache sizes). They take effect when
   * the process's engine starts: the first store opened in a process decides them.
   */
  engineSettings?: Readonly<Record<string, string | number>>;
}

function parseRows<T>(text: string): T[] {
  const out: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) out.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return out;
}

function mapError(err: unknown, what: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (name === 'ChdbConnectionError' || name === 'ChdbClosedError') {
    return new StoreUnavailableError(`chdb ${what}: ${message}`, { cause: err });
  }
  const code = (err as { clickhouseCode?: number }).clickhouseCode ?? clickhouseCode(message);
  return new StoreQueryError(`chdb ${what}: ${message}`, {
    cause: err,
    code,
    retryable: code !== undefined && RETRYABLE_CLICKHOUSE_CODES.has(code),
  });
}

export class ChdbStore implements Store {
  readonly backend = 'chdb' as const;
  readonly database: string;
  readonly dataDir: string;
  #session: Session | undefined;

  private constructor(session: Session, dataDir: string, database: string) {
    this.#session = session;
    this.dataDir = dataDir;
    this.database = database;
  }

  /** Opens the data directory. Rejects with StoreUnavailableError when another process (or directory) holds chdb. */
  static async open(opts: ChdbStoreOptions): Promise<ChdbStore> {
    const dataDir = resolve(opts.dataDir);
    mkdirSync(dataDir, { recursive: true });
    engine ??= await import('chdb');
    let session: Session;
    try {
      session = new engine.Session(dataDir, {
        connectionArgs: Object.entries({
          ...EMBEDDED_SERVER_SETTINGS,
          ...opts.engineSettings,
          ...PINNED_QUERY_SETTINGS,
          ...EMBEDDED_QUERY_SETTINGS,
          ...opts.querySettings,
        }).map(([k, v]) => `--${k}=${v}`),
      });
    } catch (err) {
      throw mapError(err, `cannot open data directory ${dataDir}`);
    }
    const store = new ChdbStore(session, dataDir, opts.database ?? 'kec');
    try {
      await store.ping();
      if (opts.sessionDatabase) await store.command(`USE ${store.database}`);
    } catch (err) {
      session.close();
      throw err;
    }
    opts.logger?.info({ dataDir, backend: 'chdb' }, 'embedded store opened');
    return store;
  }

  #s(): Session {
    if (!this.#session) throw new StoreUnavailableError('chdb store is closed');
    return this.#session;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    const s = this.#s();
    try {
      const r = params
        ? await s.queryBindAsync(sql, params, { format: 'JSONEachRow' })
        : await s.queryAsync(sql, { format: 'JSONEachRow' });
      return parseRows<T>(r.text());
    } catch (err) {
      throw mapError(err, 'query failed');
    }
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    const s = this.#s();
    try {
      if (params) await s.queryBindAsync(sql, params, { format: 'TabSeparated' });
      else await s.queryAsync(sql, { format: 'TabSeparated' });
    } catch (err) {
      throw mapError(err, 'command failed');
    }
  }

  async insert(table: string, rows: readonly object[], options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    const s = this.#s();
    const compact = compactRows(rows);
    const settings: Record<string, string | number> = { ...PINNED_INSERT_SETTINGS };
    if (options.token) settings['insert_deduplication_token'] = options.token;
    try {
      await s.insert(
        compact
          ? {
              table: qualify(this.database, table),
              columns: compact.columns,
              values: Buffer.from(compactBody(compact.values)),
              format: 'JSONCompactEachRow',
              settings,
            }
          : {
              table: qualify(this.database, table),
              values: Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')),
              format: 'JSONEachRow',
              settings,
            },
      );
    } catch (err) {
      throw mapError(err, `insert into ${table} failed`);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (!s) return;
    s.close();
    await engine?.drainPending();
  }
}
