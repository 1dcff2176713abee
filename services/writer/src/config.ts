// KEC_WRITER_* configuration. Shared keys (KEC_CLICKHOUSE_URL, KEC_DATA_DIR, KEC_NATS_URL) come from @kec/config.
import { defineConfig, type ResolvedConfig } from '@kec/config';
import Type from 'typebox';

const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });
const days = (d: number, what: string) => ({
  schema: int(1, 36_500),
  default: d,
  description: `Retention of ${what} in days (TTL; changed in place by ALTER ... MODIFY TTL at start).`,
});

export const writerConfig = defineConfig({
  section: 'writer',
  keys: {
    batchSize: {
      schema: int(1, 100_000),
      default: 5_000,
      description: 'A batch is inserted when it holds this many messages (one insert per table per batch).',
    },
    batchWaitMs: {
      schema: int(0, 60_000),
      default: 1_000,
      description: 'A batch is inserted at the latest this long after its first message arrived.',
    },
    durable: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'writer',
      description: 'Durable consumer name on each stream, shared by every writer replica.',
    },
    ackWaitMs: {
      schema: int(1_000, 3_600_000),
      default: 60_000,
      description:
        'Consumer ack_wait: an unacked message is redelivered after this (keep it above batch wait + insert time).',
    },
    maxAckPending: {
      schema: int(1, 1_000_000),
      default: 20_000,
      description: 'Consumer max_ack_pending across replicas (keep it above replicas x 2 x batchSize).',
    },
    nakDelayMs: {
      schema: int(0, 600_000),
      default: 1_000,
      description: 'Redelivery delay after a failed insert; doubles per delivery.',
    },
    maxNakDelayMs: {
      schema: int(0, 3_600_000),
      default: 30_000,
      description: 'Cap of the redelivery delay while the store is failing.',
    },
    storeRetryMs: {
      schema: int(100, 600_000),
      default: 2_000,
      description: 'Interval of attempts to open the store (and to migrate) while it is unavailable at start.',
    },
    insertAttempts: {
      schema: int(1, 100),
      default: 5,
      description: 'HTTP backend: attempts of one insert (identical rows and dedup token) before the batch is nak-ed.',
    },
    requestTimeoutMs: {
      schema: int(1_000, 600_000),
      default: 30_000,
      description: 'HTTP backend: request timeout.',
    },
    idleSocketTtlMs: {
      schema: int(100, 600_000),
      default: 2_500,
      description:
        "HTTP backend: idle keep-alive sockets are dropped after this; keep it below the server's keep_alive_timeout.",
    },
    database: {
      schema: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      default: 'kec',
      description: 'ClickHouse database of the kec schema.',
    },
    migrate: {
      schema: Type.Boolean(),
      default: true,
      description: 'Apply pending migrations and retention at start (kec migrate does the same on demand).',
    },
    eventsDays: days(90, 'events'),
    occurrencesDays: days(90, 'occurrences'),
    rollupDays: days(400, 'the per-minute rollup'),
    incidentsDays: days(180, 'incidents'),
    gapsDays: days(400, 'gaps'),
    patternsDays: days(90, 'patterns'),
    subjectRoot: {
      schema: Type.String({ pattern: '^[^\\s*>%]+$' }),
      default: 'kec',
      description: 'Subject root (kec.events.>); tests use a random one.',
    },
    streamPrefix: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]*$' }),
      default: '',
      description:
        'Prefix of the stream names (KEC_EVENTS, KEC_INCIDENTS, KEC_GAPS, KEC_PATTERNS); tests use a random one.',
    },
    streamMaxBytes: {
      schema: Type.Integer({ minimum: 0 }),
      default: 0,
      description:
        'max_bytes of the streams the writer ensures; 0: the catalogue defaults. Match the correlator/watcher setting, else the writer grows their streams back.',
    },
    testCrashAfterInserts: {
      schema: int(0, 1_000_000),
      default: 0,
      description:
        'Testing only: SIGKILL the process right after the Nth insert returned, before the batch is acked (0: off).',
    },
  },
});

export type WriterConfig = ResolvedConfig<typeof writerConfig>;
