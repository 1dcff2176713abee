// @kec/enricher: labels, owners and context for every event, from an informer-fed Redis cache.
import { connectBus, consumerSpec, ensureConsumer, ensureStream, natsSecurity, streamSpec } from '@kec/bus';
import { CACHED_KINDS, CacheStore, type CompactOptions, type KindInfo, redisSecurity } from '@kec/cache';
import { loadConfig } from '@kec/config';
import { defaultIdentity, KubeClient, LeaderElector } from '@kec/k8s';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { csv, type EnricherConfig, enricherConfig } from './config.ts';
import { Enricher } from './enricher.ts';
import { Fetcher } from './fetcher.ts';
import { Filler } from './filler.ts';
import { MetadataKubeClient } from './metadata-client.ts';
import { enricherMetrics } from './metrics.ts';
import { type Stage, startStage } from './stage.ts';

export type { EnricherConfig } from './config.ts';
export { enricherConfig } from './config.ts';
export type { EnricherOptions, Lookup } from './enricher.ts';
export { Enricher, eventTime } from './enricher.ts';
export type { FetcherOptions, FetchResult } from './fetcher.ts';
export { Fetcher, TokenBucket } from './fetcher.ts';
export type { FillerOptions } from './filler.ts';
export { Filler } from './filler.ts';
export { MetadataKubeClient } from './metadata-client.ts';
export type { EnricherMetrics } from './metrics.ts';
export { enricherMetrics } from './metrics.ts';
export type { Stage, StageOptions } from './stage.ts';
export { startStage } from './stage.ts';

export function selectKinds(cfg: Pick<EnricherConfig, 'kinds'>): KindInfo[] {
  const want = csv(cfg.kinds);
  if (want.length === 0) return [...CACHED_KINDS];
  const unknown = want.filter((k) => !CACHED_KINDS.some((i) => i.kind === k));
  if (unknown.length > 0) {
    throw new Error(
      `KEC_ENRICHER_KINDS: unknown kind(s) ${unknown.join(', ')}; known: ${CACHED_KINDS.map((i) => i.kind).join(', ')}`,
    );
  }
  return CACHED_KINDS.filter((i) => want.includes(i.kind));
}

export const enricherService: ServiceDefinition = {
  name: 'enricher',
  description:
    'Enriches KEC_RAW events with labels, owners, node and namespace context from a Redis cache into KEC_ENRICHED.',
  config: enricherConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(enricherConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    const cluster = ctx.shared.cluster;
    const identity = cfg.identity || defaultIdentity(ctx.env);
    const kinds = selectKinds(cfg);
    const metrics = enricherMetrics(ctx.meter);
    const compact: CompactOptions = {
      annotationAllow: csv(cfg.annotationAllow),
      maxAnnotationValueLength: cfg.maxAnnotationLength,
    };
    const kube = KubeClient.load({ kubeconfigPath: cfg.kubeconfig || undefined });
    const metaKube = new MetadataKubeClient(kube.kubeConfig);
    const store = await CacheStore.connect({
      url: ctx.shared.redisUrl,
      security: redisSecurity(ctx.shared),
      cluster,
      prefix: cfg.redisPrefix,
      commandTimeoutMs: cfg.redisTimeoutMs,
      name: `kec-enricher-${identity}`,
      logger: log,
    });
    if (!store.available) log.warn({}, 'redis not reachable at start; events pass through as unavailable until it is');
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: `kec-enricher-${identity}`,
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    const rawStream = `${cfg.streamPrefix}KEC_RAW`;
    try {
      for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ']) {
        const overrides = cfg.streamMaxBytes > 0 ? { [s]: { max_bytes: cfg.streamMaxBytes } } : undefined;
        await ensureStream(bus.jsm, streamSpec(s, cfg.subjectRoot, cfg.streamPrefix, { overrides }));
      }
      await ensureConsumer(
        bus.jsm,
        rawStream,
        consumerSpec(cfg.durable, {
          filterSubject: bus.subjects.all('raw'),
          ackWaitMs: 30_000,
          maxDeliver: -1,
          maxAckPending: cfg.maxAckPending,
        }),
      );
    } catch (err) {
      await bus.close();
      await store.close();
      throw err;
    }
    let leaderGauge = 0;
    ctx.meter
      .createObservableGauge('kec_enricher_filler_leader', { description: '1 while this replica fills the cache' })
      .addCallback((r) => r.observe(leaderGauge));
    const filler = new Filler({
      store,
      client: kube,
      metadataClient: metaKube,
      kinds,
      identity,
      compact,
      tombstoneTtlMs: cfg.tombstoneTtlMs,
      syncIntervalMs: cfg.syncIntervalMs,
      pageSize: cfg.pageSize,
      watchTimeoutSeconds: cfg.watchTimeoutSeconds,
      logger: log.child({ component: 'filler' }),
      metrics,
    });
    ctx.meter
      .createObservableGauge('kec_enricher_cache_objects', {
        description: 'Live objects the filler holds, by kind (reported by the filler replica)',
      })
      .addCallback((r) => {
        for (const s of filler.status()) r.observe(s.live, { kind: s.kind });
      });
    const fetcher = new Fetcher({
      client: kube,
      qps: cfg.getQps,
      burst: cfg.getBurst,
      maxWaitMs: cfg.getMaxWaitMs,
      onGet: (kind, result) => {
        if (result === 'rate-limited') metrics.throttled.add(1, { kind });
        else metrics.gets.add(1, { kind, result });
      },
    });
    const enricher = new Enricher({
      store,
      fetcher,
      informerKinds: new Set(kinds.map((k) => k.kind)),
      compact,
      notFoundTtlMs: cfg.notFoundTtlMs,
      fetchedTtlMs: cfg.fetchedTtlMs,
      informerGraceMs: cfg.informerGraceMs,
      coverWaitMs: cfg.coverWaitMs,
      metrics,
      logger: log,
    });
    const ac = new AbortController();
    const stopSignal = AbortSignal.any([ac.signal, ctx.signal]);
    let elector: LeaderElector | undefined;
    let electing: Promise<void> = Promise.resolve();
    if (cfg.filler) {
      elector = new LeaderElector({
        client: kube,
        namespace: cfg.leaseNamespace || ctx.env.POD_NAMESPACE || 'default',
        name: cfg.leaseName,
        identity,
        leaseDurationMs: cfg.leaseDurationMs,
        renewDeadlineMs: cfg.renewDeadlineMs,
        retryPeriodMs: cfg.retryPeriodMs,
        logger: log,
        onStartedLeading: async (signal) => {
          leaderGauge = 1;
          log.info({ identity }, 'filling the cache (elected)');
          await filler.lead(signal);
        },
        onStoppedLeading: () => {
          leaderGauge = 0;
        },
      });
      electing = elector.run(stopSignal).catch((err: unknown) => {
        log.error({ err }, 'filler election loop failed');
      });
    }
    // Consume only once the cache is warm (every informer listed), or after startupSyncWaitMs: a backlog in KEC_RAW
    // at first start would otherwise meet an empty cache and turn into rate-limited GETs and misses.
    let stage: Stage | undefined;
    let failWith: (err: Error) => void = () => {};
    const failed = new Promise<Error>((resolve) => {
      failWith = resolve;
    });
    const starting = (async () => {
      const deadline = Date.now() + cfg.startupSyncWaitMs;
      const informerKinds = kinds.map((k) => k.kind);
      while (!stopSignal.aborted && Date.now() < deadline) {
        const sync = store.available ? await store.getSync().catch(() => ({})) : {};
        if (informerKinds.every((k) => k in sync)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (stopSignal.aborted) return;
      stage = await startStage({
        bus,
        stream: rawStream,
        durable: cfg.durable,
        enricher,
        batchSize: cfg.batchSize,
        batchWaitMs: cfg.batchWaitMs,
        concurrency: cfg.concurrency,
        nakDelayMs: cfg.nakDelayMs,
        maxNakDelayMs: cfg.maxNakDelayMs,
        metrics,
        logger: log,
      });
      log.info({}, 'consuming KEC_RAW');
    })().catch((err: unknown) => {
      log.error({ err }, 'enricher consumer failed to start');
      failWith(err instanceof Error ? err : new Error(String(err)));
    });
    // Liveness: the filler replica must keep publishing informer progress (its monitor loop is alive) while Redis
    // answers; a stuck loop makes every reader fall back to GETs.
    ctx.registerHealthCheck('enricher-filler', () => {
      if (!filler.leading || !store.available || filler.lastSyncWrite === 0) return undefined;
      const idle = Date.now() - filler.lastSyncWrite;
      return idle > Math.max(60_000, cfg.syncIntervalMs * 20) ? `filler made no progress for ${idle} ms` : undefined;
    });
    log.info({ identity, kinds: kinds.map((k) => k.kind), filler: cfg.filler }, 'enricher started');
    return {
      failed,
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        if (!stage) return 'waiting for the cache to sync before consuming';
        if (elector?.isLeader && !filler.status().every((s) => s.synced)) return 'filler informers not synced yet';
        return undefined; // Redis down is not "not ready": events still flow, marked unavailable
      },
      async stop() {
        ac.abort();
        await starting;
        await stage?.stop();
        await electing;
        await bus.close();
        await store.close();
        kube.close();
        metaKube.close();
      },
    };
  },
};
