// The `api` service: `kec run api` (also part of `kec run all`). Against the embedded store it runs in the process
// that holds the store (it opens its own read-only chdb connections on the same directory); against a ClickHouse
// server (KEC_CLICKHOUSE_URL) any number of replicas can run.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Bus, connectBus, natsSecurity } from '@kec/bus';
import { ConfigError, loadConfig } from '@kec/config';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { clickhouseSecurity, openStore, type Store } from '@kec/store';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { TokenStore } from './auth.ts';
import { apiConfig } from './config.ts';
import { UnavailableError } from './errors.ts';
import { routeSettings, sqlSettings } from './sql.ts';

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Waits ms or until the signal aborts (node's timer removes its abort listener, so retries do not pile them up). */
const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

export const apiService: ServiceDefinition = {
  name: 'api',
  description:
    'HTTP API over the store: events, timelines, incidents, top, series, a live stream (SSE) and read-only SQL.',
  config: apiConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(apiConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    if (cfg.anonymous && !LOOPBACK.test(cfg.host)) {
      throw new ConfigError({
        key: 'KEC_API_ANONYMOUS',
        reason: `anonymous access is only allowed on a loopback address (KEC_API_HOST is ${cfg.host})`,
      });
    }
    if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) {
      throw new ConfigError({
        key: 'KEC_API_TLS_CERT',
        reason: 'set both KEC_API_TLS_CERT and KEC_API_TLS_KEY, or neither',
      });
    }
    const tokens = TokenStore.load({ file: cfg.tokensFile, env: cfg.tokens, anonymous: cfg.anonymous });
    if (tokens.size === 0 && !cfg.anonymous) {
      log.warn('api: no bearer tokens configured (KEC_API_TOKENS, KEC_API_TOKENS_FILE): every request gets 401');
    }
    let https: { cert: Buffer; key: Buffer } | undefined;
    if (cfg.tlsCert && cfg.tlsKey) {
      try {
        https = { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) };
      } catch (err) {
        throw new ConfigError({
          key: 'KEC_API_TLS_CERT',
          reason: `cannot read: ${(err as Error).message}`,
          cause: err,
        });
      }
    }

    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let store: Store | undefined;
    let sqlStore: Store | undefined;
    let bus: Bus | undefined;
    let storeWaiting = 'store not open yet';

    const open = (settings: Record<string, string | number>) =>
      openStore({
        clickhouseUrl: ctx.shared.clickhouseUrl,
        dataDir: ctx.shared.dataDir,
        database: cfg.database,
        security: clickhouseSecurity(ctx.shared),
        logger: log,
        querySettings: settings,
        sessionDatabase: true,
      });
    const opening = (async () => {
      for (let attempt = 1; !stop.signal.aborted; attempt++) {
        try {
          store ??= await open(routeSettings(cfg.queryTimeoutSeconds, cfg.queryMaxMemoryBytes));
          sqlStore ??= await open(
            sqlSettings({
              timeoutSeconds: cfg.sqlTimeoutSeconds,
              maxRows: cfg.sqlMaxRows,
              maxResultBytes: cfg.sqlMaxResultBytes,
              maxMemoryBytes: cfg.sqlMaxMemoryBytes,
            }),
          );
          storeWaiting = '';
          return;
        } catch (err) {
          storeWaiting = `store unavailable: ${(err as Error).message}`;
          // At start the embedded store is the writer's until it has migrated: a short wait is normal, a long one not.
          if (attempt === 1) log.info({ err: (err as Error).message }, 'api: waiting for the store');
          else if (attempt === Math.ceil(30_000 / cfg.storeRetryMs))
            log.warn({ err }, 'api: the store has not opened for 30 s; retrying');
          await abortableSleep(cfg.storeRetryMs, stop.signal);
        }
      }
    })();
    const connecting = (async () => {
      for (let attempt = 1; !stop.signal.aborted; attempt++) {
        try {
          bus = await connectBus({
            url: ctx.shared.natsUrl,
            security: natsSecurity(ctx.shared),
            name: 'kec-api',
            logger: log,
            root: cfg.subjectRoot,
            meter: ctx.meter,
          });
          if (stop.signal.aborted) await bus.close();
          return;
        } catch (err) {
          if (attempt === 1) log.warn({ err }, 'api: cannot connect to NATS yet (the live stream waits); retrying');
          await abortableSleep(2_000, stop.signal);
        }
      }
    })();

    const requests = ctx.meter.createCounter('kec_api_requests_total', { description: 'HTTP requests answered' });
    const duration = ctx.meter.createHistogram('kec_api_request_duration_seconds', {
      description: 'HTTP request duration',
      unit: 's',
    });
    const app: FastifyInstance = await buildApp({
      logger: log,
      store: () => {
        if (!store) throw new UnavailableError(storeWaiting);
        return store;
      },
      sqlStore: () => {
        if (!sqlStore) throw new UnavailableError(storeWaiting);
        return sqlStore;
      },
      tokens,
      sqlMaxRows: cfg.sqlMaxRows,
      maxBodyBytes: cfg.sqlMaxBodyBytes,
      subjectRoot: cfg.subjectRoot,
      subscribe: (subject, onMessage) => {
        if (!bus || bus.nc.isClosed()) throw new UnavailableError('not connected to NATS yet');
        const sub = bus.nc.subscribe(subject, { callback: (err, msg) => (err ? undefined : onMessage(msg.data)) });
        return { unsubscribe: () => sub.unsubscribe() };
      },
      ...(https ? { https } : {}),
      onResponse: (route, method, statusCode, seconds) => {
        const attrs = { route, method, code: String(statusCode) };
        requests.add(1, attrs);
        duration.record(seconds, attrs);
      },
    });
    try {
      await app.listen({ host: cfg.host, port: cfg.port });
    } catch (err) {
      stop.abort();
      await Promise.all([opening, connecting]);
      await Promise.all([store?.close(), sqlStore?.close(), bus?.close()]);
      throw err;
    }
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
    const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
    log.info(
      { url: `${https ? 'https' : 'http'}://${host}:${port}/api/v1`, port, tls: Boolean(https), tokens: tokens.size },
      'api listening',
    );
    return {
      readiness: () => (store && sqlStore ? undefined : storeWaiting),
      async stop() {
        stop.abort();
        ctx.signal.removeEventListener('abort', onAbort);
        await app.close();
        await Promise.all([opening, connecting]);
        await Promise.all([store?.close(), sqlStore?.close(), bus?.close()]);
      },
    };
  },
};
