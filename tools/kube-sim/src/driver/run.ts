// runScenarios: build the cluster (unless told not to), then play scenarios and background noise against a
// Kubernetes API (kube-sim in-process or over HTTP), and produce the ground truth.

import { VirtualClock } from './clock.ts';
import { applyCluster, type ClusterModel, type ClusterOptions, planCluster, UidMap } from './cluster.ts';
import { Components, ScenarioContext } from './context.ts';
import { DriverConfigError } from './errors.ts';
import { type GroundTruth, GroundTruthLedger, writeGroundTruth } from './ground-truth.ts';
import { KubeClient } from './http.ts';
import { Player } from './player.ts';
import {
  type CoreRecorderOptions,
  EventSink,
  SERIES_FINISH_MS,
  SERIES_REFRESH_MS,
  type WriteStats,
} from './recorders.ts';
import { Rng } from './rng.ts';
import { noise } from './scenarios/controllers.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { WriteQueue } from './write-queue.ts';

/** The part of kube-sim's in-process handle the driver uses. */
export interface SimHandle {
  url: string;
  token: string;
}

export interface RunOptions {
  /** kube-sim handle (in-process), or a URL + token, or a kubeconfig path. One of them is required. */
  sim?: SimHandle;
  url?: string;
  token?: string;
  kubeconfig?: string;
  /** Scenario names, 'all' or 'none' (default 'all'). */
  scenarios?: string[] | 'all' | 'none';
  /** Target event occurrences per virtual second, background noise filling around incidents (default 20; 0 = none). */
  rate?: number;
  /** Virtual duration of the run (default 60 s; 0 = until the signal aborts). */
  durationMs?: number;
  /** Virtual time per wall time: 1 = real time (default); Infinity = as fast as the server accepts writes. */
  speed?: number;
  seed?: string | number;
  /** Virtual start time (default: now at speed 1, now - duration when faster, so the run ends near now). */
  startMs?: number;
  /** The virtual clock to play on (its current time is the start); the player advances it. */
  clock?: VirtualClock;
  /** Start a new instance of each scenario after it ends (default true). */
  repeat?: boolean;
  /**
   * Scenarios overlap (default false): all start within the first 10 s, restart after 5-30 s instead of 30-120 s, and
   * share nodes and workloads (preferring those another scenario is acting on); pods stay exclusive.
   */
  overlap?: boolean;
  /** Where to write the ground truth JSON (optional). */
  groundTruthPath?: string;
  signal?: AbortSignal;
  /** Build the cluster first (default true); pass a model to reuse one already applied. */
  buildCluster?: boolean;
  cluster?: { model: ClusterModel; uids: UidMap };
  clusterOptions?: ClusterOptions;
  /** Parallel HTTP requests (default 16; more only adds GC and context switches on a small machine). */
  concurrency?: number;
  coreRecorder?: CoreRecorderOptions;
  /** Called once the cluster exists, before scenarios start. */
  onClusterReady?: (model: ClusterModel) => void;
}

export interface RunResult {
  groundTruth: GroundTruth;
  stats: WriteStats & {
    requests: number;
    wallMs: number;
    virtualMs: number;
    writesPerSecond: number;
    clusterObjects: number;
    scenarioErrors: string[];
  };
  cluster: ClusterModel;
  uids: UidMap;
}

export async function runScenarios(opts: RunOptions): Promise<RunResult> {
  const seed = String(opts.seed ?? 1);
  const concurrency = opts.concurrency ?? 16;
  const client = makeClient(opts, concurrency);
  const speed = opts.speed ?? 1;
  const durationMs = opts.durationMs ?? 60_000;
  const forever = durationMs <= 0;
  if (forever && !Number.isFinite(speed)) throw new DriverConfigError('an endless run needs a finite speed');
  const names = selectScenarios(opts.scenarios ?? 'all');
  const wallStart = Date.now();
  const t0 = performance.now();
  const startMs =
    opts.clock?.now() ?? opts.startMs ?? (Number.isFinite(speed) && speed <= 1 ? wallStart : wallStart - durationMs);
  try {
    let model: ClusterModel;
    let uids: UidMap;
    let clusterObjects = 0;
    if (opts.cluster) {
      ({ model, uids } = opts.cluster);
    } else {
      // The cluster is planned as of the virtual start, so Job names (<cronjob>-<minutes>) replay for a seed.
      model = planCluster(seed, { nowMs: startMs, ...opts.clusterOptions });
      uids = new UidMap();
      if (opts.buildCluster !== false) clusterObjects = (await applyCluster(client, model, uids)).created;
    }
    opts.onClusterReady?.(model);
    const clock = opts.clock ?? new VirtualClock(startMs);
    const player = new Player(clock, { speed, endMs: forever ? Number.POSITIVE_INFINITY : startMs + durationMs });
    const queue = new WriteQueue({ concurrency });
    const ledger = new GroundTruthLedger();
    ledger.resolveUid = (u) => uids.uid(u);
    const sink = new EventSink(client, queue, uids, ledger, clock);
    const components = new Components(sink, opts.coreRecorder);
    const busy = new Set<string>();
    const rng = new Rng(seed);
    const rate = opts.rate ?? 20;
    const repeat = opts.repeat ?? true;
    const overlap = opts.overlap ?? false;

    // Background noise.
    player.spawn(() =>
      noise(new ScenarioContext('noise', model, rng.fork('noise'), player, components, ledger, busy), rate),
    );
    // The events.k8s.io broadcasters' timers: finishSeries every 6 min, refreshSeries every 30 min.
    player.spawn(async () => {
      let since = 0;
      while (player.alive) {
        await player.sleep(SERIES_FINISH_MS);
        since += SERIES_FINISH_MS;
        for (const r of components.allEventsRecorders) {
          r.finishSeries();
          if (since >= SERIES_REFRESH_MS) r.refreshSeries();
        }
        if (since >= SERIES_REFRESH_MS) since = 0;
      }
    });
    // Scenarios, staggered over the first minutes; each restarts after a pause when `repeat`.
    for (const [i, name] of names.entries()) {
      const sc = SCENARIOS.find((s) => s.name === name)!;
      const srng = rng.fork(`scenario/${name}`);
      const spread = overlap ? 10_000 : Math.min(durationMs || 60_000, 60_000) * 0.5;
      player.spawnAt(spread * (i / Math.max(1, names.length)), async () => {
        let instance = 0;
        do {
          const ctx = new ScenarioContext(
            name,
            model,
            srng.fork(String(instance++)),
            player,
            components,
            ledger,
            busy,
            overlap,
          );
          try {
            await sc.run(ctx);
          } finally {
            ctx.release();
          }
          if (!repeat) break;
          await player.sleep(overlap ? srng.int(5_000, 30_000) : srng.int(30_000, 120_000));
        } while (player.alive);
      });
    }

    await player.run(queue, opts.signal);
    player.stop();
    await queue.drain();
    const wallMs = performance.now() - t0;
    const groundTruth = ledger.finish({
      seed,
      server: client.url.toString(),
      scenarios: names,
      startedAt: new Date(startMs).toISOString(),
      endedAt: new Date(clock.now()).toISOString(),
      wallStartedAt: new Date(wallStart).toISOString(),
      wallEndedAt: new Date().toISOString(),
    });
    if (opts.groundTruthPath) writeGroundTruth(opts.groundTruthPath, groundTruth);
    const writes = sink.stats.creates + sink.stats.patches;
    return {
      groundTruth,
      stats: {
        ...sink.stats,
        requests: client.requests,
        wallMs,
        virtualMs: clock.now() - startMs,
        writesPerSecond: writes / (wallMs / 1000),
        clusterObjects,
        scenarioErrors: [...player.errors, ...queue.errors].map((e) =>
          String(e instanceof Error ? (e.stack ?? e.message) : e),
        ),
      },
      cluster: model,
      uids,
    };
  } finally {
    client.close();
  }
}

export function selectScenarios(s: string[] | 'all' | 'none' | string): string[] {
  const all = SCENARIOS.map((x) => x.name);
  if (s === 'all') return all;
  if (s === 'none') return [];
  const list = Array.isArray(s) ? s : s.split(',');
  const names = list.flatMap((x) => (x === 'all' ? all : x === 'none' ? [] : [x.trim()])).filter(Boolean);
  for (const n of names)
    if (!all.includes(n)) throw new DriverConfigError(`unknown scenario "${n}" (known: ${all.join(', ')})`);
  return [...new Set(names)];
}

export function makeClient(
  opts: Pick<RunOptions, 'sim' | 'url' | 'token' | 'kubeconfig'>,
  concurrency = 64,
): KubeClient {
  if (opts.sim) return new KubeClient({ url: opts.sim.url, token: opts.sim.token }, { maxSockets: concurrency });
  if (opts.url)
    return new KubeClient({ url: opts.url, ...(opts.token ? { token: opts.token } : {}) }, { maxSockets: concurrency });
  if (opts.kubeconfig) return KubeClient.fromKubeconfig(opts.kubeconfig, { maxSockets: concurrency });
  throw new DriverConfigError('runScenarios needs sim, url or kubeconfig');
}
