// Test harness: kube-sim + real NATS with random subject root, stream prefix, KV bucket and Lease name.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, connectBus } from '@kec/bus';
import { loadConfig, sharedConfigSpec } from '@kec/config';
import { type KubeSim, type KubeSimOptions, startKubeSim } from '@kec/kube-sim';
import { isNewerObservation, type KecEvent } from '@kec/model';
import type { RunningService, ServiceContext } from '@kec/runtime';
import { metrics, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { watcherService } from '../src/index.ts';

export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');

export interface Env {
  id: string;
  sim: KubeSim;
  bus: Bus;
  cluster: string;
  rawStream: string;
  gapStream: string;
  dlqStream: string;
  bucket: string;
  /** KEC_* environment for a watcher of this test. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function setup(opts: { sim?: KubeSimOptions; watcherEnv?: Record<string, string> } = {}): Promise<Env> {
  const id = randomBytes(4).toString('hex');
  const sim = await startKubeSim({ port: 0, ...opts.sim });
  const root = `t${id}`;
  const prefix = `T${id}_`;
  const bucket = `kw_${id}`;
  const cluster = `c${id}`;
  const bus = await connectBus({ url: NATS_URL, name: `watcher-test-${id}`, root, logger: pino({ level: 'silent' }) });
  const env: Record<string, string> = {
    KEC_CLUSTER: cluster,
    KEC_NATS_URL: NATS_URL,
    KEC_METRICS_PORT: '0',
    KEC_LOG_LEVEL: 'warn',
    KEC_WATCHER_KUBECONFIG: sim.kubeconfigPath,
    KEC_WATCHER_SUBJECT_ROOT: root,
    KEC_WATCHER_STREAM_PREFIX: prefix,
    KEC_WATCHER_KV_BUCKET: bucket,
    KEC_WATCHER_LEASE_NAME: `kec-watcher-${id}`,
    KEC_WATCHER_CHECKPOINT_INTERVAL_MS: '200',
    // Small streams: JetStream reserves max_bytes, and test files run in parallel with other packages' tests.
    KEC_WATCHER_STREAM_MAX_BYTES: String(128 * 1024 * 1024),
    ...opts.watcherEnv,
  };
  const children = new Set<ChildProcess>();
  const e: Env = {
    id,
    sim,
    bus,
    cluster,
    rawStream: `${prefix}KEC_RAW`,
    gapStream: `${prefix}KEC_GAPS`,
    dlqStream: `${prefix}KEC_DLQ`,
    bucket,
    env,
    async cleanup() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const s of [e.rawStream, e.gapStream, e.dlqStream, `KV_${bucket}`])
        await bus.jsm.streams.delete(s).catch(() => false);
      await bus.close();
      await sim.close();
    },
  };
  trackChildren = children;
  return e;
}

let trackChildren: Set<ChildProcess> | undefined;

/** Starts the watcher service in this process (the real ServiceDefinition). */
export async function startInProcess(
  env: Record<string, string>,
): Promise<{ running: RunningService; abort: AbortController; health: () => string | undefined }> {
  const shared = loadConfig(sharedConfigSpec, { env });
  const abort = new AbortController();
  const checks: Array<() => string | undefined> = [];
  const ctx: ServiceContext = {
    shared,
    env,
    configFile: undefined,
    logger: pino({ level: process.env.KEC_TEST_LOG_LEVEL ?? 'error' }),
    meter: metrics.getMeter('watcher-test'),
    tracer: trace.getTracer('watcher-test'),
    registerHealthCheck: (_n, c) => {
      checks.push(c);
    },
    signal: abort.signal,
  };
  const running = await watcherService.start(ctx);
  return { running, abort, health: () => checks.map((c) => c()).find((x) => x !== undefined) };
}

export interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts the watcher as a child process (`node services/watcher/src/main.ts`). */
export function spawnWatcher(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChildren?.add(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code, signal) => {
      if (process.env.KEC_TEST_CHILD_LOG_DIR) {
        writeFileSync(join(process.env.KEC_TEST_CHILD_LOG_DIR, `watcher-${proc.pid}.log`), `${code} ${signal}\n${out}`);
      }
      r(code);
    }),
  );
  return { proc, output: () => out, exited };
}

/** Waits until fn() is truthy, polling; throws with `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
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

export async function streamCount(bus: Bus, stream: string): Promise<number> {
  try {
    return (await bus.jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
}

export interface StoredMsg<T = KecEvent> {
  seq: number;
  subject: string;
  msgId: string | undefined;
  data: T;
}

/** Reads every message of a stream in order (an ordered consumer). */
export async function readAll<T = KecEvent>(bus: Bus, stream: string): Promise<StoredMsg<T>[]> {
  const total = await streamCount(bus, stream);
  const out: StoredMsg<T>[] = [];
  if (total === 0) return out;
  const c = await bus.js.consumers.get(stream);
  const it = await c.consume({ max_messages: 1000 });
  for await (const m of it) {
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), data: m.json<T>() });
    if (out.length >= total || m.info.pending === 0) break;
  }
  await it.close();
  return out;
}

/**
 * A downstream consumer applying the documented replay rule: per uid keep the last applied (resourceVersion,
 * count); drop an observation that is not newer; occurrences = count - previous count; DELETED adds none.
 */
export function replay(msgs: Iterable<KecEvent>): { occurrences: number; last: Map<string, KecEvent> } {
  const last = new Map<string, KecEvent>();
  let occurrences = 0;
  for (const ev of msgs) {
    const prev = last.get(ev.uid);
    if (!isNewerObservation(prev, ev)) continue;
    if (ev.watchType !== 'DELETED') occurrences += ev.count - (prev?.count ?? 0);
    last.set(ev.uid, ev);
  }
  return { occurrences, last };
}

export async function readCheckpoint(bus: Bus, bucket: string, cluster: string): Promise<string | undefined> {
  const kv = await bus.kvm.open(bucket);
  const e = await kv.get(`rv.${cluster}`);
  if (e?.operation !== 'PUT' || e.length === 0) return undefined;
  return e.json<{ resourceVersion: string }>().resourceVersion;
}

/** A core/v1 Event body like client-go's recorder writes (count 1). */
export function coreEvent(ns: string, name: string, i: number, at = new Date()): Record<string, unknown> {
  const t = `${at.toISOString().slice(0, 19)}Z`;
  return {
    metadata: { name, namespace: ns },
    involvedObject: { kind: 'Pod', namespace: ns, name: `pod-${i}`, uid: `pod-uid-${i}`, apiVersion: 'v1' },
    reason: i % 3 === 0 ? 'BackOff' : 'Pulled',
    message: `message ${i}`,
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
    type: i % 3 === 0 ? 'Warning' : 'Normal',
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
  };
}

/** One write the driver made: an observation that should reach the stream (or fall inside a gap). */
export interface Written {
  uid: string;
  rv: string;
  count: number;
}

/**
 * Writes events like client-go's core recorder: create with count 1, then PATCH count/lastTimestamp on repeats.
 * Keeps the ground truth: every observation written, and each uid's latest count.
 */
export class EventWriter {
  readonly sim: KubeSim;
  readonly written: Written[] = [];
  readonly latest = new Map<string, { count: number; rv: string; name: string; ns: string }>();
  #n = 0;
  #stop = false;
  #loop: Promise<void> | undefined;
  readonly #prefix: string;

  constructor(sim: KubeSim, prefix = 'w') {
    this.sim = sim;
    this.#prefix = prefix;
  }

  /** Sum of the latest counts: the occurrences a correct downstream must count. */
  get occurrences(): number {
    let s = 0;
    for (const v of this.latest.values()) s += v.count;
    return s;
  }

  async step(): Promise<void> {
    const i = this.#n++;
    const names = [...this.latest.entries()];
    if (names.length < 20 || i % 3 === 0) {
      const ns = `ns-${i % 4}`;
      const name = `${this.#prefix}-${i}.${i.toString(16)}`;
      const o = await this.sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, name, i));
      const uid = o.metadata.uid as string;
      const rv = o.metadata.resourceVersion as string;
      this.latest.set(uid, { count: 1, rv, name, ns });
      this.written.push({ uid, rv, count: 1 });
    } else {
      const [uid, cur] = names[(i * 7919) % names.length]!;
      const count = cur.count + 1;
      const o = await this.sim.store.patch(`/api/v1/namespaces/${cur.ns}/events/${cur.name}`, {
        count,
        lastTimestamp: `${new Date().toISOString().slice(0, 19)}Z`,
      });
      const rv = o.metadata.resourceVersion as string;
      this.latest.set(uid, { ...cur, count, rv });
      this.written.push({ uid, rv, count });
    }
  }

  /** Writes about `perSecond` observations per second until stop(). */
  start(perSecond = 200): void {
    this.#stop = false;
    this.#loop = (async () => {
      const batch = Math.max(1, Math.round(perSecond / 50));
      while (!this.#stop) {
        for (let k = 0; k < batch; k++) await this.step();
        await new Promise((r) => setTimeout(r, 20)); // pacing, not synchronisation
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#loop;
  }
}

/**
 * Checks the stream against the writer's ground truth: each uid's latest count arrived, the replay rule counts
 * exactly the occurrences written, and every written observation missing from the stream lies inside a gap.
 */
export async function verifyAgainstTruth(
  e: Env,
  w: EventWriter,
  /** Index into w.written of the first write made after the watcher's initial LIST (earlier ones are only seen as current state). */
  from: number,
  timeoutMs = 20_000,
): Promise<{ msgs: StoredMsg[]; gaps: StoredMsg<GapLike>[]; missing: Written[] }> {
  let msgs: StoredMsg[] = [];
  await waitFor(
    'every uid with its latest count in KEC_RAW',
    async () => {
      msgs = await readAll(e.bus, e.rawStream);
      const { last } = replay(msgs.map((m) => m.data));
      for (const [uid, t] of w.latest) if (last.get(uid)?.count !== t.count) return false;
      return true;
    },
    timeoutMs,
    300,
  );
  const gaps = await readAll<GapLike>(e.bus, e.gapStream);
  const seen = new Set(msgs.map((m) => `${m.data.uid}/${m.data.resourceVersion}`));
  const missing = w.written.slice(from).filter((x) => !seen.has(`${x.uid}/${x.rv}`));
  return { msgs, gaps, missing };
}

export interface GapLike {
  fromResourceVersion: string;
  toResourceVersion: string;
  reason: string;
  cluster: string;
}

export function insideSomeGap(rv: string, gaps: GapLike[]): boolean {
  const n = BigInt(rv);
  return gaps.some((g) => n > BigInt(g.fromResourceVersion) && n <= BigInt(g.toResourceVersion));
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Sum of a metric's samples (all label sets) from a child's /metrics; undefined when unreachable. */
export async function scrape(port: number, metric: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  } catch {
    return undefined;
  }
}

export async function httpStatus(port: number, path: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

export async function leaseHolder(e: Env): Promise<string | undefined> {
  try {
    const l = await e.sim.store.get(`/apis/coordination.k8s.io/v1/namespaces/default/leases/kec-watcher-${e.id}`);
    return (l.spec as { holderIdentity?: string }).holderIdentity || undefined;
  } catch {
    return undefined;
  }
}
