// The keys every kec process reads (SharedConfig in @kec/runtime).
import Type from 'typebox';
import { defineConfig, type ResolvedConfig, urlSchema } from './spec.ts';

/** DNS-1123 label: it becomes a NATS subject token and a ClickHouse column value. */
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const sharedConfigSpec = defineConfig({
  keys: {
    cluster: {
      schema: Type.String({ pattern: DNS_LABEL }),
      default: 'default',
      description:
        'Name of the watched cluster: a token of every subject (`kec.raw.<cluster>`) and a column of every row.',
      expect: "a DNS-1123 label (a-z, 0-9 and '-', alphanumeric at both ends, at most 63 characters)",
    },
    natsUrl: {
      schema: urlSchema({ protocols: ['nats', 'tls'], list: true }),
      default: 'nats://127.0.0.1:4222',
      description:
        'NATS server(s) with JetStream; a comma-separated list for a cluster. Credentials in the URL are masked in output.',
    },
    redisUrl: {
      schema: urlSchema({ protocols: ['redis', 'rediss'] }),
      default: 'redis://127.0.0.1:6379',
      description: 'Redis for the object cache and correlation state.',
    },
    clickhouseUrl: {
      schema: urlSchema({ protocols: ['http', 'https'] }),
      description: 'ClickHouse server (HTTP interface). Unset: the embedded engine (chdb) stores data under dataDir.',
    },
    dataDir: {
      schema: Type.String({ minLength: 1 }),
      default: './.kec-data',
      description:
        'Directory for local state (the embedded ClickHouse). Relative paths are relative to the working directory.',
    },
    logLevel: {
      schema: Type.Enum([...LOG_LEVELS]),
      default: 'info',
      description: 'Minimum level of the JSON logs written to stdout.',
    },
    metricsPort: {
      schema: Type.Integer({ minimum: 0, maximum: 65535 }),
      default: 9464,
      description: 'Port of the HTTP server for /metrics, /healthz and /readyz; 0 picks a free port (logged at start).',
    },
    shutdownGraceMs: {
      schema: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
      default: 25_000,
      description:
        "Time allowed for draining on SIGTERM before the process gives up and exits 1; keep it below the pod's terminationGracePeriodSeconds (30 s by default).",
    },
  },
});

/** The resolved shared keys (the runtime's SharedConfig has these fields). */
export type SharedConfigValues = ResolvedConfig<typeof sharedConfigSpec>;
