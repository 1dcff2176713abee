// @kec/enricher: labels, owners and context for every event, from an informer-fed Redis cache.
import { connectBus, consumerSpec, ensureConsumer, ensureStream, natsSecurity, streamSpec } from '@kec/bus';
import { CACHED_KINDS, CacheStore, type CompactOptions, type KindInfo, redisSecurity } from '@kec/cache';
import { loadConfig } from '@kec/config';
import { defaultIdentity, KubeClient, LeaderElector } from '@kec/k8s';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { ClusterRouter, type ClusterTarget, parseClusters } from './clusters.ts';
import { csv, type EnricherConfig, enricherConfig } from './config.ts';
import { Enricher } from './enricher.ts';
import { Fetcher } from './fetcher.ts';
import { Filler } from './filler.ts';
import { type Fused, startFused } from './fused.ts';
import { MetadataKubeClient } from './metadata-client.ts';
import { type EnricherMetrics, enricherMetrics } from './metrics.ts';
import { type Stage, startStage } from './stage.ts';

export type { BatchEnricher, ClusterTarget } from './clusters.ts';
export { ClusterRouter, parseClusters } from './clusters.ts';
export type { EnricherConfig } from './config.ts';
export { enricherConfig } from './config.ts';
export type { EnricherOptions, Lookup } from './enricher.ts';
export { Enricher, eventTime } from './enricher.ts';
export type { FetcherOptions, FetchResult } from './fetcher.ts';
export { Fetcher, TokenBucket } from './fetcher.ts';
export type { FillerOptions } from './filler.ts';
export { Filler } from './filler.ts';
export type { Fused } from './fused.ts';
export { startFused } from './fused.ts';
export { MetadataKubeClient } from './metadata-client.ts';
export type { EnricherMetrics } from './metrics.ts';
export { enricherMetrics } from './metrics.ts';
export type { EnrichedOutput, Stage, StageOptions } from './stage.ts';
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
    'Enriches KEC_RAW events with labels, owners, node and namespace context from a Redis cache into KEC_ENRICHED (with KEC_ENRICHER_CORRELATE=true, correlates them in process into KEC_EVENTS, KEC_INCIDENTS, KEC_PATTERNS).',
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
    const targets = parseClusters(cfg.clusters, { name: cluster, kubeconfig: cfg.kubeconfig });
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: `kec-enricher-${identity}`,
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    const rawStream = `${cfg.streamPrefix}KEC_RAW`;
    let fused: Fused | undefined;
    try {
      // The fused mode publishes nothing on KEC_ENRICHED (the correlator half ensures its own output streams).
      for (const s of cfg.correlate ? ['KEC_RAW', 'KEC_DLQ'] : ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ']) {
        const overrides = cfg.streamMaxBytes > 0 ? { [s]: { max_bytes: cfg.streamMaxBytes } } : undefined;
        await ensureStream(
          bus.jsm,
          streamSpec(s, cfg.subjectRoot, cfg.streamPrefix, { overrides, replicas: ctx.shared.streamReplicas }),
        );
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
      if (cfg.correlate) fused = await startFused(ctx, bus, cfg);
    } catch (err) {
      await fused?.stop();
      await bus.close();
      throw err;
    }
    const ac = new AbortController();
    const stopSignal = AbortSignal.any([ac.signal, ctx.signal]);
    const parts: ClusterPart[] = [];
    try {
      for (const target of targets) {
        parts.push(await startCluster(target, { ctx, cfg, identity, kinds, compact, metrics, stopSignal }));
      }
    } catch (err) {
      ac.abort();
      for (const p of parts) await p.stop();
      await fused?.stop();
      await bus.close();
      throw err;
    }
    ctx.meter
      .createObservableGauge('kec_enricher_filler_leader', { description: '1 while this replica fills the cache' })
      .addCallback((r) => {
        for (const p of parts) r.observe(p.filler.leading ? 1 : 0, { cluster: p.name });
      });
    ctx.meter
      .createObservableGauge('kec_enricher_cache_objects', {
        description: 'Live objects the filler holds, by cluster and kind (reported by the filler replica)',
      })
      .addCallback((r) => {
        for (const p of parts) for (const s of p.filler.status()) r.observe(s.live, { cluster: p.name, kind: s.kind });
      });
    const noAccess = new Set<string>();
    const router = new ClusterRouter(new Map(parts.map((p) => [p.name, p.enricher])), {
      onNoAccess: (c) => {
        if (noAccess.has(c)) return;
        noAccess.add(c);
        log.warn(
          { eventCluster: c, clusters: targets.map((t) => t.name) },
          'events of a cluster this enricher has no access to pass through as unavailable',
        );
      },
    });
    // Consume only once the caches are warm (every informer listed), or after startupSyncWaitMs: a backlog in
    // KEC_RAW at first start would otherwise meet an empty cache and turn into rate-limited GETs and misses.
    let stage: Stage | undefined;
    let failWith: (err: Error) => void = () => {};
    const failed = new Promise<Error>((resolve) => {
      failWith = resolve;
    });
    const starting = (async () => {
      const deadline = Date.now() + cfg.startupSyncWaitMs;
      const informerKinds = kinds.map((k) => k.kind);
      while (!stopSignal.aborted && Date.now() < deadline) {
        let warm = true;
        for (const p of parts) {
          const sync = p.store.available ? await p.store.getSync().catch(() => ({})) : {};
          if (!informerKinds.every((k) => k in sync)) warm = false;
        }
        if (warm) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (stopSignal.aborted) return;
      stage = await startStage({
        bus,
        stream: rawStream,
        durable: cfg.durable,
        enricher: router,
        batchSize: cfg.batchSize,
        batchWaitMs: cfg.batchWaitMs,
        concurrency: cfg.concurrency,
        nakDelayMs: cfg.nakDelayMs,
        maxNakDelayMs: cfg.maxNakDelayMs,
        metrics,
        logger: log,
        output: fused?.output,
      });
      log.debug({ clusters: targets.map((t) => t.name) }, 'consuming KEC_RAW');
    })().catch((err: unknown) => {
      log.error({ err }, 'enricher consumer failed to start');
      failWith(err instanceof Error ? err : new Error(String(err)));
    });
    // Liveness: each cluster's filler replica must keep publishing informer progress (its monitor loop is alive)
    // while Redis answers; a stuck loop makes every reader fall back to GETs.
    for (const p of parts) {
      ctx.registerHealthCheck(parts.length === 1 ? 'enricher-filler' : `enricher-filler-${p.name}`, () => {
        const f = p.filler;
        if (!f.leading || !p.store.available || f.lastSyncWrite === 0) return undefined;
        const idle = Date.now() - f.lastSyncWrite;
        return idle > Math.max(60_000, cfg.syncIntervalMs * 20) ? `filler made no progress for ${idle} ms` : undefined;
      });
    }
    log.debug(
      { identity, kinds: kinds.map((k) => k.kind), filler: cfg.filler, clusters: targets.map((t) => t.name) },
      'enricher started',
    );
    return {
      failed,
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        if (!stage) return 'waiting for the cache to sync before consuming';
        const correlator = fused?.readiness();
        if (correlator) return `correlator state: ${correlator}`;
        for (const p of parts) {
          if (p.elector?.isLeader && !p.filler.status().every((st) => st.synced)) {
            return `filler informers of cluster ${p.name} not synced yet`;
          }
        }
        return undefined; // Redis down is not "not ready": events still flow, marked unavailable
      },
      summary: () => stage?.summary(),
      async stop() {
        ac.abort();
        await starting;
        await stage?.stop();
        await fused?.stop();
        for (const p of parts) await p.stop();
        await bus.close();
      },
    };
  },
};

/** Everything one cluster needs in this replica: its cache, its API clients, its filler (elected in that cluster). */
interface ClusterPart {
  name: string;
  store: CacheStore;
  filler: Filler;
  elector: LeaderElector | undefined;
  enricher: Enricher;
  stop(): Promise<void>;
}

interface ClusterDeps {
  ctx: ServiceContext;
  cfg: EnricherConfig;
  identity: string;
  kinds: KindInfo[];
  compact: CompactOptions;
  metrics: EnricherMetrics;
  stopSignal: AbortSignal;
}

async function startCluster(target: ClusterTarget, d: ClusterDeps): Promise<ClusterPart> {
  const { ctx, cfg, identity, kinds, compact, metrics } = d;
  const log = ctx.logger.child({ cluster: target.name });
  const kube = KubeClient.load({
    ...(target.kubeconfig ? { kubeconfigPath: target.kubeconfig } : {}),
    ...(target.context ? { context: target.context } : {}),
  });
  const metaKube = new MetadataKubeClient(kube.kubeConfig);
  const store = await CacheStore.connect({
    url: ctx.shared.redisUrl,
    security: redisSecurity(ctx.shared),
    cluster: target.name,
    prefix: cfg.redisPrefix,
    commandTimeoutMs: cfg.redisTimeoutMs,
    name: `kec-enricher-${identity}`,
    logger: log,
  });
  if (!store.available) log.warn({}, 'redis not reachable at start; events pass through as unavailable until it is');
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
  let elector: LeaderElector | undefined;
  let electing: Promise<void> = Promise.resolve();
  if (cfg.filler) {
    // The Lease lives in the cluster it guards: one filler per cluster, whichever replicas can reach it.
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
        log.debug({ identity }, 'filling the cache (elected)');
        await filler.lead(signal);
      },
    });
    electing = elector.run(d.stopSignal).catch((err: unknown) => {
      log.error({ err }, 'filler election loop failed');
    });
  }
  return {
    name: target.name,
    store,
    filler,
    elector,
    enricher,
    async stop() {
      await electing;
      await store.close();
      kube.close();
      metaKube.close();
    },
  };
}
