// Writer benchmark: rows/s into the embedded store (chdb) and bytes per stored occurrence after merges, on a
// realistic mix: kube-sim's scenario driver plays every scenario plus background noise; a watch on kube-sim captures
// every observation (ADDED/MODIFIED/DELETED) as the watcher would, @kec/model normalizes it, the replay rule gives
// each observation its new occurrences (as the correlator does), and a simple stand-in adds enrichment and
// classification (workload from the pod name, severity from the type). The writer's own mapping and batching
// (eventBatchRows, 5,000 rows per batch, one insert per table) then writes into chdb.
//
// `--flood N` adds N distinct Events of count 1 (copies of the mix's Pod observations under new uids and names), the
// shape of bench e2e's sustained phase, where every Event object is one wide `events` row.
//
//   ./dev bench writer [--minutes 30] [--rate 50] [--batch 5000] [--replay 0.1] [--flood 0]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenarios, startKubeSim } from '@kec/kube-sim';
import { isNewerObservation, type KecEvent, normalizeEvent } from '@kec/model';
import { ChdbStore, migrate } from '@kec/store';
import { eventBatchRows, type KecEventsPayload } from '@kec/writer';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '50' },
    batch: { type: 'string', default: '5000' },
    replay: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '7' },
    flood: { type: 'string', default: '0' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const batchSize = Number(values.batch);
const replayShare = Number(values.replay);

// --- 1. play the scenarios against kube-sim and capture every observation through a watch ---------------------
const sim = await startKubeSim({ port: 0, historyMaxEvents: 2_000_000 });
const observations: KecEvent[] = [];
const ac = new AbortController();
const watchFrom = sim.resourceVersion();
const watching = (async () => {
  const res = await fetch(
    `${sim.url}/api/v1/events?watch=1&allowWatchBookmarks=false&resourceVersion=${watchFrom}&timeoutSeconds=3600`,
    {
      headers: { authorization: `Bearer ${sim.token}` },
      signal: ac.signal,
    },
  );
  if (!res.body) throw new Error('no watch body');
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (!line.trim()) continue;
        const frame = JSON.parse(line) as { type: string; object: unknown };
        if (frame.type === 'ADDED' || frame.type === 'MODIFIED' || frame.type === 'DELETED') {
          observations.push(normalizeEvent(frame.object, { cluster: 'bench', watchType: frame.type }));
        }
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
})();
const t0 = performance.now();
const run = await runScenarios({
  sim,
  scenarios: 'all',
  rate,
  durationMs: minutes * 60_000,
  speed: Number.POSITIVE_INFINITY,
  seed: values.seed,
  repeat: true,
});
const target = sim.resourceVersion();
// wait until the watch delivered everything written (its last frame's RV reaches the server's)
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  const last = observations.at(-1);
  if (last && BigInt(last.resourceVersion) >= BigInt(target)) break;
  await new Promise((r) => setTimeout(r, 100));
}
ac.abort();
await watching.catch(() => {});
await sim.close();
const playSeconds = (performance.now() - t0) / 1000;

// --- 2. the correlator's replay rule and a stand-in enrichment/classification ------------------------------------
const last = new Map<string, KecEvent>();
const payloads: KecEventsPayload[] = observations.map((ev) => {
  const prev = last.get(ev.uid);
  let occurrences = 0;
  if (ev.watchType !== 'DELETED' && isNewerObservation(prev, ev))
    occurrences = Math.max(0, ev.count - (prev?.count ?? 0));
  if (isNewerObservation(prev, ev)) last.set(ev.uid, ev);
  const pod = ev.regarding.kind === 'Pod' ? ev.regarding.name : '';
  const workload = pod ? pod.replace(/-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{8,10}$/, '') : ev.regarding.name;
  return {
    ...ev,
    schema: 'kec.events/v1',
    enrichment: {
      status: 'hit',
      object: { labels: { app: workload, 'pod-template-hash': 'abc123' }, annotations: {}, deleted: false },
      workload: { kind: pod ? 'Deployment' : ev.regarding.kind, name: workload },
      node: { name: ev.deprecatedSource.host || 'ip-10-0-1-1', zone: 'eu-west-1a' },
      namespaceLabels: { team: 'shop', environment: 'prod' },
    },
    classification: {
      severity: ev.type === 'Warning' ? 'warning' : 'info',
      category: 'other',
      actionable: ev.type === 'Warning',
      ruleId: `r-${ev.reason}`,
      rulesetVersion: '1',
      fields: {},
    },
    fingerprint: { id: ev.reason, template: ev.note.replace(/[0-9a-f-]{5,}/g, '<id>') },
    occurrences,
    incidentId: null,
  } as KecEventsPayload;
});
// --flood: distinct Events of count 1 each, observed once (bench e2e's flood)
const podObservations = payloads.filter((p) => p.regarding.kind === 'Pod' && p.watchType !== 'DELETED');
const floodN = Number(values.flood);
let floodRv = 10n ** 12n;
for (let i = 0; i < floodN && podObservations.length > 0; i++) {
  const t = podObservations[(i * 7919) % podObservations.length] as KecEventsPayload;
  const hex = i.toString(16).padStart(12, '0');
  payloads.push({
    ...t,
    uid: `f100d000-0000-4000-8000-${hex}`,
    name: `${t.regarding.name}.flood${hex}`,
    resourceVersion: String(floodRv++),
    watchType: 'ADDED',
    count: 1,
    occurrences: 1,
  });
}
// a share of the observations is delivered again in other batches (redeliveries after a crash)
const replayed = payloads.filter((_, i) => i % Math.max(1, Math.round(1 / replayShare)) === 0);
const stream = replayShare > 0 ? [...payloads, ...replayed] : payloads;
const expected = payloads.reduce((s, p) => s + (p.occurrences ?? 0), 0);

// --- 3. write into chdb with the writer's batching -------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'kec-bench-writer-'));
const store = await ChdbStore.open({ dataDir: dir });
await migrate(store, { retention: { eventsDays: 3650, occurrencesDays: 3650, rollupDays: 3650 } });
/** CPU seconds (utime + stime) per thread name of this process: the engine's threads are named by ClickHouse. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
const rssMB = () => {
  const st = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
};
const threads0 = threadCpu();
const cpu0 = process.cpuUsage();
const w0 = performance.now();
let jsRowsMs = 0;
for (let i = 0; i < stream.length; i += batchSize) {
  const r0 = performance.now();
  const { events, occurrences } = eventBatchRows(stream.slice(i, i + batchSize));
  jsRowsMs += performance.now() - r0;
  await store.insert('events', events, { token: `e${i}` });
  await store.insert('occurrences', occurrences, { token: `o${i}` });
}
const writeSeconds = (performance.now() - w0) / 1000;
// Background merges of what was just written belong to the write path too: wait until none runs (bounded).
const settle0 = performance.now();
while (performance.now() - settle0 < 60_000) {
  const [m] = await store.query<{ n: number }>('SELECT count() AS n FROM system.merges');
  if (Number(m?.n) === 0) break;
  await new Promise((r) => setTimeout(r, 200));
}
const engineMem = await store.query<{ metric: string; v: number }>(
  // chdb has no system.asynchronous_metrics (jemalloc's figures): the engine's tracked memory only
  `SELECT metric, value / 1048576 AS v FROM system.metrics WHERE metric IN ('MemoryTracking', 'MergesMutationsMemoryTracking')`,
);
const cpu1 = process.cpuUsage(cpu0);
const writeCpuS = (cpu1.user + cpu1.system) / 1e6;
const threads1 = threadCpu();
const rssAfterWrite = rssMB();

// What bench e2e's completion poll (e2e/src/verify.ts waitForStore, once a second) costs the process holding the
// store, on this store before OPTIMIZE: five polls.
const poll0 = process.cpuUsage();
for (let i = 0; i < 5; i++) {
  await store.query('SELECT count() AS n, sum(count) AS s FROM kec.events FINAL WHERE NOT (0)');
  await store.query(
    'SELECT sum(occurrences) AS o FROM kec.occurrences FINAL WHERE (cluster, uid) IN (SELECT cluster, uid FROM kec.events FINAL WHERE NOT (0))',
  );
}
const poll1 = process.cpuUsage(poll0);
const pollCpuS = (poll1.user + poll1.system) / 1e6 / 5;
const q = async <T>(sql: string) => (await store.query<T>(sql))[0] as T;
for (const t of ['events', 'occurrences', 'events_per_minute_state'])
  await store.command(`OPTIMIZE TABLE kec.${t} FINAL`);
const sizes = await store.query<{ table: string; rows: number; bytes: number; raw: number }>(
  `SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS bytes, sum(data_uncompressed_bytes) AS raw
   FROM system.parts WHERE database = 'kec' AND active GROUP BY table ORDER BY table`,
);
const c = await q<{ occ: number; sum: number; rollup: number; events: number }>(
  `SELECT (SELECT count() FROM kec.occurrences FINAL) AS occ, (SELECT sum(occurrences) FROM kec.occurrences FINAL) AS sum,
          (SELECT sum(occurrences) FROM kec.events_per_minute) AS rollup, (SELECT count() FROM kec.events FINAL) AS events`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });

const size = (t: string) => sizes.find((s) => s.table === t);
const occ = size('occurrences');
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const out = (s: string) => process.stdout.write(`${s}\n`);
out(
  `mix: kube-sim scenario driver, all scenarios + noise, ${minutes} virtual min at ${rate}/s, seed ${values.seed}: ${fmt(run.stats.creates + run.stats.patches)} event writes (creates + patches) in ${fmt(playSeconds)} s`,
);
out(
  `observations: ${fmt(payloads.length)} (${fmt(last.size + floodN)} Event objects, ${fmt(expected)} occurrences), +${fmt(replayed.length)} replayed = ${fmt(stream.length)} rows written`,
);
out(
  `write: ${fmt(stream.length / writeSeconds)} observations/s into chdb (batch ${batchSize}; events + occurrences + rollup MV), ${fmt(writeSeconds)} s`,
);
out(
  `write CPU (process, engine threads included, merges settled): ${fmt(writeCpuS)} s = ${((1000 * writeCpuS) / stream.length).toFixed(3)} CPU s per 1,000 observations (row building in JS ${fmt(jsRowsMs / 1000)} s wall); RSS after the writes ${fmt(rssAfterWrite.rss)} MB, peak ${fmt(rssAfterWrite.hwm)} MB`,
);
out(
  `  engine memory after the writes (MB): ${engineMem
    .map((m) => `${m.metric} ${Number(m.v).toFixed(0)}`)
    .sort()
    .join(', ')}`,
);
out(
  `  by thread: ${[...threads1]
    .map(([n, c]) => [n, c - (threads0.get(n) ?? 0)] as const)
    .filter(([, c]) => c >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([n, c]) => `${n} ${c.toFixed(2)}`)
    .join(', ')}`,
);
out(`  bench e2e's completion poll on this store: ${pollCpuS.toFixed(3)} CPU s each (mean of 5)`);
out(
  `check: occurrences FINAL ${fmt(c.occ)} rows, sum ${fmt(c.sum)} (expected ${fmt(expected)}), rollup sum ${fmt(c.rollup)}, events ${fmt(c.events)}`,
);
for (const s of sizes)
  out(
    `  ${s.table.padEnd(26)} ${fmt(s.rows).padStart(10)} rows ${fmt(s.bytes).padStart(12)} B compressed (${fmt(s.bytes / Math.max(1, s.rows))} B/row, raw ${fmt(s.raw)} B)`,
  );
if (occ) {
  const all = sizes.reduce((s, x) => s + x.bytes, 0);
  out(
    `bytes per stored occurrence row after OPTIMIZE FINAL: ${fmt(occ.bytes / occ.rows)} (occurrences table), ${fmt(all / occ.rows)} counting every kec table`,
  );
  out(
    `bytes per counted occurrence (${fmt(expected)}): ${fmt(occ.bytes / expected)} (occurrences table), ${fmt(all / expected)} (every table)`,
  );
}
