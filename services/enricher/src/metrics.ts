// kec_enricher_* instruments.
import type { Counter, Histogram, Meter } from '@opentelemetry/api';

export interface EnricherMetrics {
  /** Events published, by enrichment status. */
  events: Counter;
  /** Cache answers for looked-up objects (regarding objects, owners, nodes, namespaces), by kind and source. */
  hits: Counter;
  /** Objects not found, by kind and reason. */
  misses: Counter;
  /** GETs sent to the API after a miss, by kind and result. */
  gets: Counter;
  /** GETs skipped because the token bucket had no token in time. */
  throttled: Counter;
  /** Batches that waited for an informer to become current. */
  coverWaits: Counter;
  /** Redis failures seen by readers (each failed batch once). */
  redisErrors: Counter;
  /** Seconds from the watcher's observedAt to the enriched publish ack. */
  lag: Histogram;
  batchDuration: Histogram;
  /** Filler: full resyncs, by reason (initial, redis-lost, marker-replaced, informer-failed). */
  resyncs: Counter;
  /** Filler: objects written (live) and tombstoned, by kind and op. */
  writes: Counter;
  /** Filler: cache writes retried after a Redis failure, by kind. */
  writeRetries: Counter;
}

export function enricherMetrics(meter: Meter): EnricherMetrics {
  return {
    events: meter.createCounter('kec_enricher_events_total', {
      description: 'Enriched events published, by status (hit, tombstone, fetched, miss, unavailable)',
    }),
    hits: meter.createCounter('kec_enricher_cache_hits_total', {
      description: 'Objects found, by kind and source (live, tombstone, fetched)',
    }),
    misses: meter.createCounter('kec_enricher_cache_misses_total', {
      description: 'Objects not found, by kind and reason',
    }),
    gets: meter.createCounter('kec_enricher_api_gets_total', {
      description: 'GETs issued to the Kubernetes API after a cache miss, by kind and result',
    }),
    throttled: meter.createCounter('kec_enricher_api_gets_throttled_total', {
      description: 'Cache-miss GETs skipped by the rate limiter',
    }),
    coverWaits: meter.createCounter('kec_enricher_cover_waits_total', {
      description: 'Batches that waited for the informer of a kind to catch up',
    }),
    redisErrors: meter.createCounter('kec_enricher_redis_errors_total', {
      description: 'Batches whose Redis reads failed (their events pass through as unavailable)',
    }),
    lag: meter.createHistogram('kec_enricher_lag_seconds', {
      description: 'From the watcher observing the event to its enriched publish being acked',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] },
    }),
    batchDuration: meter.createHistogram('kec_enricher_batch_duration_seconds', {
      description: 'Time to enrich and publish one batch',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
    }),
    resyncs: meter.createCounter('kec_enricher_filler_resyncs_total', {
      description: 'Filler full resyncs (all informers relisted), by reason',
    }),
    writes: meter.createCounter('kec_enricher_filler_writes_total', {
      description: 'Filler cache writes, by kind and op (upsert, tombstone)',
    }),
    writeRetries: meter.createCounter('kec_enricher_filler_write_retries_total', {
      description: 'Filler cache writes retried after a Redis failure, by kind',
    }),
  };
}
