// KEC_ALERTER_* configuration.
import { defineConfig, type ResolvedConfig } from '@kec/config';
import Type from 'typebox';

const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

export const alerterConfig = defineConfig({
  section: 'alerter',
  keys: {
    subjectRoot: {
      schema: Type.String({ pattern: '^[^\\s*>%]+$' }),
      default: 'kec',
      description:
        'Subject root (<root>.incidents|events|patterns.> in; <root>.alerts.>, <root>.notifications.> out); tests use a random one.',
    },
    streamPrefix: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]*$' }),
      default: '',
      description:
        'Prefix of the stream names (KEC_INCIDENTS, KEC_EVENTS, KEC_PATTERNS, KEC_ALERTS, KEC_NOTIFICATIONS, KEC_DLQ).',
    },
    streamMaxBytes: {
      schema: Type.Integer({ minimum: 0 }),
      default: 0,
      description:
        'max_bytes of the streams the alerter provisions; 0: the defaults (1 GiB each for KEC_ALERTS and KEC_NOTIFICATIONS).',
    },
    durable: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'alerter',
      description: 'Durable consumer name on each input stream, shared by every replica.',
    },
    bucket: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'kec_alerter',
      description: 'NATS KV bucket of alert state, groups (last notification per receiver and group) and silences.',
    },
    deliveredBucket: {
      schema: Type.String({ pattern: '^[-_a-zA-Z0-9]+$' }),
      default: 'kec_notify_delivered',
      description:
        "NATS KV bucket of the sender's last delivered version per receiver and group (7 d), shared by replicas.",
    },
    configFiles: {
      schema: Type.String({ pattern: '^[^\\s]*(,[^\\s]*)*$' }),
      default: '',
      description:
        'Comma-separated kec.alerts/v1 files (rules, route, receivers, inhibit_rules), loaded after the defaults.',
    },
    defaultRules: {
      schema: Type.Boolean(),
      default: true,
      description: 'Load the shipped default rules (error/critical incidents, storms, node problems) first.',
    },
    externalUrl: {
      schema: Type.String({ pattern: '^(|https?://\\S+)$' }),
      default: '',
      description: "Base URL of kec's UI/API: alerts link to <url>/incidents/<id> (generatorURL); empty: no link.",
    },
    tickMs: {
      schema: int(50, 60_000),
      default: 1000,
      description: 'How often each replica evaluates timers (group_wait/interval, quiet resolution, outbox retries).',
    },
    maxAlerts: {
      schema: int(0, 10_000),
      default: 100,
      description: 'Alerts carried by one notification (0: all); the rest are counted in truncatedAlerts.',
    },
    groupIdleMs: {
      schema: int(60_000, 86_400_000),
      default: 3_600_000,
      description:
        "A group with nothing firing is forgotten after this long (must outlive KEC_NOTIFICATIONS' 1 h duplicate window).",
    },
    batchSize: { schema: int(1, 4096), default: 256, description: 'Input messages per batch.' },
    batchWaitMs: {
      schema: int(0, 10_000),
      default: 20,
      description: 'A partial batch is handled this long after its first message.',
    },
    maxAckPending: { schema: int(1, 100_000), default: 2000, description: 'Consumer max_ack_pending.' },
    sender: {
      schema: Type.Boolean(),
      default: true,
      description:
        'Run the notification sender (@kec/notify) in this process: it delivers KEC_NOTIFICATIONS to the receivers.',
    },
  },
});

export type AlerterConfig = ResolvedConfig<typeof alerterConfig>;
