// services/api on a store filled by the real pipeline: kube-sim's scenarios -> watcher -> enricher -> correlator ->
// writer (one process each; the writer's process also runs the sql service and the API on the embedded store).
// Once the store equals the ground truth, the routes must answer what the store holds: the full listing walked
// page by page, one object's timeline, the incident list and an incident's detail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runScenarios } from '@kec/kube-sim';
import { cleanup, type Isolation, newIsolation, type SimProc, sql, startSimProcess } from '../src/index.ts';
import { Pipeline } from '../src/pipeline.ts';
import { expectedTotals, waitForStore } from '../src/verify.ts';

let iso: Isolation;
let sim: SimProc;
let pipe: Pipeline;

before(async () => {
  iso = newIsolation();
  sim = await startSimProcess(['--scenario', 'none']);
  pipe = new Pipeline(iso, sim.kubeconfig, {
    watchers: 1,
    enrichers: 1,
    correlators: 1,
    withWriter: ['sql', 'api'],
    perService: { writer: { KEC_API_PORT: '0', KEC_API_ANONYMOUS: 'true' } },
  });
  await pipe.startAll();
});

after(async () => {
  await pipe?.stopAll().catch(() => undefined);
  await sim?.stop('SIGTERM');
  await cleanup(iso);
});

interface Item {
  uid: string;
  lastSeen: string;
  count: number;
  object: { kind: string; namespace: string; name: string };
  incidentId: string | null;
}

test('api on a pipeline-filled store - listings, a timeline and incident detail answer what the pipeline stored', async () => {
  const { groundTruth: gt } = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: 5,
    durationMs: 10 * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 11,
    concurrency: 8,
  });
  const want = expectedTotals(gt);
  const port = pipe.writer.sqlPort;
  await waitForStore(port, gt, 120_000);
  const m = /"url":"(http:\/\/[^"]+\/api\/v1)"[^\n]*"msg":"api listening"/.exec(pipe.writer.output);
  assert.ok(m, 'the API logged where it listens');
  const api = m[1] as string;
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${api}${path}`);
    assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
    return (await r.json()) as T;
  };
  // The driver's virtual clock runs ahead of the wall clock: ask up to a day from now.
  const until = encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString());

  // Every Event once, newest first, in its latest state, across pages.
  const items: Item[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Item[]; nextCursor: string | null } = await get(
      `/events?until=${until}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(items.length, want.events);
  assert.equal(new Set(items.map((i) => i.uid)).size, want.events, 'no Event twice');
  assert.equal(
    items.reduce((s, i) => s + i.count, 0),
    want.count,
  );
  for (let i = 1; i < items.length; i++) {
    assert.ok(items[i - 1]!.lastSeen >= items[i]!.lastSeen, 'newest first');
  }
  for (const i of items) assert.equal(i.count, gt.events[i.uid]?.count, `count of ${i.uid}`);

  // One object's timeline (not a workload's, which adds its pods): the busiest Warning object's observations and
  // new occurrences, as stored.
  const [busy] = await sql<{ kind: string; ns: string; name: string; obs: number; occ: number }>(
    port,
    `SELECT regarding_kind AS kind, namespace AS ns, regarding_name AS name, count() AS obs, sum(occurrences) AS occ
     FROM kec.occurrences FINAL
     WHERE type = 'Warning' AND namespace != ''
       AND regarding_kind NOT IN ('Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob')
     GROUP BY kind, ns, name ORDER BY obs DESC, name LIMIT 1`,
  );
  assert.ok(busy, 'a Warning object');
  const tl = await get<{ entries: { occurrences: number; time: string; reason: string }[]; truncated: boolean }>(
    `/timeline/${busy.kind}/${busy.ns}/${encodeURIComponent(busy.name)}?since=30d&until=${until}`,
  );
  assert.equal(tl.truncated, false);
  assert.equal(tl.entries.length, Number(busy.obs));
  assert.equal(
    tl.entries.reduce((s, e) => s + e.occurrences, 0),
    Number(busy.occ),
  );
  for (let i = 1; i < tl.entries.length; i++) assert.ok(tl.entries[i - 1]!.time <= tl.entries[i]!.time, 'oldest first');

  // Incidents: the list is the stored incidents; a detail's members are the Events that name it.
  const stored = await sql<{ id: string; root: string; events: number }>(
    port,
    `SELECT id, root_cause_event_uid AS root, event_count AS events FROM kec.incidents FINAL ORDER BY id`,
  );
  assert.ok(stored.length > 0, 'the scenarios opened incidents');
  const list = await get<{ items: { id: string }[] }>(`/incidents?since=30d&until=${until}&limit=1000`);
  assert.deepEqual(list.items.map((i) => i.id).sort(), stored.map((s) => s.id).sort());
  const biggest = [...stored].sort((a, b) => b.events - a.events || (a.id < b.id ? -1 : 1))[0]!;
  const detail = await get<{ incident: { id: string; rootCause: { eventUid: string } }; events: Item[] }>(
    `/incidents/${encodeURIComponent(biggest.id)}`,
  );
  assert.equal(detail.incident.rootCause.eventUid, biggest.root);
  const members = await sql<{ uid: string }>(
    port,
    `SELECT uid FROM kec.events FINAL WHERE incident_id = '${biggest.id.replaceAll("'", '')}' ORDER BY uid`,
  );
  assert.deepEqual(
    detail.events.map((e) => e.uid).sort(),
    members.map((r) => r.uid),
  );
  for (const e of detail.events) assert.equal(e.incidentId, biggest.id);
});
