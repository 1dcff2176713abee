// Every ClickHouse query of the dashboards (panels, variables, annotations), its macros and variables expanded by the
// test implementation of the plugin (macros.ts), runs against the store the real pipeline filled from a kube-sim
// scenario: kube-sim in its own process, `kec run watcher enricher correlator writer sql` in one process (the
// pipeline over the shared NATS and Redis, the embedded store), every scenario played on kube-sim's fast clock for
// 15 virtual minutes. Then kube-sim compacts its watch history so the watcher meets a 410 and records a gap. Once the store equals the
// ground truth and the correlator resolved incidents, kec drains and the test opens the store and runs each query:
// it must return the columns its panel format needs (`time` for time series; `timestamp`, `body`, `level` for logs;
// `time` and `text` for annotations) and rows where the scenario must give some (CHECKS in dashboards.ts).
// Each multi-value query runs twice: every variable All (1=1), then each set to one of its options (IN (...)).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Dashboard } from '@grafana/schema';
import {
  cleanup,
  type Isolation,
  type KecProc,
  kecEnv,
  newIsolation,
  type SimProc,
  sql,
  startKec,
  startSimProcess,
  waitFor,
} from '@kec/e2e';
import { runScenarios } from '@kec/kube-sim';
import { openStore, type Store } from '@kec/store';
import type { VariableValue } from './macros.ts';
import { allQueries, type DashboardQuery, expandQuery, requiredColumns, variableNames } from './panels.ts';

let iso: Isolation;
let sim: SimProc | undefined;
let kec: KecProc | undefined;
let store: Store | undefined;
let fromMs = 0;
let toMs = 0;

async function simPost(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${sim!.url.replace(/\/$/, '')}/_sim/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`kube-sim ${path}: HTTP ${r.status}`);
}

before(async () => {
  iso = newIsolation();
  sim = await startSimProcess(['--scenario', 'none']);
  const env = kecEnv(iso, sim.kubeconfig, {
    KEC_WRITER_BATCH_WAIT_MS: '200',
    // Incidents quiet for a minute resolve at the next sweep (every second): the scenario ends with both states.
    KEC_CORRELATOR_QUIET_MS: '60000',
    KEC_CORRELATOR_SWEEP_INTERVAL_MS: '1000',
    KEC_SQL_MAX_ROWS: '1000000',
  });
  kec = await startKec('kec', ['watcher', 'enricher', 'correlator', 'writer', 'sql'], env);
  await waitFor(
    'kec ready',
    async () => (await fetch(`http://127.0.0.1:${kec!.metricsPort}/readyz`).catch(() => undefined))?.ok,
    90_000,
  );
  const t0 = Date.now();
  const { groundTruth: gt } = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: 2,
    durationMs: 15 * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 3,
    repeat: false,
    concurrency: 8,
  });
  const want = Object.keys(gt.events).length;
  const port = kec.sqlPort;
  await waitFor(
    `the store to hold the scenario's ${want} Event objects`,
    async () => Number((await sql<{ n: number }>(port, 'SELECT count() AS n FROM kec.events FINAL'))[0]?.n) >= want,
    60_000,
    500,
  );
  // A gap: kube-sim drops its watch history and ends every watch (the silent compaction), so the watcher resumes
  // from an RV that is gone, gets a 410, relists and records the window it could not replay.
  await waitFor(
    'a gap row',
    async () => {
      await simPost('compact-silently', {});
      return Number((await sql<{ n: number }>(port, 'SELECT count() AS n FROM kec.gaps'))[0]?.n) > 0;
    },
    30_000,
    1000,
  );
  await waitFor(
    'a resolved incident',
    async () =>
      Number(
        (await sql<{ n: number }>(port, "SELECT count() AS n FROM kec.incidents WHERE state = 'resolved'"))[0]?.n,
      ) > 0,
    30_000,
    500,
  );
  assert.equal(await kec.stop('SIGTERM', 30_000), 0, `kec drained: ${kec.output.slice(-2000)}`);
  store = await openStore({ dataDir: iso.dataDir });
  // The default dashboard range, now-1h to now: the scenario's virtual time ends when it started playing.
  toMs = Date.now();
  fromMs = Math.min(t0, toMs) - 60 * 60_000;
});

after(async () => {
  await store?.close().catch(() => undefined);
  await kec?.stop('SIGKILL').catch(() => undefined);
  await sim?.stop('SIGTERM');
  if (iso) await cleanup(iso);
});

interface Result {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

async function run(q: DashboardQuery, variables: Record<string, VariableValue>): Promise<Result> {
  const expanded = expandQuery(q, fromMs, toMs, variables);
  try {
    const columns = await store!.query<{ name: string; type: string }>(`DESCRIBE (${expanded})`);
    const rows = await store!.query(expanded);
    return { columns, rows };
  } catch (err) {
    throw new Error(`${q.dashboard}/${q.title}: ${(err as Error).message}\n${expanded}`);
  }
}

function checkResult(q: DashboardQuery, r: Result, needRows: boolean): void {
  const names = r.columns.map((c) => c.name);
  for (const col of requiredColumns(q)) {
    assert.ok(names.includes(col), `${q.dashboard}/${q.title}: column ${col} (has ${names.join(', ')})`);
  }
  const timeCols = q.kind === 'annotation' || q.format === 0 ? ['time'] : q.format === 2 ? ['timestamp'] : [];
  for (const col of timeCols) {
    const type = r.columns.find((c) => c.name === col)?.type ?? '';
    assert.match(type, /^(Nullable\()?DateTime/, `${q.dashboard}/${q.title}: ${col} is a time (${type})`);
  }
  if (needRows) assert.ok(r.rows.length > 0, `${q.dashboard}/${q.title}: rows expected from the scenario`);
}

/** Evaluates a dashboard's variables in order (each query sees the ones before it) with the given selections. */
async function resolveVariables(
  d: Dashboard,
  queries: DashboardQuery[],
  pick: (name: string, options: string[]) => string[] | undefined,
  needRows = true,
): Promise<Record<string, VariableValue>> {
  const vars: Record<string, VariableValue> = {};
  for (const v of variableNames(d)) {
    const q = queries.find((x) => x.title === `var ${v.name}`);
    if (!q) continue;
    const r = await run(q, vars);
    checkResult(q, r, needRows);
    const col = r.columns[0]!.name;
    const options = r.rows.map((row) => String(row[col]));
    const chosen = pick(v.name, options);
    if (v.multi) vars[v.name] = { value: chosen ?? ['$__all'], options, multi: true };
    else {
      const value = chosen ?? options.slice(0, 1);
      assert.ok(
        value.every((x) => options.includes(x)),
        `${q.dashboard}/${q.title}: offers ${value.join(',')}`,
      );
      vars[v.name] = { value, options, multi: false };
    }
  }
  return vars;
}

describe('grafana SQL against a pipeline-filled store', () => {
  for (const [uid, d, queries] of allQueries()) {
    test(`grafana sql - ${uid}: every query runs, has its format's columns, and rows where the scenario gives some`, async (t) => {
      let pick: (name: string) => string[] | undefined = () => undefined;
      if (uid === 'kec-object') {
        // The object: a Pod that is in an incident, so every panel of its history has rows.
        const [o] = await store!.query<Record<string, string>>(
          `SELECT cluster, namespace, regarding_kind AS kind, regarding_name AS object FROM kec.occurrences
           WHERE incident_id != '' AND regarding_kind = 'Pod' AND time >= fromUnixTimestamp64Milli(${fromMs})
           GROUP BY cluster, namespace, kind, object ORDER BY count() DESC, object LIMIT 1`,
        );
        assert.ok(o, 'the scenario has a Pod in an incident');
        pick = (name) => (o[name] === undefined ? undefined : [o[name] as string]);
      }
      const all = await resolveVariables(d, queries, pick);
      const counts: string[] = [];
      for (const q of queries.filter((x) => x.kind !== 'variable')) {
        const r = await run(q, all);
        checkResult(q, r, q.rows);
        counts.push(`${q.title} ${r.rows.length}`);
      }
      t.diagnostic(`rows with every variable All (${new Date(fromMs).toISOString()} .. now): ${counts.join('; ')}`);
      // One value of each multi-value variable: the IN (...) side of $__conditionalAll.
      if (Object.values(all).some((v) => v.multi)) {
        const one = await resolveVariables(
          d,
          queries,
          (name, options) => (all[name]?.multi && options.length > 0 ? [options[0] as string] : pick(name)),
          false,
        );
        for (const q of queries.filter((x) => x.kind !== 'variable')) checkResult(q, await run(q, one), false);
      }
    });
  }
});
