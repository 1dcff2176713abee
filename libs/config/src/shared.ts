// The keys every kec process reads (SharedConfig in @kec/runtime).
import Type from 'typebox';
import { defineConfig, type ResolvedConfig, urlSchema } from './spec.ts';

/** DNS-1123 label: it becomes a NATS subject token and a ClickHouse column value. */
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

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
    natsUser: {
      schema: Type.String({ minLength: 1 }),
      description: 'NATS user name (with natsPassword). A user:password in KEC_NATS_URL is used when this is unset.',
    },
    natsPassword: {
      schema: Type.String({ minLength: 1 }),
      secret: true,
      description: 'NATS password; KEC_NATS_PASSWORD_FILE reads it from a file.',
    },
    natsToken: {
      schema: Type.String({ minLength: 1 }),
      secret: true,
      description: 'NATS authentication token; KEC_NATS_TOKEN_FILE reads it from a file.',
    },
    natsNkeySeed: {
      schema: Type.String({ pattern: '^SU[A-Z2-7]+$' }),
      secret: true,
      description: 'NATS user NKey seed (`SU...`); KEC_NATS_NKEY_SEED_FILE reads it from a file.',
      expect: 'an NKey user seed (SU followed by base32 characters)',
    },
    natsCreds: {
      schema: Type.String({ minLength: 1 }),
      secret: true,
      description:
        'NATS decentralized-auth credentials (a user JWT plus its NKey seed, the `.creds` file format); KEC_NATS_CREDS_FILE reads the file.',
    },
    natsTlsCaFile: {
      schema: Type.String({ minLength: 1 }),
      description: "PEM CA bundle that signs the NATS servers' certificates; set: TLS is required.",
    },
    natsTlsCertFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM client certificate for NATS (mutual TLS; with natsTlsKeyFile); set: TLS is required.',
    },
    natsTlsKeyFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM private key of natsTlsCertFile.',
    },
    redisUrl: {
      schema: urlSchema({ protocols: ['redis', 'rediss'] }),
      default: 'redis://127.0.0.1:6379',
      description: 'Redis for the object cache and correlation state.',
    },
    streamReplicas: {
      schema: Type.Integer({ minimum: 1, maximum: 5 }),
      default: 1,
      description:
        'Replicas of every JetStream stream and KV bucket kec creates (3 on a 3-node NATS cluster: one node may be lost). Applied when a stream is created or updated.',
    },
    redisUser: {
      schema: Type.String({ minLength: 1 }),
      description: 'Redis ACL user (with redisPassword). A user:password in KEC_REDIS_URL is used when this is unset.',
    },
    redisPassword: {
      schema: Type.String({ minLength: 1 }),
      secret: true,
      description: "Redis password (requirepass, or the ACL user's); KEC_REDIS_PASSWORD_FILE reads it from a file.",
    },
    redisTlsCaFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM CA bundle that signs the Redis server certificate; set (or a rediss:// URL): TLS is required.',
    },
    redisTlsCertFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM client certificate for Redis (mutual TLS; with redisTlsKeyFile).',
    },
    redisTlsKeyFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM private key of redisTlsCertFile.',
    },
    clickhouseUrl: {
      schema: urlSchema({ protocols: ['http', 'https'] }),
      description: 'ClickHouse server (HTTP interface). Unset: the embedded engine (chdb) stores data under dataDir.',
    },
    clickhouseCluster: {
      schema: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
      description:
        'ClickHouse cluster (remote_servers) name: the migrations create Replicated*MergeTree `<table>_local` tables ON CLUSTER and Distributed tables under the public names. Unset: single-node schema.',
    },
    clickhouseUser: {
      schema: Type.String({ minLength: 1 }),
      description:
        'ClickHouse user (with clickhousePassword). A user:password in KEC_CLICKHOUSE_URL is used when unset.',
    },
    clickhousePassword: {
      schema: Type.String({ minLength: 1 }),
      secret: true,
      description: 'ClickHouse password; KEC_CLICKHOUSE_PASSWORD_FILE reads it from a file.',
    },
    clickhouseTlsCaFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM CA bundle that signs the ClickHouse server certificate (an https:// URL).',
    },
    clickhouseTlsCertFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM client certificate for ClickHouse (mutual TLS; with clickhouseTlsKeyFile and a CA).',
    },
    clickhouseTlsKeyFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM private key of clickhouseTlsCertFile.',
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
      description: 'Minimum level of the logs written to stdout.',
    },
    logFormat: {
      schema: Type.Enum([...LOG_FORMATS]),
      default: 'auto',
      description:
        'Log lines on stdout: `pretty` (one readable, coloured line per record), `json` (one pino JSON object per line, for log shippers), or `auto`: pretty when stdout is a terminal, JSON otherwise.',
    },
    logSummaryIntervalMs: {
      schema: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
      default: 60_000,
      description:
        'How often each service logs one info line on what it did since the last (events in and out, lag, errors); 0: never.',
    },
    metricsPort: {
      schema: Type.Integer({ minimum: 0, maximum: 65535 }),
      default: 9464,
      description: 'Port of the HTTP server for /metrics, /healthz and /readyz; 0 picks a free port (logged at start).',
    },
    metricsHost: {
      schema: Type.String({ minLength: 1 }),
      default: '0.0.0.0',
      description:
        'Listen address of the /metrics, /healthz and /readyz server (`127.0.0.1`: this host only, `::`: IPv6).',
    },
    metricsTlsCertFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM certificate: set (with metricsTlsKeyFile), the metrics and health server speaks HTTPS only.',
    },
    metricsTlsKeyFile: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM private key of metricsTlsCertFile.',
    },
    otlpEndpoint: {
      schema: urlSchema({ protocols: ['http', 'https'] }),
      description:
        'OpenTelemetry collector (OTLP/HTTP, JSON) that receives the traces, e.g. http://otel-collector:4318; unset: traces are not exported.',
    },
    traceSampleRatio: {
      schema: Type.Number({ minimum: 0, maximum: 1 }),
      default: 1,
      description:
        'Share of new traces kept when exporting (0 to 1); a trace continued from a NATS header follows its parent, so an event is traced through every stage or not at all.',
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
