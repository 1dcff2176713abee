// Benchmark of the enricher in the real pipeline: kube-sim + scenario driver (child process) -> watcher (child) ->
// KEC_RAW -> enricher replicas (children) -> KEC_ENRICHED, against the running NATS and Redis.
// Usage: node bench/enricher.ts [--rate 1000] [--warmup 10] [--seconds 20] [--replicas 1] [--capacity 20]
//        (or ./dev bench enricher)
// Phase 1 (load): the driver plays every scenario plus noise at --rate events/s; after the cache is synced and
// --warmup s have passed, for --seconds s it counts enriched events and the GETs kube-sim served for cached kinds
// (sim.stats(), leases and events excluded): GETs per 10,000 events.
// Phase 2 (capacity): the load replicas stop; one replica with a fresh durable enriches the whole KEC_RAW backlog as
// fast as it can for at most --capacity s: enriched events/s for one replica (its publishes are duplicates of
// phase 1's msg-ids, which costs the same publish round trip).
// Random subject root, stream prefix, Redis prefix and lease names; streams and keys are deleted afterwards.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { connectBus, ensureStream, streamSpec } from '../libs/bus/src/index.ts';
import { CacheStore } from '../libs/cache/src/index.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '20' },
    replicas: { type: 'string', default: '1' },
    capacity: { type: 'string', default: '20' },
    nodes: { type: 'string', default: '6' },
  },
});
const RATE = Number(values.rate);
const WARMUP = Number(values.warmup);
const SECONDS = Number(values.seconds);
const REPLICAS = Number(values.replicas);
const CAPACITY = Number(values.capacity);
const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const natsUrl = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const redisUrl = process.env.KEC_REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = randomBytes(4).toString('hex');
const root = `bench${id}`;
const prefix = `BENCH${id}_`;
const cluster = `bench${id}`;
const redisPrefix = `bench${id}:`;

const children: ChildProcess[] = [];
function start(script: string, args: string[], env: Record<string, string>): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, [join(ROOT_DIR, script), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, out: () => out };
}
async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}
async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bus = await connectBus({ url: natsUrl, name: 'bench-enricher', root, logger: pino({ level: 'warn' }) });
const BYTES = 1024 ** 3; // JetStream reserves max_bytes; 1 GiB per stream is plenty for a run
for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ', 'KEC_GAPS']) {
  await ensureStream(bus.jsm, streamSpec(s, root, prefix, { overrides: { [s]: { max_bytes: BYTES } } }));
}
const store = await CacheStore.connect({ url: redisUrl, cluster, prefix: redisPrefix });
const count = async (s: string) => (await bus.jsm.streams.info(`${prefix}${s}`)).state.messages;

try {
  const total = WARMUP + SECONDS + 60;
  const sim = start(
    'tools/kube-sim/src/main.ts',
    [
      '--port',
      '0',
      '--scenario',
      'all',
      '--rate',
      String(RATE),
      '--duration',
      `${total}s`,
      '--seed',
      '1',
      '--nodes',
      values.nodes as string,
    ],
    {},
  );
  const kubeconfig = (await waitFor('kube-sim', () => /kubeconfig:\s+(\S+)/.exec(sim.out())?.[1], 30_000)) as string;
  const url = /listening on (\S+)/.exec(sim.out())?.[1] as string;
  const token = /Bearer ([^']+)'/.exec(sim.out())?.[1] as string;
  const stats = async () =>
    (await (await fetch(`${url}/_sim/stats`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      requests: Record<string, number>;
    };
  const cachedGets = async () => {
    const r = (await stats()).requests;
    let n = 0;
    for (const [k, v] of Object.entries(r)) {
      if (!k.startsWith('get ') || k.includes('leases') || k.includes('events') || k.startsWith('get /')) continue;
      n += v;
    }
    return { n, r };
  };
  await waitFor('cluster built', () => sim.out().includes('cluster built'), 60_000);
  const common = {
    KEC_CLUSTER: cluster,
    KEC_NATS_URL: natsUrl,
    KEC_REDIS_URL: redisUrl,
    KEC_METRICS_PORT: '0',
    KEC_LOG_LEVEL: 'warn',
  };
  start('services/watcher/src/main.ts', [], {
    ...common,
    KEC_WATCHER_KUBECONFIG: kubeconfig,
    KEC_WATCHER_SUBJECT_ROOT: root,
    KEC_WATCHER_STREAM_PREFIX: prefix,
    KEC_WATCHER_KV_BUCKET: `kw_${id}`,
    KEC_WATCHER_LEASE_NAME: `bench-watcher-${id}`,
  });
  const enricherEnv = {
    ...common,
    KEC_ENRICHER_KUBECONFIG: kubeconfig,
    KEC_ENRICHER_SUBJECT_ROOT: root,
    KEC_ENRICHER_STREAM_PREFIX: prefix,
    KEC_ENRICHER_STREAM_MAX_BYTES: String(BYTES),
    KEC_ENRICHER_REDIS_PREFIX: redisPrefix,
    KEC_ENRICHER_LEASE_NAME: `bench-enricher-${id}`,
  };
  const replicas = Array.from({ length: REPLICAS }, (_, i) =>
    start('services/enricher/src/main.ts', [], { ...enricherEnv, KEC_ENRICHER_IDENTITY: `load-${i}` }),
  );
  await waitFor('filler synced', async () => Object.keys(await store.getSync()).length >= 11, 60_000);
  process.stdout.write(`cache synced; warming up ${WARMUP} s at ${RATE} events/s offered\n`);
  await sleep(WARMUP * 1000);

  const r0 = await count('KEC_RAW');
  const e0 = await count('KEC_ENRICHED');
  const g0 = await cachedGets();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const r1 = await count('KEC_RAW');
  const e1 = await count('KEC_ENRICHED');
  const g1 = await cachedGets();
  const dt = (performance.now() - t0) / 1000;
  const enriched = e1 - e0;
  const getN = g1.n - g0.n;
  const perKind = Object.entries(g1.r)
    .filter(([k, v]) => k.startsWith('get ') && !k.includes('leases') && !k.includes('events') && v !== (g0.r[k] ?? 0))
    .map(([k, v]) => `${k.slice(4)}=${v - (g0.r[k] ?? 0)}`)
    .join(' ');
  const backlog = r1 - e1;
  process.stdout.write(
    `load (${SECONDS} s after warm-up, ${REPLICAS} replica${REPLICAS > 1 ? 's' : ''}): raw ${((r1 - r0) / dt).toFixed(0)} events/s in, ` +
      `enriched ${(enriched / dt).toFixed(0)} events/s out (${(enriched / dt / REPLICAS).toFixed(0)} per replica), backlog at end ${backlog}\n` +
      `GETs for cached kinds: ${getN} for ${enriched} events = ${((getN / Math.max(1, enriched)) * 10_000).toFixed(2)} per 10,000 events` +
      `${perKind ? ` (${perKind})` : ''}\n`,
  );
  for (const r of replicas) await stop(r.proc);

  // Capacity: one replica, fresh durable, the whole backlog of KEC_RAW.
  const backlogTotal = await count('KEC_RAW');
  const cap = start('services/enricher/src/main.ts', [], {
    ...enricherEnv,
    KEC_ENRICHER_IDENTITY: 'capacity',
    KEC_ENRICHER_DURABLE: 'capacity',
  });
  const acked = async () => {
    try {
      return (await bus.jsm.consumers.info(`${prefix}KEC_RAW`, 'capacity')).ack_floor.stream_seq;
    } catch {
      return 0;
    }
  };
  await waitFor('capacity replica consuming', async () => (await acked()) > 0, 60_000);
  const a0 = await acked();
  const c0 = performance.now();
  const deadline = c0 + CAPACITY * 1000;
  let a1 = a0;
  while (performance.now() < deadline) {
    await sleep(500);
    a1 = await acked();
    if (a1 >= backlogTotal) break;
  }
  const cdt = (performance.now() - c0) / 1000;
  process.stdout.write(
    `capacity (1 replica, backlog of ${backlogTotal}): ${((a1 - a0) / cdt).toFixed(0)} enriched events/s over ${cdt.toFixed(1)} s\n`,
  );
  await stop(cap.proc);
} finally {
  for (const c of children.reverse()) await stop(c);
  for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_DLQ', 'KEC_GAPS'])
    await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => false);
  await bus.jsm.streams.delete(`KV_kw_${id}`).catch(() => false);
  await store.purge().catch(() => undefined);
  await store.close();
  await bus.close();
}
