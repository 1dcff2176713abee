// KEC_WATCHER_* configuration.
import { defineConfig, type ResolvedConfig } from '@kec/config';
import Type from 'typebox';

const CSV = Type.String({ pattern: '^[^\\s]*(,[^\\s]*)*$' });
const ms = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

export const watcherConfig = defineConfig({
  section: 'watcher',
  keys: {
    api: {
      schema: Type.Enum(['core/v1', 'events.k8s.io/v1']),
      default: 'core/v1',
      description:
        'API rendering to list/watch (the same objects either way): core/v1 (field selectors on involvedObject.*, source) or events.k8s.io/v1.',
    },
    kubeconfig: {
      schema: Type.String(),
      default: '',
      description:
        'Path of a kubeconfig file; empty: $KUBECONFIG, ~/.kube/config, then the in-cluster service account.',
    },
    namespaces: {
      schema: CSV,
      default: '',
      description:
        'Only these namespaces (comma-separated); empty: every namespace. One namespace watches that namespace path.',
    },
    excludeNamespaces: {
      schema: CSV,
      default: '',
      description: 'Namespaces to skip (server-side field selector metadata.namespace!=).',
    },
    kinds: {
      schema: CSV,
      default: '',
      description: 'Only events about these involved kinds (Pod,Node,...); one kind is a server-side field selector.',
    },
    excludeKinds: { schema: CSV, default: '', description: 'Involved kinds to skip (server-side field selector).' },
    reasons: {
      schema: CSV,
      default: '',
      description: 'Only these reasons; one reason is a server-side field selector.',
    },
    excludeReasons: { schema: CSV, default: '', description: 'Reasons to skip (server-side field selector).' },
    types: {
      schema: CSV,
      default: '',
      description: 'Only these types (Normal,Warning); one is a server-side selector.',
    },
    pageSize: {
      schema: Type.Integer({ minimum: 1, maximum: 5000 }),
      default: 500,
      description: 'LIST page size (limit); memory holds at most one page.',
    },
    publishWindow: {
      schema: Type.Integer({ minimum: 1, maximum: 4096 }),
      default: 256,
      description: 'Publishes awaiting their JetStream ack at most.',
    },
    watchTimeoutSeconds: {
      schema: Type.Integer({ minimum: 1, maximum: 3600 }),
      default: 300,
      description: 'Server-side watch timeout (jittered ±10%); the watch is re-opened from the last RV after it.',
    },
    stallAfterMs: {
      schema: ms(1000, 3_600_000),
      default: 60_000,
      description: 'A watch without frames this long is checked against the API RV and restarted when behind.',
    },
    stuckAfterMs: {
      schema: ms(1000, 3_600_000),
      default: 120_000,
      description: '/healthz fails when the leader loop made no progress (frames, pages, probes, acks) this long.',
    },
    checkpointIntervalMs: {
      schema: ms(0, 60_000),
      default: 1000,
      description: 'Least time between two checkpoint writes to NATS KV (the last one is always written on stop).',
    },
    kvBucket: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'kec_watch',
      description: 'NATS KV bucket of the resume points (key rv.<cluster>).',
    },
    subjectRoot: {
      schema: Type.String({ pattern: '^[^\\s*>%]+$' }),
      default: 'kec',
      description: 'Subject root (kec.raw.<cluster>...); tests use a random one.',
    },
    streamPrefix: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]*$' }),
      default: '',
      description:
        'Prefix of the stream names (KEC_RAW, KEC_GAPS, KEC_DLQ) the watcher ensures; tests use a random one.',
    },
    streamMaxBytes: {
      schema: Type.Integer({ minimum: 0 }),
      default: 0,
      description:
        "max_bytes of the streams the watcher creates (KEC_RAW, KEC_GAPS, KEC_DLQ); 0: the @kec/bus catalogue value (JetStream reserves it). Only ever raises an existing stream's limit (shrink with nats stream edit).",
    },
    leaseName: { schema: Type.String({ minLength: 1 }), default: 'kec-watcher', description: 'Lease name.' },
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
    leaseDurationMs: {
      schema: ms(1000, 600_000),
      default: 15_000,
      description: 'Lease duration: how long standbys wait before taking over an unrenewed lease.',
    },
    renewDeadlineMs: {
      schema: ms(500, 600_000),
      default: 10_000,
      description: 'A leader that has not renewed for this long stops publishing at once (< leaseDurationMs).',
    },
    retryPeriodMs: {
      schema: ms(100, 60_000),
      default: 2_000,
      description: 'Interval of lease renewals and acquisition attempts.',
    },
  },
});

export type WatcherConfig = ResolvedConfig<typeof watcherConfig>;

export function csv(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
