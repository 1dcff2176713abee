// Picks the backend: a ClickHouse server when a URL is given, else the embedded engine under dataDir.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ChdbStore } from './chdb.ts';
import { HttpStore, type HttpStoreOptions } from './http.ts';
import type { ClickHouseSecurity } from './security.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** KEC_CLICKHOUSE_URL; unset or empty: embedded chdb. */
  clickhouseUrl?: string | undefined;
  /** KEC_DATA_DIR; the embedded store lives in `<dataDir>/clickhouse`. */
  dataDir: string;
  database?: string;
  /** Credentials and TLS of a ClickHouse server (see `clickhouseSecurity` for the shared config keys). */
  security?: ClickHouseSecurity | undefined;
  logger?: Logger;
  http?: Omit<HttpStoreOptions, 'url' | 'database' | 'logger' | 'querySettings' | 'sessionDatabase'>;
  /** Settings of every query on top of the pinned ones (both backends; see ChdbStoreOptions.querySettings). */
  querySettings?: Readonly<Record<string, string | number>>;
  /** Make `database` the current database, so unqualified table names resolve there. */
  sessionDatabase?: boolean;
}

/** Opens the store. Rejects with StoreUnavailableError when it cannot be reached or its directory is locked. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.clickhouseUrl) {
    return HttpStore.open({
      ...opts.http,
      url: opts.clickhouseUrl,
      database: opts.database,
      logger: opts.logger,
      ...(opts.security ? { security: opts.security } : {}),
      querySettings: opts.querySettings,
      sessionDatabase: opts.sessionDatabase,
    });
  }
  return ChdbStore.open({
    dataDir: embeddedDir(opts.dataDir),
    database: opts.database,
    logger: opts.logger,
    querySettings: opts.querySettings,
    sessionDatabase: opts.sessionDatabase,
  });
}

/** Where the embedded store keeps its data under KEC_DATA_DIR. */
export function embeddedDir(dataDir: string): string {
  return join(dataDir, 'clickhouse');
}
