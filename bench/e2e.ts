// End-to-end benchmark: kube-sim, NATS, Redis and the kec services (one OS process each: watcher, enricher,
// correlator, writer+sql on the embedded store) on this machine.
//   1. sustained: the scenario driver first writes every scenario plus noise into kube-sim (kec not running), then
//      --flood distinct kubelet Events about the cluster's pods, a --sick share of them failing (the driver's noise
//      is mostly count bumps of a few objects, which a LIST sees as one object each: 59,655 writes left 731), then
//      kec starts and works through the backlog: events/s = Event objects / time from the watcher's start until the
//      store holds every final count. Every stage runs flat out for the whole phase, with kube-sim serving the LIST.
//   2. live: the driver plays again as fast as it can while kec runs; the driver's rate is the offered load (the
//      load generator shares the 2 cores) and the lag is the time from its last write until the store is complete.
//   3. latency at a fixed rate (default 1,000 events/s for 20 s): events created into kube-sim over keep-alive HTTP
//      with their write time while the store is polled every 100 ms (a per-100-ms-bucket count, so the poll stays
//      cheap); within a bucket arrivals are taken in write order. p50/p99 from the write to the row in the store
//      (resolution ~100 ms, the poll interval).
//   4. per service: RSS (VmRSS at the end, VmHWM peak) and CPU seconds (utime+stime from /proc) per 1,000 events
//      of phase 1. Phase 1's end is found from the writer's metrics first, then checked exactly against the store
//      (writerEventRows), so the completion check is not charged to the writer once a second.
//   5. raw single hop: the same payloads (read back from the run's KEC_RAW) published to a fresh stream with the
//      plain JetStream client and consumed with acks, publish+consume messages/s; the ratio sustained / raw.
//   ./dev bench e2e [--minutes 10] [--rate 100] [--flood 50000] [--sick 0.1] [--live-minutes 5] [--lat-rate 1000] [--lat-seconds 20]
//                   [--fused] [--set KEC_KEY=VALUE ...] [--cpu-prof DIR] [--http-store]
// --http-store: the writer on the HTTP backend against tools/chdb-http (as against a ClickHouse server), whose
// process is reported as `chdb-http` beside the services.
// --fused: the fused mode of small installs (the enricher correlates in process, KEC_ENRICHER_CORRELATE=true; no
// correlator process, nothing on KEC_ENRICHED).
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  cleanup,
  enrichmentCoverage,
  formatCoverage,
  type KecProc,
  metricSum,
  NATS_URL,
  newIsolation,
  type SimProc,
  scrape,
  simEvent,
  sql,
  startSimProcess,
} from '@kec/e2e';
import { runScenarios } from '@kec/kube-sim';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Pipeline } from '../e2e/src/pipeline.ts';
import { expectedTotals, waitForStore } from '../e2e/src/verify.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    flood: { type: 'string', default: '50000' },
    sick: { type: 'string', default: '0.1' },
    rate: { type: 'string', default: '100' },
    'live-minutes': { type: 'string', default: '5' },
    'lat-rate': { type: 'string', default: '1000' },
    'lat-seconds': { type: 'string', default: '20' },
    'cpu-prof': { type: 'string' },
    'http-store': { type: 'boolean', default: false },
    fused: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
  },
});
// --set KEC_KEY=VALUE (repeatable): configuration for every service of the run, e.g. to compare batch settings.
const overrides = Object.fromEntries(
  (values.set ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const latRate = Number(values['lat-rate']);
const latSeconds = Number(values['lat-seconds']);

function procStats(pid: number): { cpuS: number; rssMB: number; hwmMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}
/** CPU seconds so far of every process with this command name (the shared nats-server and redis-server). */
function cpuOfCommand(comm: string): number {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) sum += procStats(Number(pid)).cpuS;
    } catch {
      // the process ended meanwhile
    }
  }
  return sum;
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;
const writesOf = (s: { creates: number; patches: number; recreates?: number }) =>
  s.creates + s.patches + (s.recreates ?? 0);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** POSTs a JSON object to kube-sim over keep-alive HTTP (cheaper than fetch, so the load generator leaves CPU to kec). */
function poster(sim: SimProc): (path: string, obj: object) => Promise<Record<string, unknown>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return (path, obj) =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(`${sim.url}${path}`),
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 201
              ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
              : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(obj));
    });
}

/**
 * Creates Events about one running Pod (created first, so it is in the enricher's cache as in a real cluster;
 * events about objects the cache has not seen wait up to KEC_ENRICHER_COVER_WAIT_MS for the informer).
 */
async function eventWriter(sim: SimProc): Promise<(name: string) => Promise<void>> {
  const post = poster(sim);
  const pod = await post('/api/v1/namespaces/default/pods', {
    metadata: { name: 'lat-target', namespace: 'default', labels: { app: 'lat-target' } },
    spec: { nodeName: '', containers: [{ name: 'app', image: 'registry.example/lat:1' }] },
  });
  const uid = String((pod.metadata as { uid: string }).uid);
  return async (name) => {
    await post(
      '/api/v1/namespaces/default/events',
      simEvent(name, { kind: 'Pod', namespace: 'default', name: 'lat-target', uid }),
    );
  };
}

// Healthy pods' lifecycle events from the kubelet and the scheduler, as the components write them.
const FLOOD_NORMAL: [reason: string, component: string, message: (pod: string) => string][] = [
  ['Scheduled', 'default-scheduler', (p) => `Successfully assigned ${p} to node-1`],
  ['Pulling', 'kubelet', () => 'Pulling image "registry.example/app:1.4.2"'],
  ['Pulled', 'kubelet', () => 'Container image "registry.example/app:1.4.2" already present on machine'],
  ['Created', 'kubelet', () => 'Created container: app'],
  ['Started', 'kubelet', () => 'Started container app'],
  ['Killing', 'kubelet', () => 'Stopping container app'],
  ['SandboxChanged', 'kubelet', () => 'Pod sandbox changed, it will be killed and re-created.'],
];
// A failing pod's Warnings, by turns.
const FLOOD_WARNING: [reason: string, message: string][] = [
  ['Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503'],
  ['BackOff', 'Back-off restarting failed container app in pod'],
];

/**
 * Creates `n` distinct Events about the pods kube-sim holds, round robin (64 in flight over keep-alive HTTP), and
 * returns their uids, each an Event object of count 1 for the store check. A `sick` share of the pods fail: every
 * other Event about them is a Warning, so they hold incidents that their Normal events join; the others only have
 * Normal lifecycle Events.
 */
async function flood(sim: SimProc, n: number, sick: number): Promise<string[]> {
  const post = poster(sim);
  const res = await fetch(`${sim.url}/api/v1/pods`, { headers: { authorization: `Bearer ${sim.token}` } });
  const pods = ((await res.json()) as { items: { metadata: { name: string; namespace: string; uid: string } }[] })
    .items;
  if (pods.length === 0) throw new Error('flood: kube-sim holds no pods');
  const sickEvery = sick > 0 ? Math.max(1, Math.round(1 / sick)) : Number.POSITIVE_INFINITY;
  const uids: string[] = [];
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let next = 0;
  const one = async (i: number) => {
    const p = i % pods.length;
    const k = Math.floor(i / pods.length); // the pod's k-th Event
    const m = pods[p]!.metadata;
    const warn = p % sickEvery === 0 && k % 2 === 1;
    const [normal, component, msg] = FLOOD_NORMAL[(p + k) % FLOOD_NORMAL.length]!;
    const [reason, message] = warn ? FLOOD_WARNING[(k >> 1) % FLOOD_WARNING.length]! : [normal, msg(m.name)];
    const ev = await post(`/api/v1/namespaces/${m.namespace}/events`, {
      metadata: { name: `${m.name}.flood${i.toString(16).padStart(8, '0')}`, namespace: m.namespace },
      involvedObject: { kind: 'Pod', namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: 'v1' },
      reason,
      message,
      type: warn ? 'Warning' : 'Normal',
      count: 1,
      source: warn || component === 'kubelet' ? { component: 'kubelet', host: 'node-1' } : { component },
      firstTimestamp: now,
      lastTimestamp: now,
    });
    uids.push(String((ev.metadata as { uid: string }).uid));
  };
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return uids;
}

/** Samples each stage's consumer backlog (pending + ack pending) every second; `stop()` returns the largest seen. */
function backlogSampler(pipe: Pipeline): { stop(): Promise<Map<string, number>> } {
  const max = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        pipe.procs.map(async (p) => {
          const text = await scrape(p.metricsPort).catch(() => new Map<string, number>());
          const q = metricSum(text, 'kec_bus_consumer_pending') + metricSum(text, 'kec_bus_consumer_ack_pending');
          max.set(p.name, Math.max(max.get(p.name) ?? 0, q));
        }),
      );
      await new Promise((r) => setTimeout(r, 1000)); // the sampling interval
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}
const showBacklog = (m: Map<string, number>) => [...m].map(([n, q]) => `${n} ${q}`).join(', ');

/**
 * Waits until the writers have stored at least `rows` rows into `events`, read from their /metrics every 200 ms.
 * The exact completion check (waitForStore: two FINAL queries over the whole store, ~0.2 CPU s each at 50,000 Event
 * objects, run by the engine in the writer's process) then starts near the end; polled once a second through the
 * whole phase, it was charged to the writer (writer-0 0.271-0.305 CPU s per 1,000 events with it, 0.231-0.273
 * without). Gives up silently at the deadline (waitForStore then decides).
 */
async function writerEventRows(pipe: Pipeline, rows: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let stored = 0;
    for (const p of pipe.procs.filter((x) => x.name.startsWith('writer-') && x.alive)) {
      const m = await scrape(p.metricsPort).catch(() => new Map<string, number>());
      stored += metricSum(m, 'kec_writer_rows_written_total', 'table="events"');
    }
    if (stored >= rows) return;
    await new Promise((r) => setTimeout(r, 200)); // the metric poll interval
  }
}

const iso = newIsolation();
const sim = await startSimProcess(['--scenario', 'none', '--history-window', '3600']);
// Production batching for the writer (the tests shorten it); --cpu-prof DIR writes a V8 CPU profile per service.
const fused = values.fused === true;
const pipe = new Pipeline(iso, sim.kubeconfig, {
  watchers: 0,
  enrichers: 1,
  correlators: fused ? 0 : 1,
  fused,
  httpStore: values['http-store'],
  extra: {
    KEC_WRITER_BATCH_WAIT_MS: '1000',
    ...(values['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values['cpu-prof']}` } : {}),
    ...overrides,
  },
});
try {
  // 1. sustained: the backlog first, then kec (the watcher last, so the clock starts with its LIST).
  const backlog = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: Number(values.rate),
    durationMs: Number(values.minutes) * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 7,
    repeat: true,
    concurrency: 16,
  });
  const flooded = await flood(sim, Number(values.flood), Number(values.sick));
  const backlogTruth = {
    ...backlog.groundTruth,
    events: { ...backlog.groundTruth.events, ...Object.fromEntries(flooded.map((u) => [u, { count: 1 }])) },
  } as typeof backlog.groundTruth;
  const backlogEvents = expectedTotals(backlogTruth).events;
  await pipe.startAll();
  const downstream = [...pipe.procs];
  const before = new Map(downstream.map((p) => [p.name, procStats(p.pid)]));
  const storePid = pipe.store?.proc?.pid;
  const storeBefore = storePid ? procStats(storePid) : undefined;
  const others = () => ({
    'kube-sim': procStats(sim.pid).cpuS,
    'nats-server': cpuOfCommand('nats-server'),
    'redis-server': cpuOfCommand('redis-server'),
  });
  const othersBefore = others();
  const t0 = Date.now();
  const sampler1 = backlogSampler(pipe);
  const watcher = await pipe.start('watcher', 0);
  before.set(watcher.name, procStats(watcher.pid));
  // Each Event object of the backlog is one events row (the LIST observes it once): the cheap gate first.
  await writerEventRows(pipe, backlogEvents, 900_000);
  await waitForStore(pipe.writer.sqlPort, backlogTruth, 900_000);
  const sustainedS = (Date.now() - t0) / 1000;
  const sustainedRate = backlogEvents / sustainedS;
  const backlog1 = await sampler1.stop();
  const loadSustained = load();
  const procs = [...pipe.procs];
  const after = new Map(procs.map((p) => [p.name, procStats(p.pid)]));
  const othersAfter = others();
  const storeAfter = storePid ? procStats(storePid) : undefined;

  // 2. live: the driver plays while kec runs (another seed: new Event objects, new uids).
  const liveMinutes = Number(values['live-minutes']);
  let live: { writes: number; playS: number; lagS: number } | undefined;
  if (liveMinutes > 0) {
    const l0 = Date.now();
    const played = await runScenarios({
      kubeconfig: sim.kubeconfig,
      scenarios: 'all',
      rate: Number(values.rate),
      durationMs: liveMinutes * 60_000,
      speed: Number.POSITIVE_INFINITY,
      seed: 8,
      repeat: true,
      concurrency: 16,
    });
    const playS = (Date.now() - l0) / 1000;
    const both = { events: { ...backlogTruth.events, ...played.groundTruth.events } };
    const p0 = Date.now();
    await waitForStore(pipe.writer.sqlPort, both as typeof backlog.groundTruth, 900_000);
    live = { writes: writesOf(played.stats), playS, lagS: (Date.now() - p0) / 1000 };
  }

  // 3. latency at a fixed rate: writes and store polls run side by side.
  const create = await eventWriter(sim);
  const written: number[][] = []; // per 100-ms bucket: write times in order
  const writtenAt = new Map<string, number>();
  const total = latRate * latSeconds;
  const lat: number[] = [];
  let writing = true;
  let failedWrites = 0;
  const tStart = Date.now();
  const writer = (async () => {
    const pending = new Set<Promise<unknown>>();
    for (let i = 0; i < total; i++) {
      const due = tStart + (i * 1000) / latRate;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait)); // pacing the load, not synchronisation
      const bucket = Math.floor((Date.now() - tStart) / 100);
      const name = `lat-${String(bucket).padStart(5, '0')}-${i}`;
      const at = Date.now();
      if (!written[bucket]) written[bucket] = [];
      written[bucket].push(at);
      writtenAt.set(name, at);
      const w = create(name)
        .catch(() => {
          failedWrites++;
        })
        .finally(() => pending.delete(w));
      pending.add(w);
      if (pending.size >= 64) await Promise.race(pending);
    }
    await Promise.all(pending);
    writing = false;
    return (Date.now() - tStart) / 1000;
  })();
  const seen = new Map<number, number>();
  const deadline = Date.now() + 120_000;
  const poll = async () => {
    const rows = await sql<{ b: string; n: number }>(
      pipe.writer.sqlPort,
      "SELECT substring(name, 5, 5) AS b, count() AS n FROM kec.events WHERE startsWith(name, 'lat-') GROUP BY b",
    ).catch(() => []);
    const now = Date.now();
    for (const r of rows) {
      const b = Number(r.b);
      const had = seen.get(b) ?? 0;
      const n = Math.min(Number(r.n), written[b]?.length ?? 0);
      for (let k = had; k < n; k++) lat.push(now - written[b]![k]!);
      seen.set(b, Math.max(had, n));
    }
  };
  const sampler3 = backlogSampler(pipe);
  while ((writing || lat.length < total - failedWrites) && Date.now() < deadline) {
    await poll();
    await new Promise((r) => setTimeout(r, 100)); // the poll interval (the measurement's resolution)
  }
  const backlog3 = await sampler3.stop();
  const writeS = await writer;
  if (process.env.KEC_BENCH_DUMP) {
    for (const p of pipe.procs) {
      const m = await scrape(p.metricsPort);
      for (const [k, v] of m) if (new RegExp(process.env.KEC_BENCH_DUMP).test(k)) console.log(p.name, k, v);
    }
  }
  lat.sort((a, b) => a - b);
  // Where the time goes: write -> the watcher's observation (observed_at), the rest is enricher -> store.
  const observed = await sql<{ name: string; o: number }>(
    pipe.writer.sqlPort,
    "SELECT name, toUnixTimestamp64Milli(observed_at) AS o FROM kec.events WHERE startsWith(name, 'lat-')",
  );
  // Enrichment coverage of everything stored (the scenario backlog and the live phase; not the latency canaries,
  // whose objects do not exist).
  const coverage = await enrichmentCoverage(pipe.writer.sqlPort, "NOT startsWith(name, 'lat-')").catch(() => undefined);
  const watchLag = observed
    .map((r) => Number(r.o) - (writtenAt.get(r.name) ?? Number.NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const achievedRate = (total - failedWrites) / writeS;

  // 5. raw single hop of the same payloads
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const rawStream = `${iso.prefix}KEC_RAW`;
  const payloads: Uint8Array[] = [];
  const src = await js.consumers.get(rawStream);
  const want = Math.min(backlogEvents + total, 50_000);
  const it = await src.consume({ max_messages: 1000 });
  for await (const m of it) {
    payloads.push(m.data);
    if (payloads.length >= want) break;
  }
  await it.close();
  const hop = `${iso.prefix}HOP`;
  await jsm.streams.add({ name: hop, subjects: [`${iso.root}.hop.>`], max_bytes: 512 * 1024 * 1024 });
  await jsm.consumers.add(hop, { durable_name: 'hop', ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
  const hc = await js.consumers.get(hop, 'hop');
  const h0 = Date.now();
  let got = 0;
  const consumed = (async () => {
    const msgs = await hc.consume({ max_messages: 1000 });
    for await (const m of msgs) {
      m.ack();
      if (++got >= payloads.length) break;
    }
    await msgs.close();
  })();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < payloads.length; i++) {
    inflight.push(js.publish(`${iso.root}.hop.x`, payloads[i]!, { msgID: `hop/${i}` }));
    if (inflight.length >= 256) await Promise.all(inflight.splice(0, 128));
  }
  await Promise.all(inflight);
  await consumed;
  const hopRate = payloads.length / ((Date.now() - h0) / 1000);
  await jsm.streams.delete(hop);
  await nc.close();

  // 4. per service (phase 1)
  const rows: string[][] = [];
  const k = backlogEvents / 1000;
  const dlq = await Promise.all(
    procs.map(async (p) => metricSum(await scrape(p.metricsPort), 'kec_bus_messages_dead_lettered_total')),
  );
  procs.forEach((p: KecProc, i) => {
    const a = after.get(p.name)!;
    const b = before.get(p.name)!;
    const end = procStats(p.pid);
    rows.push([p.name, ((a.cpuS - b.cpuS) / k).toFixed(3), end.rssMB.toFixed(0), end.hwmMB.toFixed(0), String(dlq[i])]);
  });

  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(
    `\nkec end to end on this machine (${new Date().toISOString()}, load ${loadSustained} after the sustained run)${fused ? ', fused mode (the enricher correlates in process)' : ''}\n`,
  );
  out('| measure | value | goal |');
  out('|---|---|---|');
  out(
    `| sustained: backlog of ${backlogEvents} Event objects (the driver's ${writesOf(backlog.stats)} writes and ${flooded.length} distinct Events, ${values.sick} of the pods failing) from the watcher's LIST to every final count in the store | **${sustainedRate.toFixed(0)} events/s** (${sustainedS.toFixed(1)} s) | >= 3,000 |`,
  );
  if (live) {
    out(
      `| live: driver writing while kec runs (offered load, bounded by the driver on the shared cores) | ${(live.writes / live.playS).toFixed(0)} writes/s (${live.writes} in ${live.playS.toFixed(1)} s); store complete ${live.lagS.toFixed(1)} s after the last write | |`,
    );
  }
  out(
    `| latency write -> row at ${achievedRate.toFixed(0)} events/s (${lat.length}/${total - failedWrites} seen, ${failedWrites} writes failed) | p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat.at(-1)} ms | p99 <= 2,000 ms at 1,000/s |`,
  );
  out(
    `| of which write -> observed by the watcher (observed_at) | p50 ${pct(watchLag, 50)} ms, p99 ${pct(watchLag, 99)} ms | |`,
  );
  out(
    `| largest consumer backlog per stage (pending + ack pending): sustained / latency run | ${showBacklog(backlog1)} / ${showBacklog(backlog3)} | |`,
  );
  out(
    `| raw single hop JetStream publish+consume, same payloads (${payloads.length}) | ${hopRate.toFixed(0)} msgs/s | |`,
  );
  out(`| ratio sustained / raw single hop | ${(sustainedRate / hopRate).toFixed(3)} | >= 0.25 |`);
  out('\n| process | CPU s / 1,000 events (phase 1) | RSS MB (end) | peak RSS MB | dead letters |');
  out('|---|---|---|---|---|');
  for (const r of rows) out(`| ${r.join(' | ')} |`);
  if (storePid && storeBefore && storeAfter) {
    const end = procStats(storePid);
    out(
      `| chdb-http (the store server) | ${((storeAfter.cpuS - storeBefore.cpuS) / k).toFixed(3)} | ${end.rssMB.toFixed(0)} | ${end.hwmMB.toFixed(0)} | |`,
    );
  }
  for (const [name, cpu] of Object.entries(othersAfter)) {
    const d = cpu - othersBefore[name as keyof typeof othersBefore];
    out(`| ${name} (shared, whatever else used it) | ${(d / k).toFixed(3)} | | | |`);
  }
  const busy =
    [...after].reduce((sum, [n, a]) => sum + a.cpuS - (before.get(n)?.cpuS ?? a.cpuS), 0) +
    (storeAfter && storeBefore ? storeAfter.cpuS - storeBefore.cpuS : 0);
  const otherBusy = Object.entries(othersAfter).reduce(
    (sum, [n, c]) => sum + c - othersBefore[n as keyof typeof othersBefore],
    0,
  );
  out(
    `\nPhase 1 used ${(busy + otherBusy).toFixed(1)} CPU s in ${sustainedS.toFixed(1)} s (${((100 * (busy + otherBusy)) / sustainedS / availableParallelism()).toFixed(0)} % of ${availableParallelism()} cores); kec's services${storePid ? ' and chdb-http' : ''} ${busy.toFixed(1)} s.`,
  );
  if (coverage) out(`\nEnrichment coverage of the stored events: ${formatCoverage(coverage)}.`);
} finally {
  await pipe.stopAll().catch(() => undefined);
  await sim.stop('SIGTERM');
  await cleanup(iso);
}
