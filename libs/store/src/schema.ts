// The kec schema (database `kec` by default) as versioned migrations. Table and column names are a public SQL
// contract (Grafana, users' SQL): add columns in new migrations, never rename or drop them in place.
// Every statement is idempotent (IF NOT EXISTS), so a migration interrupted half-way is simply applied again.

export interface Retention {
  /** `events` (latest state per uid), by last_timestamp. */
  eventsDays: number;
  /** `occurrences`, by time. */
  occurrencesDays: number;
  /** `events_per_minute_state` (the rollup), by minute. */
  rollupDays: number;
  /** `incidents`, by last_seen. */
  incidentsDays: number;
  /** `gaps`, by to_time. */
  gapsDays: number;
  /** `patterns`, by at. */
  patternsDays: number;
}

export const DEFAULT_RETENTION: Readonly<Retention> = {
  eventsDays: 90,
  occurrencesDays: 90,
  rollupDays: 400,
  incidentsDays: 180,
  gapsDays: 400,
  patternsDays: 90,
};

/** Which TTL expression each retention key controls (used to create and to ALTER ... MODIFY TTL). */
export const TTL_COLUMNS: Readonly<Record<keyof Retention, { table: string; expr: string }>> = {
  eventsDays: { table: 'events', expr: 'toDateTime(last_timestamp)' },
  occurrencesDays: { table: 'occurrences', expr: 'toDateTime(time)' },
  rollupDays: { table: 'events_per_minute_state', expr: 'minute' },
  incidentsDays: { table: 'incidents', expr: 'toDateTime(last_seen)' },
  gapsDays: { table: 'gaps', expr: 'toDateTime(to_time)' },
  patternsDays: { table: 'patterns', expr: 'toDateTime(at)' },
};

export function ttlClause(key: keyof Retention, retention: Retention): string {
  return `${TTL_COLUMNS[key].expr} + INTERVAL ${retention[key]} DAY`;
}

export interface Migration {
  version: number;
  name: string;
  statements(db: string, retention: Retention): string[];
}

const TS = "DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1))";
const LC = 'LowCardinality(String)';
const MAP = 'Map(LowCardinality(String), String) CODEC(ZSTD(1))';

/**
 * The per-minute rollup's SELECT over occurrences: the materialized view's (every inserted block), and a
 * recomputation's over the stored occurrences of some events (`kec reclassify`), with a narrower condition.
 */
export function rollupSelect(from: string, where = 'occurrences > 0'): string {
  return `SELECT
  toStartOfMinute(time) AS minute,
  cluster, namespace, regarding_kind AS kind, reason, type,
  sipHash64(cluster, uid) AS uid_hash,
  min(toUInt64(count) - toUInt64(occurrences)) AS lo,
  max(toUInt64(count)) AS hi,
  argMaxState(CAST((toString(workload_kind), toString(workload_name), toString(severity), toString(category)), 'Tuple(workload_kind String, workload_name String, severity String, category String)'), resource_version) AS dims
FROM ${from}
WHERE ${where}
GROUP BY minute, cluster, namespace, kind, reason, type, uid_hash`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, occurrences, per-minute rollup, incidents, gaps, patterns',
    statements: (db, r) => [
      // Latest state per Event object. Every version of a uid has the same partition (first_timestamp is
      // immutable) and the same sort key (only immutable columns), so replaced rows collapse on merge;
      // read with FINAL or argMax(..., version).
      `CREATE TABLE IF NOT EXISTS ${db}.events (
  cluster ${LC},
  namespace ${LC},
  uid String CODEC(ZSTD(1)),
  name String CODEC(ZSTD(1)),
  resource_version String CODEC(ZSTD(1)),
  version UInt64 CODEC(Delta(8), ZSTD(1)),
  source_api ${LC},
  watch_type ${LC},
  deleted Bool,
  observed_at ${TS},
  creation_timestamp Nullable(DateTime64(6, 'UTC')),
  first_timestamp ${TS},
  last_timestamp ${TS},
  event_time Nullable(DateTime64(6, 'UTC')),
  series_count Nullable(UInt32),
  series_last_observed_time Nullable(DateTime64(6, 'UTC')),
  count UInt32 CODEC(T64, ZSTD(1)),
  type ${LC},
  reason ${LC},
  action ${LC},
  note String CODEC(ZSTD(3)),
  combined Bool,
  reporting_controller ${LC},
  reporting_instance ${LC},
  regarding_kind ${LC},
  regarding_namespace ${LC},
  regarding_name String CODEC(ZSTD(1)),
  regarding_uid String CODEC(ZSTD(1)),
  regarding_api_version ${LC},
  regarding_resource_version String CODEC(ZSTD(1)),
  regarding_field_path String CODEC(ZSTD(1)),
  related_kind ${LC},
  related_namespace ${LC},
  related_name String CODEC(ZSTD(1)),
  related_uid String CODEC(ZSTD(1)),
  related_api_version ${LC},
  related_resource_version String CODEC(ZSTD(1)),
  related_field_path String CODEC(ZSTD(1)),
  deprecated_source_component ${LC},
  deprecated_source_host ${LC},
  deprecated_first_timestamp Nullable(DateTime64(6, 'UTC')),
  deprecated_last_timestamp Nullable(DateTime64(6, 'UTC')),
  deprecated_count Nullable(UInt32),
  labels ${MAP},
  annotations ${MAP},
  enrichment_status ${LC},
  object_labels ${MAP},
  object_annotations ${MAP},
  object_deleted Bool,
  workload_kind ${LC},
  workload_name String CODEC(ZSTD(1)),
  node_name ${LC},
  node_zone ${LC},
  namespace_labels ${MAP},
  severity ${LC},
  category ${LC},
  actionable Bool,
  rule_id ${LC},
  ruleset_version ${LC},
  fields ${MAP},
  fingerprint_id String CODEC(ZSTD(1)),
  fingerprint_template String CODEC(ZSTD(3)),
  incident_id String CODEC(ZSTD(1)),
  INDEX idx_last_timestamp last_timestamp TYPE minmax GRANULARITY 1,
  INDEX idx_workload workload_name TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_reason reason TYPE set(256) GRANULARITY 4,
  INDEX idx_incident incident_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_label_keys mapKeys(object_labels) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(first_timestamp)
ORDER BY (cluster, namespace, regarding_kind, regarding_name, uid)
TTL ${ttlClause('eventsDays', r)}
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000`,

      // One row per observation that the writer stored, keyed by (cluster, uid, resource_version): a replayed
      // observation is the same key with the same values and collapses on merge (FINAL reads collapse at once).
      // `time` is the observation's lastTimestamp, immutable per (uid, resource_version), so it may sit in the
      // partition and the sort key.
      `CREATE TABLE IF NOT EXISTS ${db}.occurrences (
  time ${TS},
  cluster ${LC},
  namespace ${LC},
  uid String CODEC(ZSTD(1)),
  resource_version UInt64 CODEC(Delta(8), ZSTD(1)),
  watch_type ${LC},
  count UInt32 CODEC(T64, ZSTD(1)),
  occurrences UInt32 CODEC(T64, ZSTD(1)),
  type ${LC},
  reason ${LC},
  regarding_kind ${LC},
  regarding_name String CODEC(ZSTD(1)),
  workload_kind ${LC},
  workload_name ${LC},
  node_name ${LC},
  severity ${LC},
  category ${LC},
  fingerprint_id ${LC},
  incident_id String CODEC(ZSTD(1)),
  INDEX idx_uid uid TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_workload workload_name TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_object regarding_name TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (cluster, namespace, toStartOfHour(time), reason, uid, resource_version)
TTL ${ttlClause('occurrencesDays', r)}
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000`,

      // Per-minute rollup state, replay-proof by construction: per (minute, event uid) it keeps the range of the
      // Event's count that became new in that minute, lo = min(count - occurrences), hi = max(count). min and max
      // are idempotent, so a replayed or re-batched observation (any grouping, any number of times) merges into
      // the same state. An Event's count only grows with time, so its ranges inside one minute are contiguous and
      // hi - lo is exactly the sum of its new occurrences there. Only columns immutable per uid sit in the key;
      // the mutable ones (workload from enrichment, severity/category from classification) are the values of
      // the latest observation (argMax by resource_version).
      `CREATE TABLE IF NOT EXISTS ${db}.events_per_minute_state (
  minute DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
  cluster ${LC},
  namespace ${LC},
  kind ${LC},
  reason ${LC},
  type ${LC},
  uid_hash UInt64,
  lo SimpleAggregateFunction(min, UInt64),
  hi SimpleAggregateFunction(max, UInt64),
  dims AggregateFunction(argMax, Tuple(workload_kind String, workload_name String, severity String, category String), UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (cluster, namespace, reason, kind, type, minute, uid_hash)
TTL ${ttlClause('rollupDays', r)}
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000`,

      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.events_per_minute_mv TO ${db}.events_per_minute_state AS
${rollupSelect(`${db}.occurrences`)}`,

      // What users query: one row per (minute, Event object) with its new occurrences; sum(occurrences) and
      // uniqExact(uid_hash) (distinct Event objects) aggregate it. Filters on minute/cluster/namespace/kind/reason/type are
      // pushed into the inner GROUP BY.
      `CREATE VIEW IF NOT EXISTS ${db}.events_per_minute AS
SELECT
  minute, cluster, namespace, d.workload_kind AS workload_kind, d.workload_name AS workload_name,
  kind, reason, type, d.severity AS severity, d.category AS category, uid_hash, occurrences
FROM (
  SELECT minute, cluster, namespace, kind, reason, type, uid_hash,
         max(hi) - min(lo) AS occurrences, argMaxMerge(dims) AS d
  FROM ${db}.events_per_minute_state
  GROUP BY minute, cluster, namespace, kind, reason, type, uid_hash
)`,

      `CREATE TABLE IF NOT EXISTS ${db}.incidents (
  cluster ${LC},
  id String,
  namespace ${LC},
  title String CODEC(ZSTD(3)),
  severity ${LC},
  category ${LC},
  root_cause_event_uid String,
  root_cause_reason ${LC},
  root_cause_object String,
  root_cause_why String CODEC(ZSTD(3)),
  affected_objects Array(String) CODEC(ZSTD(3)),
  first_seen ${TS},
  last_seen ${TS},
  event_count UInt64,
  occurrence_count UInt64,
  state ${LC},
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(first_seen)
ORDER BY (cluster, namespace, id)
TTL ${ttlClause('incidentsDays', r)}
SETTINGS non_replicated_deduplication_window = 1000`,

      `CREATE TABLE IF NOT EXISTS ${db}.gaps (
  cluster ${LC},
  from_resource_version String,
  to_resource_version String,
  from_time ${TS},
  to_time ${TS},
  reason ${LC},
  detected_by String
) ENGINE = ReplacingMergeTree
ORDER BY (cluster, from_resource_version, to_resource_version)
TTL ${ttlClause('gapsDays', r)}
SETTINGS non_replicated_deduplication_window = 1000`,

      `CREATE TABLE IF NOT EXISTS ${db}.patterns (
  at ${TS},
  kind ${LC},
  cluster ${LC},
  namespace ${LC},
  workload String,
  fingerprint String,
  reason ${LC},
  window_seconds UInt32,
  rate Float64,
  baseline Float64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (cluster, namespace, kind, at, workload, fingerprint, reason)
TTL ${ttlClause('patternsDays', r)}
SETTINGS non_replicated_deduplication_window = 1000`,
    ],
  },
];
