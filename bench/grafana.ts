// Grafana dashboards benchmark: every ClickHouse query of the provisioned dashboards (panels, variables,
// annotations), expanded by the test implementation of the plugin's macros (deploy/test/macros.ts) for the
// dashboards' default range (now-6h to now; "now" pinned to the end of the generated month) with every variable All
// (the object dashboard: the busiest Pod of the busiest namespace), run in process against the generated embedded
// store of `./dev bench api` (bench/api-store.ts: 1M Event objects, ~6.3M occurrences, 30 days, 200 namespaces).
//
//   ./dev bench grafana [--dir /tmp/kec-bench-grafana] [--events 1000000] [--runs 7] [--regen] [--range 6h]
//
// Prints per query p50/p99/max wall time and the median CPU time of this process (chdb runs in process), rows
// returned, then the slowest panel of each dashboard. The first run of each query is a warm-up and not counted.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { VariableValue } from '../deploy/test/macros.ts';
import { allQueries, type DashboardQuery, expandQuery, variableNames } from '../deploy/test/panels.ts';
import { DEFAULT_SHAPE, openBenchStore } from './api-store.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/kec-bench-grafana' },
    events: { type: 'string', default: String(DEFAULT_SHAPE.events) },
    runs: { type: 'string', default: '7' },
    range: { type: 'string', default: '6h' },
    regen: { type: 'boolean', default: false },
  },
});
const log = (s: string) => process.stdout.write(`${s}\n`);
const runs = Number(values.runs);
const rangeMs = (() => {
  const m = /^(\d+)([mhd])$/.exec(values.range);
  if (!m) throw new Error(`--range: like 6h, 30m, 7d (got ${values.range})`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm'];
})();

const { store, end } = await openBenchStore(
  values.dir,
  { ...DEFAULT_SHAPE, events: Number(values.events) },
  values.regen,
  log,
);
const toMs = end;
const fromMs = end - rangeMs;
const [facts] = await store.query<{ e: number; o: number; i: number }>(
  `SELECT (SELECT count() FROM kec.events) AS e, (SELECT count() FROM kec.occurrences) AS o,
          (SELECT count() FROM kec.incidents) AS i`,
);
log(
  `store: ${facts?.e} events, ${facts?.o} occurrence rows, ${facts?.i} incidents; range ${values.range} ending ${new Date(end).toISOString()}`,
);

interface Measured {
  q: DashboardQuery;
  wall: number[];
  cpu: number[];
  rows: Record<string, unknown>[];
}

async function measure(q: DashboardQuery, vars: Record<string, VariableValue>): Promise<Measured> {
  const sql = expandQuery(q, fromMs, toMs, vars);
  const m: Measured = { q, wall: [], cpu: [], rows: [] };
  for (let i = 0; i <= runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const rows = await store.query(sql);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i === 0) continue; // warm-up
    m.wall.push(wall);
    m.cpu.push((c.user + c.system) / 1000);
    m.rows = rows;
  }
  return m;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p + 0.5))] ?? 0;
};

log(
  `\nload average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${cpus().length} cores; ${runs} runs per query after one warm-up`,
);
log(
  `${'dashboard / query'.padEnd(58)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}${'cpu p50'.padStart(9)}${'rows'.padStart(7)}`,
);
const slowest: Measured[] = [];
for (const [uid, d, queries] of allQueries()) {
  // Variables in order, each query seeing the ones before it; multi-value ones All.
  const vars: Record<string, VariableValue> = {};
  let object: Record<string, string> | undefined;
  if (uid === 'kec-object') {
    [object] = await store.query<Record<string, string>>(
      `SELECT cluster, namespace, regarding_kind AS kind, regarding_name AS object FROM kec.occurrences
       WHERE regarding_kind = 'Pod' AND namespace = 'ns-000'
         AND time >= fromUnixTimestamp64Milli(${fromMs}) AND time <= fromUnixTimestamp64Milli(${toMs})
       GROUP BY cluster, namespace, kind, object ORDER BY count() DESC, object LIMIT 1`,
    );
  }
  const measured: Measured[] = [];
  for (const v of variableNames(d)) {
    const q = queries.find((x) => x.title === `var ${v.name}`);
    if (!q) continue;
    const m = await measure(q, vars);
    measured.push(m);
    const col = Object.keys(m.rows[0] ?? {})[0] ?? '';
    const options = m.rows.map((r) => String(r[col]));
    const chosen = object?.[v.name];
    vars[v.name] = v.multi
      ? { value: ['$__all'], options, multi: true }
      : { value: [chosen ?? options[0] ?? ''], options, multi: false };
  }
  for (const q of queries.filter((x) => x.kind !== 'variable')) measured.push(await measure(q, vars));
  log(`${d.title}${object ? ` (${object.namespace}/${object.object})` : ''}`);
  for (const m of measured) {
    log(
      `  ${`${m.q.kind === 'panel' ? '' : '('}${m.q.title}${m.q.kind === 'panel' ? '' : ')'}`.padEnd(56)}${pct(m.wall, 0.5).toFixed(0).padStart(8)}${pct(m.wall, 0.99).toFixed(0).padStart(8)}${Math.max(
        ...m.wall,
      )
        .toFixed(0)
        .padStart(8)}${pct(m.cpu, 0.5).toFixed(0).padStart(9)}${String(m.rows.length).padStart(7)}`,
    );
  }
  const panels = measured.filter((m) => m.q.kind === 'panel');
  const worst = panels.reduce((a, b) => (pct(b.wall, 0.5) > pct(a.wall, 0.5) ? b : a));
  slowest.push(worst);
}
log('\nslowest panel per dashboard (p50 / p99 wall ms):');
for (const m of slowest) {
  log(
    `  ${m.q.dashboard.padEnd(16)}${m.q.title.padEnd(40)}${pct(m.wall, 0.5).toFixed(0).padStart(7)}${pct(m.wall, 0.99).toFixed(0).padStart(7)}`,
  );
}
log(
  `load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
await store.close();
