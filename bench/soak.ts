// Memory soak: every stage as its own process at a steady load, RSS and V8 heap sampled on an interval, printed with
// the slope of each. kube-sim's scenario driver (in kube-sim's own process, so the load generator shares nothing with
// the bench) writes every scenario plus noise at --rate events/s in real time for --minutes; the watcher, enricher,
// correlator, writer (HTTP backend, as against a ClickHouse server), alerter and api each run as `kec run <service>`
// with their default (production) settings; the store is tools/chdb-http in its own process, reported apart.
// Every --interval s: VmRSS of each process and nodejs_heap_used_bytes from its /metrics, the events the writer
// stored and the largest consumer backlog. At the end: per process first/peak/last RSS and heap, and the least-squares
// slope of RSS and heap after the warm-up (the first --warmup minutes, default a fifth of the run, at most 5 min).
//   ./dev bench soak [--minutes 30] [--rate 1000] [--interval 10] [--warmup M] [--csv FILE] [--set KEC_KEY=VALUE ...]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cleanup, type KecProc, metricSum, newIsolation, type Proc, scrape, startSimProcess } from '@kec/e2e';
import { Pipeline } from '../e2e/src/pipeline.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    csv: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const intervalS = Number(values.interval);
const warmupMin = values.warmup === undefined ? Math.min(5, minutes / 5) : Number(values.warmup);
const overrides = Object.fromEntries(
  (values.set ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

const out = (s: string) => process.stdout.write(`${s}\n`);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}
/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

interface Sample {
  t: number; // seconds since the pipeline was ready
  rss: Record<string, number>;
  heap: Record<string, number>;
  stored: number;
  backlog: number;
}

const iso = newIsolation();
// The driver runs in kube-sim's process from its start (a little longer than the soak, so the load lasts to the end).
// The event TTL is the warm-up: kube-sim's store (not measured) stops growing then, and the deletions that the TTL
// brings (the watcher passes them on) are part of the load from the warm-up on, so the load after it is steady.
const sim = await startSimProcess([
  '--scenario',
  'all',
  '--rate',
  String(rate),
  '--duration',
  `${Math.ceil(minutes + 3)}m`,
  '--seed',
  '7',
  '--event-ttl',
  String(Math.max(60, Math.round(warmupMin * 60))),
]);
const pipe = new Pipeline(iso, sim.kubeconfig, {
  watchers: 1,
  enrichers: 1,
  correlators: 1,
  writers: 1,
  httpStore: true,
  // Production settings: no shortened writer batching, no NODE_OPTIONS (each service's own heap bounds apply).
  extra: { KEC_WRITER_BATCH_WAIT_MS: '1000', ...overrides },
});
const samples: Sample[] = [];
try {
  await pipe.startAll();
  await pipe.start('alerter', 0);
  await pipe.start('api', 0);
  const kec: KecProc[] = [...pipe.procs];
  const store = pipe.store?.proc as Proc;
  const t0 = Date.now();
  const end = t0 + minutes * 60_000;
  out(
    `soak: ${minutes} min at ${rate} events/s, sampled every ${intervalS} s, warm-up ${warmupMin} min (load ${load()})`,
  );
  const writer = kec.find((p) => p.name.startsWith('writer-'))!;
  while (Date.now() < end) {
    const s: Sample = { t: (Date.now() - t0) / 1000, rss: {}, heap: {}, stored: 0, backlog: 0 };
    for (const p of [...kec, store, sim]) {
      if (!p.alive) throw new Error(`${p.name} exited ${p.exitCode}: ${p.output.slice(-3000)}`);
      s.rss[p.name] = rssMB(p.pid);
    }
    await Promise.all(
      kec.map(async (p) => {
        const m = await scrape(p.metricsPort).catch(() => new Map<string, number>());
        s.heap[p.name] = metricSum(m, 'nodejs_heap_used_bytes') / 1024 ** 2;
        s.backlog = Math.max(
          s.backlog,
          metricSum(m, 'kec_bus_consumer_pending') + metricSum(m, 'kec_bus_consumer_ack_pending'),
        );
        if (p === writer) s.stored = metricSum(m, 'kec_bus_messages_processed_total');
      }),
    );
    samples.push(s);
    const prev = samples.at(-2);
    const perS = prev ? (s.stored - prev.stored) / (s.t - prev.t) : 0;
    out(
      `t=${s.t.toFixed(0).padStart(5)} s  writer in ${perS.toFixed(0).padStart(5)} msg/s  backlog ${String(s.backlog).padStart(6)}  RSS ${Object.entries(
        s.rss,
      )
        .map(([n, v]) => `${n} ${v.toFixed(0)}`)
        .join(', ')}`,
    );
    const next = t0 + samples.length * intervalS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now()))); // the sampling interval
  }

  const names = Object.keys(samples[0]!.rss);
  const after = samples.filter((s) => s.t >= warmupMin * 60);
  const xs = after.map((s) => s.t / 3600);
  const storedPerS =
    after.length > 1 ? (after.at(-1)!.stored - after[0]!.stored) / (after.at(-1)!.t - after[0]!.t) : Number.NaN;
  out(
    `\nkec memory soak on this machine (${new Date().toISOString()}, load ${load()} at the end): ${minutes} min at ${rate} events/s offered, ` +
      `${samples.length} samples every ${intervalS} s; slopes over the ${after.length} samples after the ${warmupMin}-min warm-up; ` +
      `the writer consumed ${storedPerS.toFixed(0)} messages/s (events, incidents, patterns) in that window, largest backlog ${Math.max(...after.map((s) => s.backlog))}.\n`,
  );
  out(
    '| process | RSS MB first / peak / last (after warm-up) | RSS slope MB/h | heap used MB first / peak / last | heap slope MB/h |',
  );
  out('|---|---|---|---|---|');
  for (const n of names) {
    const r = after.map((s) => s.rss[n]!);
    const h = after.map((s) => s.heap[n]).filter((v): v is number => v !== undefined);
    const label = n === 'chdb-http' ? 'chdb-http (the store: embedded ClickHouse)' : n;
    const heapCols = h.length
      ? `${h[0]!.toFixed(0)} / ${Math.max(...h).toFixed(0)} / ${h.at(-1)!.toFixed(0)} | ${slope(xs, h).toFixed(1)}`
      : ' | ';
    out(
      `| ${label} | ${r[0]!.toFixed(0)} / ${Math.max(...r).toFixed(0)} / ${r.at(-1)!.toFixed(0)} | ${slope(xs, r).toFixed(1)} | ${heapCols} |`,
    );
  }
  if (values.csv) {
    const cols = names.flatMap((n) => [`rss_${n}`, `heap_${n}`]);
    const lines = [['t', 'stored', 'backlog', ...cols].join(',')];
    for (const s of samples) {
      lines.push(
        [s.t.toFixed(0), s.stored, s.backlog, ...names.flatMap((n) => [s.rss[n]?.toFixed(1), s.heap[n]?.toFixed(1)])]
          .map((v) => v ?? '')
          .join(','),
      );
    }
    writeFileSync(values.csv, `${lines.join('\n')}\n`);
    out(`\nsamples: ${values.csv}`);
  }
} finally {
  await pipe.stopAll().catch(() => undefined);
  await sim.stop('SIGTERM');
  await cleanup(iso);
}
