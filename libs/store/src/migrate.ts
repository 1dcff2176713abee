// Applies the versioned migrations idempotently (`kec migrate`, and the writer at start), then makes each
// table's TTL match the configured retention.
import type { Logger } from 'pino';
import { clusterStatements, LOCAL_SUFFIX } from './cluster-ddl.ts';
import { MigrationError, StoreError } from './errors.ts';
import { DEFAULT_RETENTION, MIGRATIONS, type Migration, type Retention, TTL_COLUMNS, ttlClause } from './schema.ts';
import type { Store } from './store.ts';

export interface MigrateOptions {
  retention?: Partial<Retention>;
  logger?: Logger;
  /**
   * KEC_CLICKHOUSE_CLUSTER: create Replicated*MergeTree `<table>_local` tables ON CLUSTER plus Distributed tables
   * under the public names (see cluster-ddl.ts). Unset: the single-node schema.
   */
  cluster?: string | undefined;
  /** For tests; default MIGRATIONS. */
  migrations?: readonly Migration[];
}

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was up to date). */
  applied: number[];
  /** Tables whose TTL was changed to match the retention. */
  ttlChanged: string[];
  version: number;
}

/**
 * Creates the database and the `schema_migrations` ledger, applies every migration not recorded there, records
 * it, then aligns TTLs. Safe to run concurrently from several replicas (statements are IF NOT EXISTS; the ledger
 * is a ReplacingMergeTree keyed by version).
 */
export async function migrate(store: Store, options: MigrateOptions = {}): Promise<MigrateResult> {
  const db = store.database;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(db)) throw new StoreError(`invalid database name ${db}`);
  const retention: Retention = { ...DEFAULT_RETENTION, ...options.retention };
  for (const [k, v] of Object.entries(retention)) {
    if (!Number.isInteger(v) || v < 1) throw new StoreError(`retention ${k} must be a whole number of days >= 1`);
  }
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const log = options.logger;
  const render = (sql: string[]): string[] =>
    options.cluster ? clusterStatements(sql, { cluster: options.cluster, database: db }) : sql;
  for (const sql of render([
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY version`,
  ])) {
    await store.command(sql);
  }
  const done = new Set(
    (await store.query<{ version: number }>(`SELECT DISTINCT version FROM ${db}.schema_migrations`)).map((r) =>
      Number(r.version),
    ),
  );
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    log?.info({ version: m.version, name: m.name }, 'applying migration');
    for (const sql of render(m.statements(db, retention))) {
      try {
        await store.command(sql);
      } catch (cause) {
        throw new MigrationError(`migration ${m.version} (${m.name}) failed: ${(cause as Error).message}`, m.version, {
          cause,
          retryable: (cause as StoreError).retryable ?? false,
        });
      }
    }
    await store.insert(`${db}.schema_migrations`, [
      { version: m.version, name: m.name, applied_at: new Date().toISOString() },
    ]);
    applied.push(m.version);
  }
  const ttlChanged = await alignRetention(store, retention, log, options.cluster);
  const version = migrations.at(-1)?.version ?? 0;
  return { applied, ttlChanged, version };
}

/** ALTER TABLE ... MODIFY TTL where a table's TTL differs from the retention (only then: it rewrites TTL info). */
export async function alignRetention(
  store: Store,
  retention: Retention,
  log?: Logger,
  cluster?: string,
): Promise<string[]> {
  const db = store.database;
  const rows = await store.query<{ name: string; engine_full: string }>(
    `SELECT name, engine_full FROM system.tables WHERE database = {db:String}`,
    { db },
  );
  const byName = new Map(rows.map((r) => [r.name, r.engine_full]));
  const changed: string[] = [];
  for (const key of Object.keys(TTL_COLUMNS) as (keyof Retention)[]) {
    const { table } = TTL_COLUMNS[key];
    // On a cluster the TTL lives on the replicated `_local` table (checked on the node answering).
    const engine = byName.get(cluster ? `${table}${LOCAL_SUFFIX}` : table);
    if (engine === undefined) continue;
    const m = /TTL .*?INTERVAL (\d+) DAY/.exec(engine) ?? /TTL .*?toIntervalDay\((\d+)\)/.exec(engine);
    if (m && Number(m[1]) === retention[key]) continue;
    const alter = `ALTER TABLE ${db}.${table} MODIFY TTL ${ttlClause(key, retention)}`;
    for (const sql of cluster ? clusterStatements([alter], { cluster, database: db }) : [alter]) {
      await store.command(sql);
    }
    log?.info({ table, days: retention[key] }, 'retention changed');
    changed.push(table);
  }
  return changed;
}

/** The highest applied migration version (0 when none). */
export async function schemaVersion(store: Store): Promise<number> {
  const rows = await store.query<{ v: number }>(`SELECT max(version) AS v FROM ${store.database}.schema_migrations`);
  return Number(rows[0]?.v ?? 0);
}
