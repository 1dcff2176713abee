// KEC_CORRELATOR_* configuration.
import { STREAM_CATALOGUE } from '@kec/bus';
import { defineConfig, type ResolvedConfig } from '@kec/config';
import Type from 'typebox';

const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

/** Kubernetes' default event TTL (kube-apiserver --event-ttl). */
const EVENT_TTL_SEC = 3600;
const enrichedMaxAgeSec = (STREAM_CATALOGUE.find((s) => s.stream === 'KEC_ENRICHED')?.maxAgeMs ?? 86_400_000) / 1000;
/**
 * The per-uid occurrence state must outlive any observation the correlator can still be handed: a backlog as old as
 * KEC_ENRICHED's max_age of an event that lived the event TTL. Shorter, and an expired state counts the event's whole
 * count again.
 */
export const MIN_OCCURRENCE_TTL_SEC = enrichedMaxAgeSec + EVENT_TTL_SEC;

export const correlatorConfig = defineConfig({
  section: 'correlator',
  keys: {
    subjectRoot: {
      schema: Type.String({ pattern: '^[^\\s*>%]+$' }),
      default: 'kec',
      description:
        'Subject root (<root>.enriched.> in; <root>.events|incidents|patterns.> out); tests use a random one.',
    },
    streamPrefix: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]*$' }),
      default: '',
      description: 'Prefix of the stream names (KEC_ENRICHED, KEC_EVENTS, KEC_INCIDENTS, KEC_PATTERNS, KEC_DLQ).',
    },
    streamMaxBytes: {
      schema: Type.Integer({ minimum: 0 }),
      default: 0,
      description:
        'max_bytes of the streams the correlator provisions; 0: the catalogue defaults (8 GiB events, 1 GiB incidents/patterns).',
    },
    durable: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'correlator',
      description: 'Durable consumer on KEC_ENRICHED shared by every replica.',
    },
    redisPrefix: { schema: Type.String(), default: 'kec:corr:', description: 'Prefix of every Redis key.' },
    rulesFiles: {
      schema: Type.String({ pattern: '^[^\\s]*(,[^\\s]*)*$' }),
      default: '',
      description: 'Comma-separated user rule files, loaded after the defaults (same id replaces).',
    },
    batchSize: { schema: int(1, 4096), default: 256, description: 'Events per batch.' },
    batchWaitMs: {
      schema: int(0, 10_000),
      default: 20,
      description: 'A partial batch is handled this long after its first event.',
    },
    concurrency: { schema: int(1, 16), default: 2, description: 'Batches in flight per replica.' },
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
    maxAckPending: { schema: int(1, 100_000), default: 2000, description: 'Consumer max_ack_pending.' },
    windowMs: {
      schema: int(1000, 86_400_000),
      default: 900_000,
      description: 'An event joins an open incident whose [firstSeen, lastSeen] is within this distance of its time.',
    },
    quietMs: {
      schema: int(1000, 86_400_000),
      default: 600_000,
      description: 'An incident resolves after this long without events.',
    },
    sweepIntervalMs: {
      schema: int(0, 3_600_000),
      default: 15_000,
      description: 'How often to look for quiet incidents (0: never).',
    },
    occurrenceTtlSec: {
      schema: int(MIN_OCCURRENCE_TTL_SEC, 30 * 86_400),
      default: MIN_OCCURRENCE_TTL_SEC + 3600,
      description:
        'TTL of the per-uid occurrence state; at least KEC_ENRICHED max_age (24 h) + the event TTL (1 h), so a backlog cannot count an event twice.',
    },
    incidentTtlSec: {
      schema: int(60, 90 * 86_400),
      default: 86_400,
      description: 'TTL of incident state after its last event.',
    },
    maxAffected: { schema: int(1, 10_000), default: 100, description: 'Affected objects kept per incident.' },
    stormMin: {
      schema: int(1, 1_000_000),
      default: 60,
      description: 'Storm: at least this many occurrences in one minute...',
    },
    stormFactor: {
      schema: Type.Number({ minimum: 1 }),
      default: 10,
      description: '...and this many times the baseline rate.',
    },
    baselineMinutes: {
      schema: int(1, 240),
      default: 30,
      description: 'Minutes before the current one that make the baseline.',
    },
    firstSeenTtlSec: {
      schema: int(60, 365 * 86_400),
      default: 7 * 86_400,
      description: 'A fingerprint is "first seen" in a namespace/workload again after this long without it.',
    },
  },
});

export type CorrelatorConfig = ResolvedConfig<typeof correlatorConfig>;
