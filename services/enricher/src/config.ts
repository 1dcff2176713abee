// KEC_ENRICHER_* configuration.
import { DEFAULT_ANNOTATION_ALLOW } from '@kec/cache';
import { defineConfig, type ResolvedConfig } from '@kec/config';
import Type from 'typebox';

const CSV = Type.String({ pattern: '^[^\\s]*(,[^\\s]*)*$' });
const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

export const enricherConfig = defineConfig({
  section: 'enricher',
  keys: {
    kubeconfig: {
      schema: Type.String(),
      default: '',
      description:
        'Path of a kubeconfig file; empty: $KUBECONFIG, ~/.kube/config, then the in-cluster service account.',
    },
    clusters: {
      schema: Type.String({ pattern: '^[^\\s]*$' }),
      default: '',
      description:
        'Clusters this replica enriches, `name=kubeconfigPath[#context],...` (one pool for many clusters: each event is looked up in its own cluster cache and API). Empty: KEC_CLUSTER with `kubeconfig`.',
    },
    subjectRoot: {
      schema: Type.String({ pattern: '^[^\\s*>%]+$' }),
      default: 'kec',
      description: 'Subject root (<root>.raw.> in, <root>.enriched.> out); tests use a random one.',
    },
    streamPrefix: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]*$' }),
      default: '',
      description: 'Prefix of the stream names (KEC_RAW, KEC_ENRICHED, KEC_DLQ); tests use a random one.',
    },
    streamMaxBytes: {
      schema: int(0, 2 ** 50),
      default: 0,
      description:
        'max_bytes of the streams the enricher ensures (KEC_RAW, KEC_ENRICHED, KEC_DLQ); 0: the @kec/bus catalogue value.',
    },
    correlate: {
      schema: Type.Boolean(),
      default: false,
      description:
        'Fused mode (small installs): correlate in this process (KEC_CORRELATOR_* keys apply) and publish kec.events, kec.incidents, kec.patterns instead of kec.enriched. See README.',
    },
    durable: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'enricher',
      description: 'Durable consumer on KEC_RAW shared by every replica.',
    },
    batchSize: { schema: int(1, 4096), default: 256, description: 'Events per batch (one MGET round per level).' },
    batchWaitMs: {
      schema: int(0, 10_000),
      default: 20,
      description: 'A partial batch is handled this long after its first event.',
    },
    concurrency: {
      schema: int(1, 64),
      default: 4,
      description: 'Batches in flight per replica (a batch may wait for an informer to catch up).',
    },
    nakDelayMs: {
      schema: int(0, 600_000),
      default: 1_000,
      description: 'Redelivery delay after a retryable failure (Redis, JetStream); doubles per delivery.',
    },
    maxNakDelayMs: {
      schema: int(0, 3_600_000),
      default: 30_000,
      description:
        'Cap of the redelivery delay; deliveries are unlimited, so an outage never dead-letters good events.',
    },
    maxAckPending: {
      schema: int(1, 1_000_000),
      default: 8192,
      description: 'The consumer max_ack_pending (all replicas together); > replicas x concurrency x batchSize.',
    },
    redisPrefix: {
      schema: Type.String({ pattern: '^\\S*$' }),
      default: 'kec:cache:',
      description: 'Prefix of every cache key (keys are <prefix><cluster>:...); tests use a random one.',
    },
    redisTimeoutMs: {
      schema: int(50, 60_000),
      default: 1000,
      description: 'A Redis command without an answer this long fails; the batch passes through as unavailable.',
    },
    filler: {
      schema: Type.Boolean(),
      default: true,
      description: 'Take part in the election of the one replica that runs the informers and fills the cache.',
    },
    kinds: {
      schema: CSV,
      default: '',
      description: 'Kinds the filler keeps warm (comma-separated); empty: all eleven (see README).',
    },
    annotationAllow: {
      schema: CSV,
      default: DEFAULT_ANNOTATION_ALLOW.join(','),
      description:
        'Annotation keys cached (prefix/* matches a prefix). last-applied-configuration and other blobs are never cached.',
    },
    maxAnnotationLength: {
      schema: int(0, 65_536),
      default: 256,
      description: 'Annotation values longer than this are not cached.',
    },
    tombstoneTtlMs: {
      schema: int(1000, 30 * 86_400_000),
      default: 7_200_000,
      description: 'How long a deleted object stays readable; keep it above the event TTL (1 h by default).',
    },
    notFoundTtlMs: {
      schema: int(0, 3_600_000),
      default: 30_000,
      description: 'How long a 404 from a cache-miss GET is remembered.',
    },
    fetchedTtlMs: {
      schema: int(1000, 86_400_000),
      default: 600_000,
      description: 'TTL of a record a replica wrote after a GET (the filler replaces it with a live record).',
    },
    getQps: {
      schema: Type.Number({ minimum: 0.01, maximum: 10_000 }),
      default: 5,
      description: 'Cache-miss GETs per second per replica (token bucket).',
    },
    getBurst: { schema: int(1, 10_000), default: 10, description: 'Token bucket burst for cache-miss GETs.' },
    getMaxWaitMs: {
      schema: int(0, 60_000),
      default: 2000,
      description: 'A GET that would wait longer than this for a token is skipped (status miss, rate-limited).',
    },
    informerGraceMs: {
      schema: int(0, 600_000),
      default: 2000,
      description:
        'An informer current at T vouches for objects of events older than T - grace (watch latency and clock skew).',
    },
    coverWaitMs: {
      schema: int(0, 60_000),
      default: 3000,
      description: 'How long a miss waits for the informer to catch up before a GET is considered.',
    },
    startupSyncWaitMs: {
      schema: int(0, 600_000),
      default: 30_000,
      description: 'At start, consume only once every informer has listed (or after this long).',
    },
    syncIntervalMs: {
      schema: int(50, 60_000),
      default: 500,
      description: 'Filler: how often it publishes informer progress and checks the Redis marker.',
    },
    pageSize: { schema: int(1, 5000), default: 500, description: 'Filler LIST page size.' },
    watchTimeoutSeconds: {
      schema: int(1, 3600),
      default: 300,
      description: 'Filler server-side watch timeout (jittered); the watch resumes from its RV after it.',
    },
    leaseName: {
      schema: Type.String({ minLength: 1 }),
      default: 'kec-enricher-filler',
      description: 'Lease that elects the filler.',
    },
    leaseNamespace: {
      schema: Type.String(),
      default: '',
      description: 'Namespace of the Lease; empty: $POD_NAMESPACE, else "default".',
    },
    identity: {
      schema: Type.String(),
      default: '',
      description: 'Leader-election identity; empty: $POD_NAME, else <hostname>_<pid>.',
    },
    leaseDurationMs: { schema: int(1000, 600_000), default: 15_000, description: 'Lease duration.' },
    renewDeadlineMs: { schema: int(500, 600_000), default: 10_000, description: 'Lease renew deadline.' },
    retryPeriodMs: { schema: int(100, 60_000), default: 2_000, description: 'Lease retry period.' },
  },
});

export type EnricherConfig = ResolvedConfig<typeof enricherConfig>;

export function csv(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
