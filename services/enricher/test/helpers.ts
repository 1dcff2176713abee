// Test harness: kube-sim in process, the real NATS (random subject root and stream prefix) and a real Redis
// (random key prefix), the enricher service started in process through its ServiceDefinition.
import { randomBytes } from 'node:crypto';
import { type Bus, connectBus, ensureStream, streamSpec } from '@kec/bus';
import { CacheStore, type EnrichedEvent, parseEnrichedEvent, type SyncState } from '@kec/cache';
import { loadConfig, sharedConfigSpec } from '@kec/config';
import {
  applyCluster,
  type ClusterModel,
  KubeClient as DriverClient,
  type KubeSim,
  planCluster,
  startKubeSim,
  UidMap,
} from '@kec/kube-sim';
import { eventMsgId, type KecEvent, normalizeEvent } from '@kec/model';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { type Meter, metrics, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { enricherService } from '../src/index.ts';

export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
export const REDIS_URL = process.env.KEC_REDIS_URL ?? 'redis://127.0.0.1:6379';
const STREAM_BYTES = 64 * 1024 * 1024;

export interface Env {
  id: string;
  sim: KubeSim;
  bus: Bus;
  cluster: string;
  root: string;
  prefix: string;
  redisPrefix: string;
  rawStream: string;
  enrichedStream: string;
  /** KEC_* environment for an enricher of this test. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function setup(
  opts: { sim?: KubeSim; redisUrl?: string; enricherEnv?: Record<string, string> } = {},
): Promise<Env> {
  const id = randomBytes(4).toString('hex');
  const sim = opts.sim ?? (await startKubeSim({ port: 0 }));
  const root = `t${id}`;
  const prefix = `T${id}_`;
  const cluster = `c${id}`;
  const redisPrefix = `t${id}:`;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  let bus: Bus;
  try {
    bus = await connectBus({ url: NATS_URL, name: `enricher-test-${id}`, root, logger: pino({ level: 'silent' }) });
  } catch (err) {
    if (!opts.sim) await sim.close();
    throw err;
  }
  try {
    // Small streams: JetStream reserves max_bytes, and test files run in parallel with other packages' tests.
    for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ']) {
      await ensureStream(bus.jsm, streamSpec(s, root, prefix, { overrides: { [s]: { max_bytes: STREAM_BYTES } } }));
    }
  } catch (err) {
    for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ'])
      await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => false);
    await bus.close();
    if (!opts.sim) await sim.close();
    throw err;
  }
  const env: Record<string, string> = {
    KEC_CLUSTER: cluster,
    KEC_NATS_URL: NATS_URL,
    KEC_REDIS_URL: redisUrl,
    KEC_METRICS_PORT: '0',
    KEC_LOG_LEVEL: 'warn',
    KEC_ENRICHER_KUBECONFIG: sim.kubeconfigPath,
    KEC_ENRICHER_SUBJECT_ROOT: root,
    KEC_ENRICHER_STREAM_PREFIX: prefix,
    KEC_ENRICHER_STREAM_MAX_BYTES: String(STREAM_BYTES),
    KEC_ENRICHER_REDIS_PREFIX: redisPrefix,
    KEC_ENRICHER_LEASE_NAME: `kec-enricher-${id}`,
    KEC_ENRICHER_SYNC_INTERVAL_MS: '200',
    KEC_ENRICHER_BATCH_WAIT_MS: '10',
    KEC_ENRICHER_LEASE_DURATION_MS: '3000',
    KEC_ENRICHER_RENEW_DEADLINE_MS: '2000',
    KEC_ENRICHER_RETRY_PERIOD_MS: '500',
    // the correlator's half of the fused mode (KEC_ENRICHER_CORRELATE), and a correlator service of a fused test
    KEC_CORRELATOR_SUBJECT_ROOT: root,
    KEC_CORRELATOR_STREAM_PREFIX: prefix,
    KEC_CORRELATOR_STREAM_MAX_BYTES: String(STREAM_BYTES),
    KEC_CORRELATOR_REDIS_PREFIX: `${redisPrefix}corr:`,
    KEC_CORRELATOR_SWEEP_INTERVAL_MS: '0',
    KEC_CORRELATOR_BATCH_WAIT_MS: '10',
    ...opts.enricherEnv,
  };
  const e: Env = {
    id,
    sim,
    bus,
    cluster,
    root,
    prefix,
    redisPrefix,
    rawStream: `${prefix}KEC_RAW`,
    enrichedStream: `${prefix}KEC_ENRICHED`,
    env,
    async cleanup() {
      // the correlator's output streams exist when a fused enricher or a correlator ran
      for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ', 'KEC_EVENTS', 'KEC_INCIDENTS', 'KEC_PATTERNS'])
        await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => false);
      await bus.close();
      const store = await CacheStore.connect({ url: redisUrl, cluster, prefix: redisPrefix, connectWaitMs: 1000 });
      if (store.available) await store.purge().catch(() => undefined);
      await store.close();
      if (!opts.sim) await sim.close();
    },
  };
  return e;
}

export interface Running {
  running: RunningService;
  abort: AbortController;
  stop(): Promise<void>;
}

/** Starts the enricher service in this process (the real ServiceDefinition). */
export async function startEnricher(env: Record<string, string>, meter?: Meter): Promise<Running> {
  return startDefinition(enricherService, env, meter);
}

/** Starts a service (the enricher, or the correlator of a two-stage run) in this process. */
export async function startDefinition(
  def: ServiceDefinition,
  env: Record<string, string>,
  meter?: Meter,
): Promise<Running> {
  const shared = loadConfig(sharedConfigSpec, { env });
  const abort = new AbortController();
  const ctx: ServiceContext = {
    shared,
    env,
    configFile: undefined,
    logger: pino({ level: process.env.KEC_TEST_LOG_LEVEL ?? 'error' }),
    meter: meter ?? metrics.getMeter('enricher-test'),
    tracer: trace.getTracer('enricher-test'),
    registerHealthCheck: () => {},
    signal: abort.signal,
  };
  const running = await def.start(ctx);
  let stopped = false;
  return {
    running,
    abort,
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await running.stop();
    },
  };
}

/** Builds the driver's realistic cluster in kube-sim (namespaces, nodes, workloads, owner chains, pods). */
export async function buildCluster(sim: KubeSim, seed = 7, nodes = 3): Promise<{ model: ClusterModel; uids: UidMap }> {
  const model = planCluster(seed, { nodes });
  const uids = new UidMap();
  const client = new DriverClient({ url: sim.url, token: sim.token });
  try {
    await applyCluster(client, model, uids);
  } finally {
    client.close();
  }
  return { model, uids };
}

let seq = 0;
/** A KecEvent about `regarding`, as the watcher would publish it (core/v1, count 1). */
export function kecEvent(
  cluster: string,
  regarding: { kind: string; namespace?: string; name: string; uid?: string; apiVersion?: string },
  opts: { namespace?: string; reason?: string; at?: Date } = {},
): KecEvent {
  const n = ++seq;
  const at = opts.at ?? new Date();
  const t = `${at.toISOString().slice(0, 19)}Z`;
  const ns = opts.namespace ?? regarding.namespace ?? 'default';
  return normalizeEvent(
    {
      metadata: {
        name: `${regarding.name}.${n.toString(16)}`,
        namespace: ns,
        uid: `ev-${randomBytes(6).toString('hex')}`,
        resourceVersion: String(100_000 + n),
        creationTimestamp: t,
      },
      involvedObject: { apiVersion: 'v1', ...regarding },
      reason: opts.reason ?? 'Test',
      message: `test event ${n}`,
      source: { component: 'kubelet', host: 'node' },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      type: 'Normal',
      reportingComponent: 'kubelet',
      reportingInstance: 'node',
    },
    { cluster, watchType: 'ADDED' },
  );
}

/** Publishes KecEvents into KEC_RAW the way the watcher does (subject, msg-id). */
export async function publishRaw(e: Env, events: readonly KecEvent[]): Promise<void> {
  await Promise.all(
    events.map((ev) =>
      e.bus.js.publish(
        e.bus.subjects.raw(ev.cluster, ev.namespace, ev.regarding.kind || 'Unknown'),
        JSON.stringify(ev),
        {
          msgID: eventMsgId(ev.cluster, ev.uid, ev.resourceVersion),
        },
      ),
    ),
  );
}

export async function streamCount(bus: Bus, stream: string): Promise<number> {
  try {
    return (await bus.jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
}

export interface Stored<T> {
  seq: number;
  subject: string;
  msgId: string | undefined;
  data: T;
}

export type StoredEnriched = Stored<EnrichedEvent>;

/** Every message of a stream, in order, each payload through `parse` (default: JSON, not validated). */
export async function readStream<T>(
  bus: Bus,
  stream: string,
  parse: (data: Uint8Array) => T = (d) => JSON.parse(new TextDecoder().decode(d)) as T,
): Promise<Stored<T>[]> {
  const total = await streamCount(bus, stream);
  const out: Stored<T>[] = [];
  if (total === 0) return out;
  const c = await bus.js.consumers.get(stream);
  const it = await c.consume({ max_messages: 1000 });
  for await (const m of it) {
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), data: parse(m.data) });
    if (out.length >= total || m.info.pending === 0) break;
  }
  await it.close();
  return out;
}

/** Reads every message of the enriched stream in order, validating each against kec.enriched/v1. */
export function readEnriched(bus: Bus, stream: string): Promise<StoredEnriched[]> {
  return readStream(bus, stream, parseEnrichedEvent);
}

/** Waits until the enriched stream holds `n` messages, then returns them keyed by event uid. */
export async function waitEnriched(e: Env, n: number, timeoutMs = 20_000): Promise<Map<string, EnrichedEvent>> {
  await waitFor(`${n} enriched events`, async () => (await streamCount(e.bus, e.enrichedStream)) >= n, timeoutMs);
  const all = await readEnriched(e.bus, e.enrichedStream);
  return new Map(all.map((m) => [m.data.uid, m.data]));
}

/** Waits until the filler has published sync state for every kind in `kinds` (default all eleven). */
export async function waitSynced(e: Env, kinds = 11, redisUrl = REDIS_URL): Promise<Record<string, SyncState>> {
  const store = await CacheStore.connect({ url: redisUrl, cluster: e.cluster, prefix: e.redisPrefix });
  try {
    return await waitFor(
      'filler synced',
      async () => {
        const s = await store.getSync();
        return Object.keys(s).length >= kinds ? s : undefined;
      },
      20_000,
    );
  } finally {
    await store.close();
  }
}

/** Waits until fn() is truthy, polling; throws with `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GETs kube-sim counted for a resource (`pods`, `replicasets.apps`, ...). */
export function gets(sim: KubeSim, resource: string): number {
  return sim.stats().requests[`get ${resource}`] ?? 0;
}
