import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  GROUND_TRUTH_SCHEMA,
  type GroundTruth,
  KubeClient,
  type KubeSim,
  runScenarios,
  scenarioNames,
  startKubeSim,
} from '../../src/index.ts';

const START = Date.parse('2026-11-22T05:00:00Z');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

interface ListedEvent {
  metadata: { name: string; namespace: string; uid: string };
  reason: string;
  message?: string;
  count?: number;
  series?: { count: number };
}

async function listEvents(sim: KubeSim): Promise<ListedEvent[]> {
  const client = new KubeClient({ url: sim.url, token: sim.token });
  try {
    const list = (await client.must('GET', '/api/v1/events')) as { items: ListedEvent[] };
    return list.items;
  } finally {
    client.close();
  }
}

async function play(seed: number, gtPath?: string, inspect?: (sim: KubeSim, client: KubeClient) => Promise<void>) {
  const sim = await startKubeSim({ port: 0 });
  try {
    const result = await runScenarios({
      sim,
      scenarios: 'all',
      rate: 2,
      durationMs: 45 * 60_000,
      speed: Number.POSITIVE_INFINITY,
      startMs: START,
      seed,
      repeat: false,
      ...(gtPath ? { groundTruthPath: gtPath } : {}),
    });
    if (inspect) {
      const client = new KubeClient({ url: sim.url, token: sim.token });
      try {
        await inspect(sim, client);
      } finally {
        client.close();
      }
    }
    return { result, events: await listEvents(sim) };
  } finally {
    await sim.close();
  }
}

test('scenarios - every scenario runs; the ground truth names only events that exist, with their final counts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kec-gt-'));
  try {
    const gtPath = join(dir, 'gt.json');
    // Object state written by the scenarios (status subresource, strategic merge like kubelet).
    const { result, events } = await play(11, gtPath, async (_sim, client) => {
      const nodes = (await client.must('GET', '/api/v1/nodes')) as {
        items: { status: { conditions: { type: string; status: string }[] } }[];
      };
      const ready = nodes.items.map((n) => n.status.conditions.find((c) => c.type === 'Ready')?.status);
      assert.ok(
        ready.length >= 6 && ready.every((r) => r === 'True' || r === 'Unknown'),
        'nodes keep their conditions',
      );
      const pods = (await client.must('GET', '/api/v1/pods')) as {
        items: {
          status: {
            containerStatuses?: {
              restartCount: number;
              lastState?: { terminated?: { reason: string; exitCode: number } };
            }[];
          };
        }[];
      };
      const terminated = pods.items
        .flatMap((p) => p.status.containerStatuses ?? [])
        .map((c) => c.lastState?.terminated);
      assert.ok(
        terminated.some((t) => t?.reason === 'OOMKilled' && t.exitCode === 137),
        'an OOMKilled container',
      );
      assert.ok(
        terminated.some((t) => t?.reason === 'Error'),
        'a crash-looping container',
      );
    });
    assert.deepEqual(result.stats.scenarioErrors, []);
    assert.equal(result.stats.failed, 0, result.stats.lastError);
    const gt = JSON.parse(readFileSync(gtPath, 'utf8')) as GroundTruth;
    assert.equal(gt.schema, GROUND_TRUTH_SCHEMA);
    assert.deepEqual(
      new Set(gt.incidents.map((i) => i.scenario)),
      new Set(scenarioNames()),
      'one incident per scenario',
    );
    const byUid = new Map(events.map((e) => [e.metadata.uid, e]));
    for (const [uid, ge] of Object.entries(gt.events)) {
      const ev = byUid.get(uid);
      assert.ok(ev, `ground-truth event ${ge.namespace}/${ge.name} exists`);
      assert.equal(ev.metadata.name, ge.name);
      assert.equal(ev.reason, ge.reason);
      const count = ge.api === 'core/v1' ? ev.count : (ev.series?.count ?? 1);
      assert.equal(count, ge.count, `final count of ${ge.name} (${ge.reason})`);
    }
    assert.equal(Object.keys(gt.events).length, events.length, 'every event in the API is in the ground truth');
    for (const inc of gt.incidents) {
      assert.ok(inc.eventUids.length > 0, `${inc.id} has events`);
      for (const u of inc.eventUids) assert.equal(gt.events[u]?.incident, inc.id);
      assert.ok(inc.rootCause.reason && inc.rootCause.object.name, `${inc.id} has a root cause`);
      if (inc.rootCause.eventUid) assert.equal(gt.events[inc.rootCause.eventUid]?.reason, inc.rootCause.reason);
      assert.ok(inc.affectedObjects.length > 0);
    }
    for (const u of gt.noise) assert.equal(gt.events[u]?.incident, null);
    const nodeFailure = gt.incidents.find((i) => i.scenario === 'node-failure')!;
    const nfReasons = new Set(nodeFailure.eventUids.map((u) => gt.events[u]?.reason));
    for (const r of [
      'NodeHasInsufficientMemory',
      'Evicted',
      'NodeNotReady',
      'TaintManagerEviction',
      'SuccessfulCreate',
      'NodeReady',
    ])
      assert.ok(nfReasons.has(r), `node-failure writes ${r}`);
    // Real reasons and texts, both APIs.
    const reasons = new Set(Object.values(gt.events).map((e) => e.reason));
    for (const r of [
      'BackOff',
      'Failed',
      'FailedScheduling',
      'TriggeredScaleUp',
      'NotTriggerScaleUp',
      'NodeNotReady',
      'TaintManagerEviction',
      'Evicted',
      'FailedMount',
      'ScalingReplicaSet',
      'Unhealthy',
      'Killing',
      'NoPods',
      'BackoffLimitExceeded',
      'SuccessfulRescale',
      'FailedGetResourceMetric',
      'Scheduled',
      'Pulled',
      'Started',
    ])
      assert.ok(reasons.has(r), `reason ${r} written`);
    assert.ok(Object.values(gt.events).some((e) => e.api === 'events.k8s.io/v1'));
    const pdb = gt.incidents.find((i) => i.scenario === 'pdb-nopods')!;
    const noPods = gt.events[pdb.rootCause.eventUid!]!;
    assert.ok(noPods.count > 20_000, 'NoPods has been counting for days');
    const crash = events.find((e) => e.reason === 'BackOff' && (e.count ?? 0) > 1);
    assert.match(crash?.message ?? '', /^Back-off restarting failed container \S+ in pod \S+_\S+\([0-9a-f-]{36}\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scenarios - the same seed writes the same events', async () => {
  const norm = (evs: ListedEvent[]) =>
    evs
      .map(
        (e) =>
          `${e.metadata.namespace}/${e.metadata.name} ${e.reason} ${(e.message ?? '').replace(UUID, 'U')} ${e.count ?? e.series?.count ?? 1}`,
      )
      .sort();
  const a = await play(5);
  const b = await play(5);
  assert.ok(a.events.length > 100);
  assert.deepEqual(norm(a.events), norm(b.events));
  assert.deepEqual(
    a.result.groundTruth.incidents.map((i) => [i.id, i.title, i.events.length]),
    b.result.groundTruth.incidents.map((i) => [i.id, i.title, i.events.length]),
  );
});

test('scenarios - an endless real-time run stops on abort, drains its writes and still writes the ground truth', async () => {
  const sim = await startKubeSim({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'kec-gt-'));
  try {
    const ac = new AbortController();
    const gtPath = join(dir, 'gt.json');
    const run = runScenarios({
      sim,
      scenarios: ['crashloop'],
      rate: 200,
      durationMs: 0,
      speed: 1,
      seed: 3,
      groundTruthPath: gtPath,
      signal: ac.signal,
    });
    const deadline = Date.now() + 20_000;
    while ((sim.stats().objects['events'] ?? 0) < 100) {
      assert.ok(Date.now() < deadline, 'events are written at the requested rate');
      await new Promise((r) => setTimeout(r, 50));
    }
    ac.abort();
    const { groundTruth, stats } = await run;
    const gt = JSON.parse(readFileSync(gtPath, 'utf8')) as GroundTruth;
    assert.equal(gt.totals.eventObjects, groundTruth.totals.eventObjects);
    assert.equal(stats.failed, 0);
    const events = await listEvents(sim);
    assert.equal(events.length, groundTruth.totals.eventObjects, 'nothing written after the ground truth');
    assert.ok(groundTruth.incidents.some((i) => i.scenario === 'crashloop'));
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scenarios - overlap mode: incidents of different scenarios at the same time on the same node or workload', async () => {
  const sim = await startKubeSim({ port: 0 });
  try {
    const { groundTruth: gt, stats } = await runScenarios({
      sim,
      scenarios: 'all',
      rate: 1,
      durationMs: 40 * 60_000,
      speed: Number.POSITIVE_INFINITY,
      startMs: START,
      seed: 7,
      overlap: true,
    });
    assert.deepEqual(stats.scenarioErrors, []);
    const key = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;
    const shared: string[] = [];
    for (const a of gt.incidents)
      for (const b of gt.incidents) {
        if (a.id >= b.id || a.scenario === b.scenario) continue;
        const overlap =
          Date.parse(a.startedAt) < Date.parse(b.endedAt) && Date.parse(b.startedAt) < Date.parse(a.endedAt);
        const objs = new Set(a.affectedObjects.filter((o) => o.kind !== 'Pod').map(key));
        const both = b.affectedObjects.filter((o) => o.kind !== 'Pod' && objs.has(key(o)));
        if (overlap && both.length) shared.push(`${a.id} + ${b.id} on ${both.map(key).join(', ')}`);
      }
    assert.ok(shared.length >= 3, `overlapping incidents on shared nodes/workloads: ${shared.join('; ')}`);
  } finally {
    await sim.close();
  }
});
