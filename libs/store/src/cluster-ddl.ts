// The kec schema on a ClickHouse cluster (KEC_CLICKHOUSE_CLUSTER): a rendering transformation over the single-node
// migrations, so every migration (whoever adds it) runs on a cluster unchanged. Each table `t` becomes
//   t_local  ON CLUSTER  Replicated<Engine>('/clickhouse/tables/{shard}/<db>/t_local', '{replica}', <args>)
//            with the same columns, PARTITION BY, ORDER BY, TTL and indexes, and
//   t        ON CLUSTER  Distributed(<cluster>, <db>, t_local, cityHash64(<ORDER BY>))
// so readers and writers keep the public names. Sharding by the sort key puts every version of a row on one shard,
// where ReplacingMergeTree collapses them and a retried insert meets its deduplication token again.
// Materialized views read and write the local tables (each shard aggregates its own rows); plain views read the
// Distributed tables. ALTERs go to the local tables, and column changes to the Distributed table too.
import { StoreError } from './errors.ts';

export interface ClusterDdlOptions {
  /** The cluster name of the servers' `remote_servers` configuration. */
  cluster: string;
  database: string;
}

export const LOCAL_SUFFIX = '_local';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The ORDER BY expression of a CREATE TABLE (`(a, b)` or `version`). */
function orderBy(sql: string): string {
  const m = /\nORDER BY (.+)\n/.exec(`${sql}\n`) ?? /\sORDER BY (\S+)/.exec(sql);
  if (!m) throw new StoreError(`cluster DDL: no ORDER BY in ${sql.slice(0, 80)}`);
  return (m[1] as string).trim();
}

function renderTable(sql: string, o: ClusterDdlOptions, on: string): string[] {
  const db = o.database;
  const head = new RegExp(`^CREATE TABLE IF NOT EXISTS ${db}\\.(\\w+) \\(`).exec(sql);
  if (!head) throw new StoreError(`cluster DDL: cannot render ${sql.slice(0, 80)}`);
  const name = head[1] as string;
  const engine = /\) ENGINE = (\w*MergeTree)(\(([^)]*)\))?/.exec(sql);
  if (!engine) throw new StoreError(`cluster DDL: ${name} has no MergeTree engine`);
  const [whole, family, , args] = engine as unknown as [string, string, string | undefined, string | undefined];
  const local = `${name}${LOCAL_SUFFIX}`;
  const zk = quote(`/clickhouse/tables/{shard}/${db}/${local}`);
  const replicated = `) ENGINE = Replicated${family}(${zk}, '{replica}'${args ? `, ${args}` : ''})`;
  const localSql = sql
    .replace(head[0], `CREATE TABLE IF NOT EXISTS ${db}.${local}${on} (`)
    .replace(whole, replicated)
    // Replicated tables deduplicate inserts by default; keep the window explicit at the single-node value.
    .replace(/non_replicated_deduplication_window/g, 'replicated_deduplication_window');
  const shardKey = `cityHash64(${orderBy(sql).replace(/^\((.*)\)$/s, '$1')})`;
  const distributed =
    `CREATE TABLE IF NOT EXISTS ${db}.${name}${on} AS ${db}.${local} ` +
    `ENGINE = Distributed(${quote(o.cluster)}, ${quote(db)}, ${quote(local)}, ${shardKey})`;
  return [localSql, distributed];
}

/** Renders one single-node statement for the cluster (one or two statements). Throws StoreError on a form it does not know. */
export function clusterStatement(sql: string, o: ClusterDdlOptions): string[] {
  if (!NAME.test(o.database)) throw new StoreError(`invalid database name ${o.database}`);
  if (o.cluster === '' || /['\\\s]/.test(o.cluster))
    throw new StoreError(`invalid ClickHouse cluster name ${o.cluster}`);
  const db = o.database;
  const on = ` ON CLUSTER ${quote(o.cluster)}`;
  const s = sql.trim();
  if (new RegExp(`^CREATE DATABASE IF NOT EXISTS ${db}$`).test(s)) return [`${s}${on}`];
  if (s.startsWith(`CREATE TABLE IF NOT EXISTS ${db}.`)) return renderTable(s, o, on);
  const mv = new RegExp(`^CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}\\.(\\w+) TO ${db}\\.(\\w+) AS`).exec(s);
  if (mv) {
    const body = s
      .slice(mv[0].length)
      .replace(new RegExp(`\\b(FROM|JOIN) ${db}\\.(\\w+)`, 'g'), `$1 ${db}.$2${LOCAL_SUFFIX}`);
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${mv[1]}${on} TO ${db}.${mv[2]}${LOCAL_SUFFIX} AS${body}`];
  }
  const view = new RegExp(`^CREATE VIEW IF NOT EXISTS ${db}\\.(\\w+) AS`).exec(s);
  if (view) return [s.replace(view[0], `CREATE VIEW IF NOT EXISTS ${db}.${view[1]}${on} AS`)];
  const alter = new RegExp(`^ALTER TABLE ${db}\\.(\\w+) `).exec(s);
  if (alter) {
    const rest = s.slice(alter[0].length);
    const out = [`ALTER TABLE ${db}.${alter[1]}${LOCAL_SUFFIX}${on} ${rest}`];
    // The Distributed table mirrors the columns (not the indexes, projections or TTLs, which live in the data).
    if (/^(ADD|MODIFY|DROP|RENAME|COMMENT) COLUMN\b/i.test(rest))
      out.push(`ALTER TABLE ${db}.${alter[1]}${on} ${rest}`);
    return out;
  }
  throw new StoreError(`cluster DDL: no cluster rendering for: ${s.slice(0, 100)}`);
}

/** Renders a migration's statements for the cluster, in order. */
export function clusterStatements(statements: readonly string[], o: ClusterDdlOptions): string[] {
  return statements.flatMap((sql) => clusterStatement(sql, o));
}
