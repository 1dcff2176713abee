// Insert settings, pinned: their defaults differ between ClickHouse 24/25 and 26 (26.2 turned async_insert and
// MV block dedup on by default), so the writer never relies on a server default.

/**
 * Sent with every insert. Synchronous inserts (the writer batches on the client), insert dedup on, dedup carried
 * into materialized views, RFC 3339 timestamps accepted. The per-batch `insert_deduplication_token` is added per call.
 */
export const PINNED_INSERT_SETTINGS: Readonly<Record<string, string | number>> = {
  async_insert: 0,
  wait_for_async_insert: 1,
  insert_deduplicate: 1,
  deduplicate_blocks_in_dependent_materialized_views: 1,
  // On a ClickHouse cluster (KEC_CLICKHOUSE_CLUSTER) the writer inserts into Distributed tables: synchronous
  // forwarding, so the insert returns once the shards have the rows and each shard's replicated table sees the
  // insert_deduplication_token of a retried batch (ignored by MergeTree tables on a single node).
  insert_distributed_sync: 1,
  date_time_input_format: 'best_effort',
  input_format_skip_unknown_fields: 0,
};

/** Sent with every query: numbers as JSON numbers, timestamps as ISO 8601 UTC. */
export const PINNED_QUERY_SETTINGS: Readonly<Record<string, string | number>> = {
  output_format_json_quote_64bit_integers: 0,
  date_time_output_format: 'iso',
};

/**
 * Query settings of the embedded engine only (chdb pins the engine version, so settings newer than the oldest
 * supported server, ClickHouse 24.8, are safe here). `query_plan_optimize_lazy_final`: a FINAL query with a
 * selective filter (one object's timeline, an incident's members) first finds the matching keys, then collapses
 * versions only for them instead of for every row in the primary-key range: 263 -> 57 ms CPU for one pod's
 * occurrences in the busiest namespace of the 1M-event bench store (bench/README.md). On a server >= 25.x set it
 * in the users' profile (deploy/).
 */
export const EMBEDDED_QUERY_SETTINGS: Readonly<Record<string, string | number>> = {
  query_plan_optimize_lazy_final: 1,
};

const MiB = 1024 * 1024;

/**
 * Server settings of the embedded engine (chdb in a kec process, and tools/chdb-http), given when the engine starts
 * (chdb's `connectionArgs`, as on a `clickhouse local` command line). ClickHouse sizes its caches and its memory
 * limit from the machine: the mark, index-mark and primary-index caches up to 5 GiB each, the query condition cache
 * 100 MiB, the compiled expression cache 128 MiB, and the engine's memory limit 90 % of RAM, so an embedded engine
 * grows with the machine and with what it has read, not with what kec needs. These bound it by configuration; the
 * libs/store README ("Memory of the embedded engine") has the figures. A ClickHouse server gets the same limits from
 * its own configuration (deploy/clickhouse/kec-memory.xml).
 */
export const EMBEDDED_SERVER_SETTINGS: Readonly<Record<string, string | number>> = {
  // The engine's tracked memory (queries, inserts, merges, caches): beyond it a query or insert fails with
  // MEMORY_LIMIT_EXCEEDED (241, retryable: the writer naks and the batch comes back) instead of the process growing.
  max_server_memory_usage: 1024 * MiB,
  // Merges start no new merge while merges hold more than this; the inserts keep their share of the limit.
  merges_mutations_memory_usage_soft_limit: 256 * MiB,
  mark_cache_size: 64 * MiB,
  index_mark_cache_size: 16 * MiB,
  primary_index_cache_size: 16 * MiB,
  uncompressed_cache_size: 0,
  index_uncompressed_cache_size: 0,
  query_condition_cache_size: 16 * MiB,
  compiled_expression_cache_size: 16 * MiB,
  // Two merge threads (chdb's default, pinned): each merge holds buffers per column of the parts it merges.
  background_pool_size: 2,
};
