// End-to-end benchmark: kube-sim, NATS, Redis and the kec services (one OS process each: watcher, enricher,
// correlator, writer+sql on the embedded store) on this machine.
//   1. sustained: the scenario driver writes every scenario plus noise into kube-sim as fast as it can; events/s =
//      observations written into kube-sim / time from the first write until the store holds every final count.
//   2. latency at a fixed rate (default 1,000 events/s for 20 s): events created into kube-sim with their write
//      time; the store is polled every 100 ms (a per-100-ms-bucket count, so the poll stays cheap); within a bucket
//      arrivals are taken in write order. p50/p99 from the write to the row in the store (resolution ~100 ms).
//   3. per service: RSS (VmRSS at the end, VmHWM peak) and CPU seconds (utime+stime from /proc) per 1,000 events.
//   4. raw single hop: the same payloads (read back from the run's KEC_RAW) published to a fresh stream and
//      consumed with acks, publish+consume messages/s; the ratio end to end / raw.
//   ./dev bench e2e [--minutes 30] [--rate 100] [--lat-rate 1000] [--lat-seconds 20]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  cleanup,
  createSimEvent,
  type KecProc,
  metricSum,
  NATS_URL,
  newIsolation,
  scrape,
  sql,
  startSimProcess,
} from '@kec/e2e';
import { runScenarios } from '@kec/kube-sim';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Pipeline } from '../e2e/src/pipeline.ts';
import { waitForStore } from '../e2e/src/verify.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '100' },
    'lat-rate': { type: 'string', default: '1000' },
    'lat-seconds': { type: 'string', default: '20' },
    'cpu-prof': { type: 'string' },
  },
});
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
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const iso = newIsolation();
const sim = await startSimProcess(['--scenario', 'none', '--history-window', '3600']);
// Production batching for the writer (the tests shorten it); --cpu-prof DIR writes a V8 CPU profile per service.
const pipe = new Pipeline(iso, sim.kubeconfig, {
  watchers: 1,
  enrichers: 1,
  correlators: 1,
  extra: {
    KEC_WRITER_BATCH_WAIT_MS: '1000',
    ...(values['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values['cpu-prof']}` } : {}),
  },
});
try {
  await pipe.startAll();
  const procs = [...pipe.procs];
  const before = new Map(procs.map((p) => [p.name, procStats(p.pid)]));

  // 1. sustained (--minutes 0 skips it, e.g. to measure latency at a rate the machine sustains)
  const t0 = Date.now();
  const skip = Number(values.minutes) === 0;
  const { groundTruth: gt, stats } = await runScenarios({
    ...(skip ? { scenarios: 'none' as const, rate: 0, durationMs: 1 } : {}),
    kubeconfig: sim.kubeconfig,
    ...(skip
      ? {}
      : { scenarios: 'all' as const, rate: Number(values.rate), durationMs: Number(values.minutes) * 60_000 }),
    speed: Number.POSITIVE_INFINITY,
    seed: 7,
    repeat: true,
    concurrency: 8,
  });
  const writes = stats.creates + stats.patches + (stats.recreates ?? 0);
  const playS = (Date.now() - t0) / 1000;
  await waitForStore(pipe.writer.sqlPort, gt, 900_000);
  const e2eS = (Date.now() - t0) / 1000;
  const e2eRate = writes / e2eS;
  const loadSustained = load();
  const after = new Map(procs.map((p) => [p.name, procStats(p.pid)]));

  // 2. latency at a fixed rate
  const written: number[][] = []; // per 100-ms bucket: write times in order
  const tStart = Date.now();
  const total = latRate * latSeconds;
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < total; i++) {
    const due = tStart + (i * 1000) / latRate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing the load, not synchronisation
    const bucket = Math.floor((Date.now() - tStart) / 100);
    const name = `lat-${String(bucket).padStart(5, '0')}-${i}`;
    const at = Date.now();
    if (!written[bucket]) written[bucket] = [];
    written[bucket].push(at);
    const w = createSimEvent(sim, name)
      .catch(() => undefined)
      .finally(() => pending.delete(w));
    pending.add(w);
    if (pending.size >= 64) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seen = new Map<number, number>();
  const lat: number[] = [];
  const deadline = Date.now() + 120_000;
  while (lat.length < total && Date.now() < deadline) {
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
    await new Promise((r) => setTimeout(r, 100)); // the poll interval (the measurement's resolution)
  }
  lat.sort((a, b) => a - b);
  const achievedRate = total / ((Date.now() - tStart) / 1000);

  // 4. raw single hop of the same payloads
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const rawStream = `${iso.prefix}KEC_RAW`;
  const payloads: Uint8Array[] = [];
  const src = await js.consumers.get(rawStream);
  const want = Math.min(writes + total, 50_000);
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

  // 3. per service
  const rows: string[][] = [];
  const k = writes / 1000;
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
    `\nkec end to end on this machine (${new Date().toISOString()}, load ${loadSustained} after the sustained run)\n`,
  );
  out('| measure | value | goal |');
  out('|---|---|---|');
  out(`| observations written into kube-sim (creates + patches) | ${writes} in ${playS.toFixed(1)} s of play | |`);
  out(
    `| sustained end to end (first write -> every final count in the store) | **${e2eRate.toFixed(0)} events/s** (${e2eS.toFixed(1)} s) | >= 3,000 |`,
  );
  out(
    `| latency write -> row at ${achievedRate.toFixed(0)} events/s (${lat.length}/${total} seen) | p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat.at(-1)} ms | p99 <= 2,000 ms |`,
  );
  out(
    `| raw single hop JetStream publish+consume, same payloads (${payloads.length}) | ${hopRate.toFixed(0)} msgs/s | |`,
  );
  out(`| ratio end to end / raw single hop | ${(e2eRate / hopRate).toFixed(3)} | >= 0.25 |`);
  out('\n| process | CPU s / 1,000 events (sustained) | RSS MB (end) | peak RSS MB | dead letters |');
  out('|---|---|---|---|---|');
  for (const r of rows) out(`| ${r.join(' | ')} |`);
} finally {
  await pipe.stopAll().catch(() => undefined);
  await sim.stop('SIGTERM');
  await cleanup(iso);
}
