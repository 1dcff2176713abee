// @kec/cache: the Redis object cache of kec (compact records of pods, nodes, namespaces and workloads, tombstones,
// sync state) and the kec.enriched/v1 payload schema.

export type { RedisSecurity, RedisSecurityConfig } from './connection.ts';
export { isRedisAuthError, redisConnection, redisSecurity, redisTarget } from './connection.ts';
export type {
  EnrichedEvent,
  EnrichedNode,
  EnrichedObject,
  Enrichment,
  EnrichmentStatus,
  WorkloadRef,
} from './enriched.ts';
export {
  EnrichedEventSchema,
  EnrichedEventValidator,
  EnrichedNodeSchema,
  EnrichedObjectSchema,
  EnrichmentSchema,
  EnrichmentStatusSchema,
  isEnrichedEvent,
  KEC_ENRICHED_SCHEMA,
  parseEnrichedEvent,
  WorkloadRefSchema,
} from './enriched.ts';
export { CacheConfigError, CacheUnavailableError } from './errors.ts';
export type { CacheKeys } from './keys.ts';
export { cacheKeys, DEFAULT_PREFIX } from './keys.ts';
export type { KindInfo } from './kinds.ts';
export { CACHED_KINDS, collectionPath, kindInfo, objectPath } from './kinds.ts';
export type {
  CacheEntry,
  CacheRecord,
  CompactOptions,
  ContainerStatus,
  NodeFields,
  NotFoundRecord,
  OwnerRef,
  PodFields,
  Termination,
} from './record.ts';
export {
  annotationFilter,
  CacheRecordSchema,
  CacheRecordValidator,
  ContainerStatusSchema,
  compactObject,
  controllerOf,
  DEFAULT_ANNOTATION_ALLOW,
  DENIED_ANNOTATIONS,
  isNotFound,
  MAX_CONTAINER_STATUSES,
  NodeFieldsSchema,
  NotFoundRecordSchema,
  OwnerRefSchema,
  PodFieldsSchema,
  TerminationSchema,
} from './record.ts';
export type { CacheLogger, CacheStoreOptions, SyncState } from './store.ts';
export { CacheStore } from './store.ts';
