// @kec/store: the ClickHouse schema (versioned migrations), two backends behind one interface (a server over
// HTTP, or embedded chdb), pinned insert settings, and the read queries of the API, CLI and dashboards.
//
//   import { openStore, migrate, queryEvents } from '@kec/store';
//   const store = await openStore({ clickhouseUrl: process.env.KEC_CLICKHOUSE_URL, dataDir: './.kec-data' });
//   await migrate(store);
//   const rows = await queryEvents(store, { namespace: 'web', since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' });

export type { ChdbStoreOptions } from './chdb.ts';
export { ChdbStore } from './chdb.ts';
export type { ClusterDdlOptions } from './cluster-ddl.ts';
export { clusterStatement, clusterStatements, LOCAL_SUFFIX } from './cluster-ddl.ts';
export type { StoreErrorOptions } from './errors.ts';
export {
  clickhouseCode,
  isRetryableStoreError,
  MigrationError,
  RETRYABLE_CLICKHOUSE_CODES,
  StoreError,
  StoreQueryError,
  StoreUnavailableError,
} from './errors.ts';
export type { HttpStoreOptions } from './http.ts';
export { HttpStore, mapHttpError } from './http.ts';
export type { MigrateOptions, MigrateResult } from './migrate.ts';
export { alignRetention, migrate, schemaVersion } from './migrate.ts';
export type { OpenStoreOptions } from './open.ts';
export { embeddedDir, openStore } from './open.ts';
export type {
  CountPoint,
  EventFilter,
  EventSummary,
  IncidentFilter,
  IncidentRow,
  ReasonCount,
  RollupFilter,
  Step,
  TimelineEntry,
  TimeRange,
} from './queries.ts';
export { countsOverTime, objectTimeline, queryEvents, queryIncidents, topReasons } from './queries.ts';
export type { Migration, Retention } from './schema.ts';
export { DEFAULT_RETENTION, MIGRATIONS, rollupSelect, TTL_COLUMNS, ttlClause } from './schema.ts';
export type { ClickHouseSecurity, ClickHouseSecurityConfig } from './security.ts';
export { clickhouseSecurity } from './security.ts';
export {
  EMBEDDED_QUERY_SETTINGS,
  EMBEDDED_SERVER_SETTINGS,
  PINNED_INSERT_SETTINGS,
  PINNED_QUERY_SETTINGS,
} from './settings.ts';
export type { InsertOptions, QueryParams, QueryParamValue, Store, StoreBackend } from './store.ts';
export { qualify } from './store.ts';
