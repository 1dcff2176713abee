// Integration harness: kube-sim in process with the driver's scenarios; a watch on kube-sim stands in for the watcher
// (normalize + publish into KEC_RAW with the watcher's subject and msg-id, in watch order); the real enricher service
// runs in process (its filler syncs from kube-sim into Redis) and fills KEC_ENRICHED; correlator services run in
// process through their ServiceDefinition. Real NATS, real Redis; random roots, stream prefixes and key prefixes.
import { randomBytes } from 'node:crypto';
import { type Bus, connectBus, ensureStream, Publisher, streamSpec } from '@kec/bus';
import { CacheStore } from '@kec/cache';
import { loadConfig, sharedConfigSpec } from '@kec/config';
import { enricherService } from '@kec/enricher';
import {
  applyCluster,
  KubeClient as DriverClient,
  type GroundTruth,
  type KubeSim,
  planCluster,
  runScenarios,
  startKubeSim,
  UidMap,
} from '@kec/kube-sim';
import { eventMsgId, normalizeEvent } from '@kec/model';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { metrics, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { NATS_URL, REDIS_URL } from './helpers.ts';

export const STREAMS = ['KEC_RAW', 'KEC_ENRICHED', 'KEC_EVENTS', 'KEC_INCIDENTS', 'KEC_PATTERNS', 'KEC_DLQ'];
/** Small streams: JetStream reserves max_bytes on disk, and other suites share the server. */
export const MAX_BYTES = 128 * 1024 * 1024;
const overrides = Object.fromEntries(STREAMS.map((n) => [n, { max_bytes: MAX_BYTES }]));

export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 30_000,
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startService(def: ServiceDefinition, env: Record<string, string>): Promise<() => Promise<void>> {
  const abort = new AbortController();
  const ctx: ServiceContext = {
    shared: loadConfig(sharedConfigSpec, { env }),
    env,
    configFile: undefined,
    logger: pino({ level: process.env.KEC_TEST_LOG_LEVEL ?? 'error' }),
    meter: metrics.getMeter('correlator-test'),
    tracer: trace.getTracer('correlator-test'),
    registerHealthCheck: () => {},
    signal: abort.signal,
  };
  const running: RunningService = await def.start(ctx);
  return async () => {
    abort.abort();
    await running.stop();
  };
}

export interface Space {
  id: string;
  root: string;
  prefix: string;
  bus: Bus;
  cleanup(): Promise<void>;
}

/** A private subject root and stream prefix with every stream created (max_bytes `maxBytes` each). */
export async function space(withRaw = true, maxBytes = MAX_BYTES): Promise<Space> {
  const id = randomBytes(4).toString('hex');
  const root = `t${id}`;
  const prefix = `T${id}_`;
  const bus = await connectBus({
    url: NATS_URL,
    name: `correlator-test-${id}`,
    root,
    logger: pino({ level: 'silent' }),
  });
  const sized =
    maxBytes === MAX_BYTES ? overrides : Object.fromEntries(STREAMS.map((n) => [n, { max_bytes: maxBytes }]));
  try {
    for (const s of STREAMS) {
      if (s === 'KEC_RAW' && !withRaw) continue;
      await ensureStream(bus.jsm, streamSpec(s, root, prefix, { overrides: sized }));
    }
  } catch (err) {
    // Streams already created would otherwise keep their max_bytes reserved on the shared server.
    for (const s of STREAMS) await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => false);
    await bus.close();
    throw err;
  }
  return {
    id,
    root,
    prefix,
    bus,
    async cleanup() {
      for (const s of STREAMS) await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => false);
      await bus.close();
    },
  };
}

export async function streamCount(bus: Bus, stream: string): Promise<number> {
  try {
    return (await bus.jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
}

export interface Stored<T> {
  subject: string;
  msgId: string | undefined;
  data: T;
}

/** Every message of a stream, in order. */
export async function readAll<T>(bus: Bus, stream: string): Promise<Stored<T>[]> {
  const total = await streamCount(bus, stream);
  const out: Stored<T>[] = [];
  if (total === 0) return out;
  const c = await bus.js.consumers.get(stream);
  const it = await c.consume({ max_messages: 1000 });
  for await (const m of it) {
    out.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), data: m.json<T>() });
    if (out.length >= total || m.info.pending === 0) break;
  }
  await it.close();
  return out;
}

export interface Enriched {
  sim: KubeSim;
  space: Space;
  cluster: string;
  groundTruth: GroundTruth;
  enriched: number;
  cleanup(): Promise<void>;
}

/** Plays the driver's scenarios through watch -> KEC_RAW -> enricher -> KEC_ENRICHED. */
export async function playEnriched(opts: {
  seed: number;
  scenarios: string[] | 'all';
  rate: number;
  durationMs: number;
  /** Scenarios overlapping in time on shared nodes and workloads (kube-sim's overlap mode). */
  overlap?: boolean;
}): Promise<Enriched> {
  // What a failure half way must stop, newest first: left running, the test file never exits.
  const undo: (() => unknown)[] = [];
  try {
    const sim = await startKubeSim({ port: 0 });
    undo.push(() => sim.close());
    const sp = await space();
    undo.push(() => sp.cleanup());
    const cluster = `c${sp.id}`;
    const redisPrefix = `t${sp.id}:`;
    const model = planCluster(opts.seed, { nodes: 4 });
    const uids = new UidMap();
    const client = new DriverClient({ url: sim.url, token: sim.token });
    const dbg = (m: string) => process.env.KEC_DEBUG && process.stderr.write(`${new Date().toISOString()} ${m}\n`);
    dbg('apply');
    await applyCluster(client, model, uids);
    dbg('applied');
    client.close();
    const stopEnricher = await startService(enricherService, {
      KEC_CLUSTER: cluster,
      KEC_NATS_URL: NATS_URL,
      KEC_REDIS_URL: REDIS_URL,
      KEC_METRICS_PORT: '0',
      KEC_LOG_LEVEL: 'warn',
      KEC_ENRICHER_KUBECONFIG: sim.kubeconfigPath,
      KEC_ENRICHER_SUBJECT_ROOT: sp.root,
      KEC_ENRICHER_STREAM_PREFIX: sp.prefix,
      KEC_ENRICHER_REDIS_PREFIX: redisPrefix,
      KEC_ENRICHER_LEASE_NAME: `kec-enricher-${sp.id}`,
      KEC_ENRICHER_SYNC_INTERVAL_MS: '200',
      KEC_ENRICHER_BATCH_WAIT_MS: '10',
      KEC_ENRICHER_LEASE_DURATION_MS: '3000',
      KEC_ENRICHER_RENEW_DEADLINE_MS: '2000',
      KEC_ENRICHER_RETRY_PERIOD_MS: '500',
      KEC_ENRICHER_STREAM_MAX_BYTES: String(MAX_BYTES),
    });
    undo.push(stopEnricher);
    dbg('enricher started');
    const store = await CacheStore.connect({ url: REDIS_URL, cluster, prefix: redisPrefix });
    undo.push(() => store.close());
    // generous deadlines: the suite runs four files at once on 2 cores
    await waitFor('enricher cache synced', async () => Object.keys(await store.getSync()).length >= 11, 60_000);
    // the watch: every ADDED/MODIFIED/DELETED, normalized and published as the watcher does, in watch order
    const pub = new Publisher(sp.bus, { window: 512 });
    const ac = new AbortController();
    undo.push(() => ac.abort());
    let lastRv = '0';
    let published = 0;
    const pending: Promise<unknown>[] = [];
    const from = sim.resourceVersion();
    const res = await fetch(
      `${sim.url}/api/v1/events?watch=1&allowWatchBookmarks=false&resourceVersion=${from}&timeoutSeconds=600`,
      {
        headers: { authorization: `Bearer ${sim.token}` },
        signal: ac.signal,
      },
    );
    const watching = (async () => {
      if (!res.body) throw new Error('no watch body');
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk as Uint8Array, { stream: true });
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const frame = JSON.parse(line) as { type: string; object: { metadata?: { resourceVersion?: string } } };
            if (frame.type !== 'ADDED' && frame.type !== 'MODIFIED' && frame.type !== 'DELETED') continue;
            const e = normalizeEvent(frame.object, { cluster, watchType: frame.type });
            lastRv = e.resourceVersion;
            published++;
            pending.push(
              pub.publish(sp.bus.subjects.raw(cluster, e.namespace, e.regarding.kind || 'Unknown'), e, {
                msgId: eventMsgId(cluster, e.uid, e.resourceVersion),
              }),
            );
          }
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    })();
    dbg('synced');
    const run = await runScenarios({
      sim,
      cluster: { model, uids },
      scenarios: opts.scenarios,
      rate: opts.rate,
      durationMs: opts.durationMs,
      speed: Number.POSITIVE_INFINITY,
      seed: opts.seed,
      overlap: opts.overlap ?? false,
      repeat: false,
    });
    dbg('played');
    const target = sim.resourceVersion();
    await waitFor('watch caught up', () => BigInt(lastRv) >= BigInt(target), 120_000);
    ac.abort();
    await watching;
    await Promise.all(pending);
    dbg('watched');
    const raw = await streamCount(sp.bus, `${sp.prefix}KEC_RAW`);
    await waitFor(
      `${raw} enriched`,
      async () => (await streamCount(sp.bus, `${sp.prefix}KEC_ENRICHED`)) >= raw,
      60_000,
    );
    await stopEnricher();
    await store.purge().catch(() => undefined);
    await store.close();
    void published;
    return {
      sim,
      space: sp,
      cluster,
      groundTruth: run.groundTruth,
      enriched: raw,
      async cleanup() {
        await sp.cleanup();
        await sim.close();
      },
    };
  } catch (err) {
    for (const u of undo.reverse())
      await Promise.resolve()
        .then(u)
        .catch(() => undefined);
    throw err;
  }
}

/** Copies a space's KEC_ENRICHED into another space (same data and msg-ids, subjects under the other root). */
export async function copyEnriched(from: Space, to: Space): Promise<number> {
  const msgs = await readAll<unknown>(from.bus, `${from.prefix}KEC_ENRICHED`);
  const pub = new Publisher(to.bus, { window: 512 });
  await Promise.all(
    msgs.map((m) =>
      pub.publish(`${to.root}${m.subject.slice(from.root.length)}`, m.data as object, { msgId: m.msgId }),
    ),
  );
  return msgs.length;
}

export function correlatorEnv(
  sp: Space,
  redisPrefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KEC_CLUSTER: 'unused',
    KEC_NATS_URL: NATS_URL,
    KEC_REDIS_URL: REDIS_URL,
    KEC_METRICS_PORT: '0',
    KEC_LOG_LEVEL: 'warn',
    KEC_CORRELATOR_SUBJECT_ROOT: sp.root,
    KEC_CORRELATOR_STREAM_PREFIX: sp.prefix,
    KEC_CORRELATOR_REDIS_PREFIX: redisPrefix,
    KEC_CORRELATOR_SWEEP_INTERVAL_MS: '0',
    KEC_CORRELATOR_STREAM_MAX_BYTES: String(MAX_BYTES),
    KEC_CORRELATOR_BATCH_WAIT_MS: '10',
    ...extra,
  };
}
