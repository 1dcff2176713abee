// KEC_API_* configuration. Shared keys (KEC_CLICKHOUSE_URL, KEC_DATA_DIR, KEC_NATS_URL, KEC_CLUSTER) come from
// @kec/config.
import { defineConfig, type ResolvedConfig } from '@kec/config';
import Type from 'typebox';

const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

export const apiConfig = defineConfig({
  section: 'api',
  keys: {
    host: {
      schema: Type.String({ minLength: 1 }),
      default: '127.0.0.1',
      description: 'Listen address (0.0.0.0 or :: to serve beyond this machine; set tokens and TLS then).',
    },
    port: {
      schema: int(0, 65_535),
      default: 8080,
      description: 'Listen port; 0 picks a free one (logged: "api listening").',
    },
    tlsCert: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM certificate file; with tlsKey the API serves HTTPS only.',
    },
    tlsKey: {
      schema: Type.String({ minLength: 1 }),
      description: 'PEM private key file of tlsCert.',
    },
    tokensFile: {
      schema: Type.String({ minLength: 1 }),
      description:
        'File of bearer tokens, one per line: "<sha256 hex of the token> <scopes: read,sql,admin> <name>"; # comments.',
    },
    tokens: {
      schema: Type.String(),
      default: '',
      secret: true,
      description: 'Bearer tokens in the tokensFile line format, entries separated by ";" (added to the file).',
    },
    anonymous: {
      schema: Type.Boolean(),
      default: false,
      description:
        'Requests without a token get the read and sql scopes. Refused at start unless the API listens on loopback.',
    },
    database: {
      schema: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      default: 'kec',
      description: 'ClickHouse database of the kec schema.',
    },
    queryTimeoutSeconds: {
      schema: int(1, 3_600),
      default: 30,
      description: "Engine max_execution_time of the routes' queries.",
    },
    queryMaxMemoryBytes: {
      schema: int(16 * 1024 * 1024, 2 ** 50),
      default: 2 * 1024 ** 3,
      description: "Engine max_memory_usage of the routes' queries.",
    },
    sqlTimeoutSeconds: {
      schema: int(1, 3_600),
      default: 10,
      description: 'Engine max_execution_time of POST /api/v1/sql statements.',
    },
    sqlMaxRows: {
      schema: int(1, 1_000_000),
      default: 10_000,
      description: 'Rows returned at most by POST /api/v1/sql (engine max_result_rows, result_overflow_mode=break).',
    },
    sqlMaxResultBytes: {
      schema: int(1024, 2 ** 40),
      default: 64 * 1024 ** 2,
      description: 'Result bytes at most of POST /api/v1/sql (engine max_result_bytes, cut like sqlMaxRows).',
    },
    sqlMaxMemoryBytes: {
      schema: int(16 * 1024 * 1024, 2 ** 50),
      default: 1024 ** 3,
      description: 'Engine max_memory_usage of a POST /api/v1/sql statement (it fails beyond it).',
    },
    sqlMaxBodyBytes: {
      schema: int(1024, 16 * 1024 ** 2),
      default: 256 * 1024,
      description: 'Largest accepted request body (the statement and its parameters).',
    },
    subjectRoot: {
      schema: Type.String({ pattern: '^[^\\s*>%]+$' }),
      default: 'kec',
      description: 'Subject root of the live stream (/watch reads <root>.events.> and <root>.incidents.>).',
    },
    storeRetryMs: {
      schema: int(100, 600_000),
      default: 1_000,
      description: 'Interval of attempts to open the store while it is unavailable at start.',
    },
  },
});

export type ApiConfig = ResolvedConfig<typeof apiConfig>;
