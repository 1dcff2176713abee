// Test harness: one chdb data directory, served both embedded (read-only ChdbStore connections of this process)
// and over HTTP (tools/chdb-http in this process, read by HttpStore), so every route can be asked of both
// backends on the very same data and the answers compared.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChdbHttp, startChdbHttp } from '@kec/chdb-http';
import { migrate, openStore, type Store } from '@kec/store';
import { eventBatchRows, type IncidentPayload, incidentRow, type KecEventsPayload } from '@kec/writer';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type Subscription } from '../src/app.ts';
import { sha256Hex, TokenStore } from '../src/auth.ts';
import type { EventItem, EventPage } from '../src/schemas.ts';
import { routeSettings, sqlSettings } from '../src/sql.ts';

export const TOKENS = {
  read: 'kec_test_read_token_aaaaaaaaaaaaaaaaaaaa',
  sql: 'kec_test_sql_token_bbbbbbbbbbbbbbbbbbbbbb',
  admin: 'kec_test_admin_token_cccccccccccccccccccc',
};

export const TOKEN_LINES = [
  `${sha256Hex(TOKENS.read)} read reader`,
  `${sha256Hex(TOKENS.sql)} sql analyst`,
  `${sha256Hex(TOKENS.admin)} admin root`,
].join(';');

export const SQL_LIMITS = {
  timeoutSeconds: 2,
  maxRows: 1000,
  maxResultBytes: 8 * 1024 ** 2,
  maxMemoryBytes: 256 * 1024 ** 2,
};

export interface Backend {
  name: 'chdb' | 'http';
  app: FastifyInstance;
  store: Store;
  sqlStore: Store;
}

export interface Harness {
  dir: string;
  writer: Store;
  http: ChdbHttp;
  backends: Backend[];
  logLines: string[];
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    subscribe?: (subject: string, cb: (data: Uint8Array) => void) => Subscription;
    subjectRoot?: string;
    now?: () => number;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kec-api-'));
  const dataDir = join(dir, 'clickhouse');
  // the writer's connection (read-write), then the engine served over HTTP on the same directory
  const writer = await openStore({ dataDir: dir });
  await migrate(writer);
  const http = await startChdbHttp({ dataDir });
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const backends: Backend[] = [];
  for (const name of ['chdb', 'http'] as const) {
    const open = (settings: Record<string, string | number>) =>
      openStore({
        dataDir: dir,
        ...(name === 'http' ? { clickhouseUrl: http.url } : {}),
        querySettings: settings,
        sessionDatabase: true,
      });
    const store = await open(routeSettings(30, 1024 ** 3));
    const sqlStore = await open(sqlSettings(SQL_LIMITS));
    const app = await buildApp({
      logger: logger.child({ backend: name }),
      store: () => store,
      sqlStore: () => sqlStore,
      tokens: TokenStore.load({ env: TOKEN_LINES, anonymous: false }),
      sqlMaxRows: SQL_LIMITS.maxRows,
      maxBodyBytes: 256 * 1024,
      subjectRoot: opts.subjectRoot ?? 'kec',
      ...(opts.subscribe ? { subscribe: opts.subscribe } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      keepAliveMs: 200,
    });
    backends.push({ name, app, store, sqlStore });
  }
  return {
    dir,
    writer,
    http,
    backends,
    logLines,
    async close() {
      for (const b of backends) {
        await b.app.close();
        await b.store.close();
        await b.sqlStore.close();
      }
      await http.close();
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes payloads the way the writer does (its row mapping, one insert per table). */
export async function writeEvents(store: Store, batch: readonly KecEventsPayload[]): Promise<void> {
  const { events, occurrences } = eventBatchRows(batch);
  await store.insert('events', events);
  await store.insert('occurrences', occurrences);
}

export async function writeIncidents(store: Store, batch: readonly IncidentPayload[]): Promise<void> {
  await store.insert('incidents', batch.map(incidentRow));
}

export async function get<T = unknown>(
  app: FastifyInstance,
  url: string,
  token: string | null = TOKENS.read,
): Promise<{ status: number; body: T }> {
  const r = await app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: r.statusCode, body: r.json() as T };
}

export async function sql<T = unknown>(
  app: FastifyInstance,
  query: string,
  token: string | null = TOKENS.sql,
  params?: Record<string, string>,
): Promise<{ status: number; body: T }> {
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/sql',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify(params ? { query, params } : { query }),
  });
  return { status: r.statusCode, body: r.json() as T };
}

/** Every item of a listing, page by page through its cursors (`onPage` runs between pages). */
export async function walk(
  b: Backend,
  query: string,
  limit: number,
  onPage?: (n: number) => Promise<void>,
): Promise<EventItem[]> {
  const items: EventItem[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 1000; n++) {
    const r: { status: number; body: EventPage } = await get<EventPage>(
      b.app,
      `/api/v1/events?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    items.push(...r.body.items);
    cursor = r.body.nextCursor;
    if (!cursor) return items;
    await onPage?.(n);
  }
  throw new Error('too many pages');
}
