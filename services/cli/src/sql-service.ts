// The `sql` service (deprecated: use services/api's POST /api/v1/sql, which `kec sql` calls): the former loopback
// SQL endpoint, kept for the e2e harness and scripts that POST a statement to /sql. It no longer checks the
// statement with a regex: it runs it exactly like POST /api/v1/sql, through a read-only store connection with
// the engine limits (readonly=1, max_execution_time, max_result_rows/bytes, max_memory_usage) and the API's
// engine-parsed single-statement and AST check (see services/api README, "SQL limits").
//
//   POST /sql   body: one SQL statement   200 {"rows":[...],"truncated":false}   400/403/504 {"error":"..."}
//               503 while the store is not open
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, runSql, sqlSettings } from '@kec/api';
import { defineConfig, loadConfig } from '@kec/config';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { clickhouseSecurity, openStore, type Store } from '@kec/store';
import Type from 'typebox';

export const sqlConfig = defineConfig({
  section: 'sql',
  keys: {
    port: {
      schema: Type.Integer({ minimum: 0, maximum: 65_535 }),
      default: 9465,
      description: 'Port of the read-only SQL endpoint (POST /sql); 0 picks a free port (logged at start).',
    },
    host: {
      // Loopback only: this endpoint has no authentication; the API (tokens, TLS) is the one to expose.
      schema: Type.Union([Type.Literal('127.0.0.1'), Type.Literal('::1'), Type.Literal('localhost')]),
      default: '127.0.0.1',
      description:
        'Loopback address the SQL endpoint listens on (127.0.0.1, ::1 or localhost; it has no authentication).',
    },
    maxRows: {
      schema: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      default: 10_000,
      description: 'Rows returned at most per query (the rest is cut and "truncated" is set).',
    },
    database: {
      schema: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      default: 'kec',
      description: 'ClickHouse database of the kec schema (the default database of the queries).',
    },
  },
});

const MAX_BODY = 256 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`statement larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const sqlService: ServiceDefinition = {
  name: 'sql',
  description: 'Deprecated loopback SQL endpoint (POST /sql), as read-only as POST /api/v1/sql of the api service.',
  config: sqlConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(sqlConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    let store: Store | undefined;
    let waiting = 'store not open yet';
    const opening = (async () => {
      // The writer of this process may be migrating or the directory may still be held: retry until it opens.
      for (let attempt = 1; !ctx.signal.aborted; attempt++) {
        try {
          store = await openStore({
            clickhouseUrl: ctx.shared.clickhouseUrl,
            dataDir: ctx.shared.dataDir,
            database: cfg.database,
            security: clickhouseSecurity(ctx.shared),
            logger: log,
            querySettings: sqlSettings({
              timeoutSeconds: 60,
              maxRows: cfg.maxRows,
              maxResultBytes: 1024 ** 3,
              maxMemoryBytes: 2 * 1024 ** 3,
            }),
            sessionDatabase: true,
          });
          waiting = '';
          return;
        } catch (err) {
          waiting = `store unavailable: ${(err as Error).message}`;
          // At start the embedded store is the writer's until it has migrated: a short wait is normal, a long one not.
          if (attempt === 1) log.info({ err: (err as Error).message }, 'sql: waiting for the store');
          else if (attempt === 30) log.warn({ err }, 'sql: the store has not opened for 30 s; retrying');
          await sleep(1000, undefined, { signal: ctx.signal }).catch(() => undefined);
        }
      }
    })();

    const server: Server = createServer((req, res) => {
      void (async () => {
        if (req.url !== '/sql' || req.method !== 'POST') {
          send(res, 404, { error: 'POST /sql with one read-only statement as the body' });
          return;
        }
        let sql: string;
        try {
          sql = await readBody(req);
        } catch (err) {
          send(res, 413, { error: (err as Error).message });
          return;
        }
        if (!store) {
          send(res, 503, { error: waiting });
          return;
        }
        try {
          const r = await runSql(store, sql, {}, cfg.maxRows);
          send(res, 200, { rows: r.rows, truncated: r.truncated });
        } catch (err) {
          if (err instanceof ApiError) send(res, err.statusCode, { error: err.message });
          else throw err;
        }
      })().catch((err: unknown) => {
        log.error({ err }, 'sql: request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(cfg.port, cfg.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    log.info({ port, host: cfg.host, endpoint: `http://${cfg.host}:${port}/sql` }, 'sql endpoint listening');
    return {
      readiness: () => (store ? undefined : waiting),
      async stop() {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        await opening;
        await store?.close();
      },
    };
  },
};
