// `kec migrate`: applies the schema and the retention once, with the writer's configuration, and prints what it did.
import { loadConfig, sharedConfigSpec } from '@kec/config';
import { clickhouseSecurity, type MigrateResult, migrate, openStore } from '@kec/store';
import { writerConfig } from './config.ts';
import { retentionOf } from './retention.ts';

export interface MigrateCommandOptions {
  env: Record<string, string | undefined>;
  configFile?: string | undefined;
  /** Where the one-line summary goes. */
  out?: (text: string) => void;
}

/**
 * Opens the configured store (KEC_CLICKHOUSE_URL, else embedded under KEC_DATA_DIR; the embedded directory must
 * not be held by a running writer), migrates, aligns retention, closes. Throws ConfigError / StoreError.
 */
export async function runMigrate(opts: MigrateCommandOptions): Promise<MigrateResult> {
  const shared = loadConfig(sharedConfigSpec, { env: opts.env, file: opts.configFile });
  const cfg = loadConfig(writerConfig, { env: opts.env, file: opts.configFile });
  const store = await openStore({
    clickhouseUrl: shared.clickhouseUrl,
    security: clickhouseSecurity(shared),
    dataDir: shared.dataDir,
    database: cfg.database,
    http: { requestTimeoutMs: cfg.requestTimeoutMs, idleSocketTtlMs: cfg.idleSocketTtlMs },
  });
  try {
    const r = await migrate(store, { retention: retentionOf(cfg), cluster: shared.clickhouseCluster });
    opts.out?.(
      `schema ${store.database} at version ${r.version} (${store.backend}); applied: ${r.applied.join(', ') || 'none'}; retention changed: ${r.ttlChanged.join(', ') || 'none'}\n`,
    );
    return r;
  } finally {
    await store.close();
  }
}
