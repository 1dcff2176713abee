// @kec/watcher: captures every Event of a cluster into JetStream (KEC_RAW), with Lease leader election.
import { connectBus, ensureStream, natsSecurity, openKv, streamSpec } from '@kec/bus';
import { loadConfig } from '@kec/config';
import { defaultIdentity, KubeClient, LeaderElector } from '@kec/k8s';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { watcherConfig } from './config.ts';
import { buildFilter } from './filter.ts';
import { loopFailure } from './supervise.ts';
import { Watcher } from './watcher.ts';

// The gap schema lives in @kec/model; re-exported for existing callers.
export type { GapRecord } from '@kec/model';
export { GAP_SCHEMA, GapRecordSchema, GapRecordValidator, gapMsgId } from '@kec/model';
export type { Checkpoint } from './checkpoint.ts';
export { CheckpointStore, checkpointKey } from './checkpoint.ts';
export type { WatcherConfig } from './config.ts';
export { watcherConfig } from './config.ts';
export type { EventFilter } from './filter.ts';
export { buildFilter } from './filter.ts';
export { loopFailure } from './supervise.ts';
export type { WatcherDeps } from './watcher.ts';
export { Watcher } from './watcher.ts';

export const watcherService: ServiceDefinition = {
  name: 'watcher',
  description: 'Lists and watches Events (Lease leader only) and publishes every observation to KEC_RAW.',
  config: watcherConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(watcherConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    const cluster = ctx.shared.cluster;
    const identity = cfg.identity || defaultIdentity(ctx.env);
    const filter = buildFilter(cfg);
    const kube = KubeClient.load({ kubeconfigPath: cfg.kubeconfig || undefined });
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: `kec-watcher-${identity}`,
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    try {
      for (const s of ['KEC_RAW', 'KEC_GAPS', 'KEC_DLQ']) {
        const overrides = cfg.streamMaxBytes > 0 ? { [s]: { max_bytes: cfg.streamMaxBytes } } : undefined;
        await ensureStream(
          bus.jsm,
          streamSpec(s, cfg.subjectRoot, cfg.streamPrefix, { overrides, replicas: ctx.shared.streamReplicas }),
        );
      }
    } catch (err) {
      await bus.close();
      throw err;
    }
    const kv = await openKv(bus, cfg.kvBucket, { history: 1, replicas: ctx.shared.streamReplicas });
    const watcher = new Watcher({ cfg, cluster, identity, bus, kv, kube, filter, logger: log, meter: ctx.meter });
    let leaderGauge = 0;
    const transitions = ctx.meter.createCounter('kec_watcher_leader_transitions_total', {
      description: 'Times this replica became or stopped being the leader, by to=leader|standby',
    });
    ctx.meter
      .createObservableGauge('kec_watcher_leader', { description: '1 while this replica holds the Lease, else 0' })
      .addCallback((r) => r.observe(leaderGauge));
    const elector = new LeaderElector({
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
        transitions.add(1, { to: 'leader' });
        await watcher.lead(signal);
      },
      onStoppedLeading: () => {
        leaderGauge = 0;
        transitions.add(1, { to: 'standby' });
      },
      // Our own election is logged as 'became leader'; another holder is worth a line.
      onNewLeader: (id) => {
        if (id === identity) log.debug({ leader: id, self: true }, 'observed leader');
        else log.info({ leader: id, self: false }, 'observed leader');
      },
    });
    const ac = new AbortController();
    const stopping = AbortSignal.any([ac.signal, ctx.signal]);
    const loop = elector.run(stopping);
    // A dead election loop would leave a ready replica that never leads again: fail the process instead.
    const failed = loopFailure('leader election loop', loop, stopping);
    const running = loop.catch((err: unknown) => {
      log.error({ err }, 'leader election loop failed');
    });
    ctx.registerHealthCheck('watcher', () => watcher.health());
    log.debug({ identity, path: filter.path, fieldSelector: filter.fieldSelector, api: cfg.api }, 'watcher started');
    let before = { ...watcher.stats };
    return {
      summary() {
        const now = { ...watcher.stats };
        const prev = before;
        before = now;
        const d = (k: keyof typeof now) => now[k] - prev[k];
        const n = (v: number) => v.toLocaleString('en-US');
        const seen = d('published') + d('filtered') + d('invalid');
        const problems = d('failed') + d('deadLettered') + d('gaps');
        if (!elector.isLeader && seen === 0 && problems === 0)
          return { msg: 'standby: another replica holds the Lease and watches', leader: false };
        return {
          msg: `${n(seen)} event observations in, ${n(d('published'))} published (${n(d('filtered'))} filtered, ${n(d('invalid'))} invalid, ${n(d('deadLettered'))} dead-lettered), ${n(d('relists'))} relists, ${n(d('gaps'))} gaps, ${n(d('failed'))} publish failures`,
          leader: elector.isLeader,
          in: seen,
          out: d('published'),
          filtered: d('filtered'),
          invalid: d('invalid'),
          deadLettered: d('deadLettered'),
          relists: d('relists'),
          gaps: d('gaps'),
          failed: d('failed'),
        };
      },
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        if (elector.lastContact === 0) return 'Lease not reached yet';
        if (elector.isLeader) return watcher.readiness();
        return undefined; // a standby that reaches the Lease is ready to take over
      },
      failed,
      async stop() {
        ac.abort();
        await running; // the leader drains its in-flight publishes, writes the checkpoint, releases the Lease
        await bus.close();
        kube.close();
      },
    };
  },
};
