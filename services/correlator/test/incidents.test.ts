// Incidents against the real Redis: grouping by object/workload/node, the cause-effect rules, order independence of
// the root cause, redelivery, and resolution after the quiet period.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnrichedEvent } from '@kec/cache';
import type { Correlator, Output } from '../src/index.ts';
import { correlatorFactory, ev } from './helpers.ts';

const correlator = correlatorFactory();

async function runAll(c: Correlator, events: EnrichedEvent[]): Promise<Output[]> {
  const out: Output[] = [];
  for (const e of events) out.push(await c.process(e));
  return out;
}

const NODE = 'ip-10-0-1-23.eu-west-1.compute.internal';
const WEB = { kind: 'Deployment', name: 'web' };

function nodeFailure(): EnrichedEvent[] {
  return [
    ev({
      reason: 'NodeHasInsufficientMemory',
      type: 'Normal',
      kind: 'Node',
      name: NODE,
      note: `Node ${NODE} status is now: NodeHasInsufficientMemory`,
      at: '2026-11-22T06:00:00Z',
      node: NODE,
    }),
    ev({
      reason: 'EvictionThresholdMet',
      kind: 'Node',
      name: NODE,
      note: 'Attempting to reclaim memory',
      at: '2026-11-22T06:00:10Z',
      node: NODE,
    }),
    ev({
      reason: 'Evicted',
      name: 'web-7d9f8c6b5d-x2k4p',
      note: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91264Ki. Container web was using 1709404Ki, request is 512Mi, has larger consumption of memory. ',
      at: '2026-11-22T06:00:20Z',
      node: NODE,
      workload: WEB,
    }),
    ev({
      reason: 'Killing',
      type: 'Normal',
      name: 'web-7d9f8c6b5d-x2k4p',
      note: 'Stopping container web',
      at: '2026-11-22T06:00:21Z',
      node: NODE,
      workload: WEB,
    }),
    ev({
      reason: 'NodeNotReady',
      type: 'Normal',
      kind: 'Node',
      name: NODE,
      component: 'node-controller',
      note: `Node ${NODE} status is now: NodeNotReady`,
      at: '2026-11-22T06:01:00Z',
      node: NODE,
    }),
    ev({
      reason: 'NodeNotReady',
      name: 'api-0',
      component: 'node-controller',
      note: 'Node is not ready',
      at: '2026-11-22T06:01:05Z',
      node: NODE,
      workload: { kind: 'StatefulSet', name: 'api' },
    }),
    ev({
      reason: 'TaintManagerEviction',
      type: 'Normal',
      name: 'api-0',
      component: 'taint-eviction-controller',
      note: 'Marking for deletion Pod shop/api-0',
      at: '2026-11-22T06:06:05Z',
      node: NODE,
      workload: { kind: 'StatefulSet', name: 'api' },
    }),
  ];
}

test('incidents - node pressure: evictions and NotReady of pods on the node join the node incident; root cause is the pressure', async () => {
  const out = await runAll(correlator(), nodeFailure());
  const ids = new Set(out.map((o) => o.event.incidentId));
  assert.equal(ids.size, 1, JSON.stringify(out.map((o) => [o.event.reason, o.event.incidentId])));
  assert.ok(out[0]?.event.incidentId);
  const last = out.at(-1)?.incident;
  assert.equal(last?.rootCause?.reason, 'NodeHasInsufficientMemory');
  assert.equal(last?.rootCause?.object, `Node/${NODE}`);
  assert.equal(last?.eventCount, 7);
  assert.equal(last?.severity, 'critical');
  assert.equal(last?.category, 'node');
  assert.ok(last?.affected.includes('Pod/shop/api-0'));
  assert.match(last?.title ?? '', /^NodeHasInsufficientMemory on Node/);
});

test('incidents - the root cause does not depend on arrival order', async () => {
  const out = await runAll(correlator(), nodeFailure().reverse());
  const ids = new Set(out.map((o) => o.event.incidentId).filter(Boolean));
  assert.equal(ids.size, 1);
  const byVersion = out
    .map((o) => o.incident)
    .filter((i) => i !== null)
    .sort((a, b) => b.version - a.version)[0];
  assert.equal(byVersion?.rootCause?.reason, 'NodeHasInsufficientMemory');
});

test('incidents - FailedScheduling -> TriggeredScaleUp; FailedMount -> containers not starting; separate pods stay separate', async () => {
  const c = correlator();
  const out = await runAll(c, [
    ev({
      reason: 'FailedScheduling',
      name: 'web-7d9f8c6b5d-q9z7m',
      component: 'default-scheduler',
      note: '0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.',
      workload: WEB,
    }),
    ev({
      reason: 'TriggeredScaleUp',
      type: 'Normal',
      name: 'web-7d9f8c6b5d-q9z7m',
      component: 'cluster-autoscaler',
      note: 'pod triggered scale-up: [{general 6->7 (max: 10)}]',
      at: '2026-11-22T06:00:05Z',
      workload: WEB,
    }),
    ev({
      reason: 'FailedMount',
      name: 'db-0',
      note: 'MountVolume.SetUp failed for volume "config" : configmap "db-config" not found',
      workload: { kind: 'StatefulSet', name: 'db' },
    }),
    ev({
      reason: 'Failed',
      name: 'db-0',
      note: 'Error: failed to start container "db": context deadline exceeded',
      at: '2026-11-22T06:02:00Z',
      workload: { kind: 'StatefulSet', name: 'db' },
    }),
  ]);
  const [fs, tsu, fm, failed] = out.map((o) => o.event.incidentId);
  assert.ok(fs && fm);
  assert.equal(tsu, fs);
  assert.equal(failed, fm);
  assert.notEqual(fs, fm);
  assert.equal(out[1]?.incident?.rootCause?.reason, 'FailedScheduling');
  assert.equal(out[3]?.incident?.rootCause?.reason, 'FailedMount');
});

test("incidents - image pull failures across a workload's pods are one incident; earliest pull failure is the root", async () => {
  const img = 'registry.example.com/shop/web:v2.1.9';
  const pull = (pod: string, at: string) =>
    ev({
      reason: 'Failed',
      name: pod,
      note: `Failed to pull image "${img}": rpc error: code = NotFound desc = not found`,
      at,
      workload: WEB,
    });
  const out = await runAll(correlator(), [
    ev({
      reason: 'BackOff',
      type: 'Normal',
      name: 'web-6c8b9d7f5c-b2v4n',
      note: `Back-off pulling image "${img}"`,
      at: '2026-11-22T06:00:30Z',
      workload: WEB,
    }),
    pull('web-6c8b9d7f5c-b2v4n', '2026-11-22T06:00:10Z'),
    pull('web-6c8b9d7f5c-z7x8c', '2026-11-22T06:00:12Z'),
  ]);
  assert.equal(new Set(out.map((o) => o.event.incidentId)).size, 1);
  const inc = out[2]?.incident;
  assert.equal(inc?.rootCause?.reason, 'Failed');
  assert.equal(inc?.rootCause?.object, 'Pod/shop/web-6c8b9d7f5c-b2v4n');
  assert.equal(inc?.affected.length, 2);
  assert.equal(out[1]?.event.classification.fields?.image, img);
});

test('incidents - join-only events without an open incident carry null; none never join', async () => {
  const out = await runAll(correlator(), [
    ev({
      reason: 'Pulled',
      type: 'Normal',
      name: 'cron-1-abcde',
      note: 'Container image "busybox:1.36" already present on machine',
    }),
  ]);
  assert.equal(out[0]?.event.incidentId, null);
  assert.equal(out[0]?.incident, null);
});

test('incidents - a redelivered observation changes nothing and gets the same answers', async () => {
  const c = correlator();
  const e1 = ev({
    uid: 'boom',
    rv: 10,
    count: 1,
    reason: 'BackOff',
    name: 'web-7d9f8c6b5d-x2k4p',
    note: 'Back-off restarting failed container web in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
    workload: WEB,
  });
  const e2 = { ...e1, resourceVersion: '12', count: 4, watchType: 'MODIFIED' as const };
  const a = await c.process(e1);
  const b = await c.process(e2);
  const again = await c.process(e2);
  const old = await c.process(e1);
  assert.equal(a.event.occurrences, 1);
  assert.equal(b.event.occurrences, 3);
  assert.equal(again.event.occurrences, 3);
  assert.equal(old.event.occurrences, 1);
  assert.equal(again.incident?.version, b.incident?.version);
  assert.equal(again.incident?.occurrenceCount, 4);
  assert.equal(again.incident?.eventCount, 1);
});

test('incidents - quiet incidents resolve once; a later event opens a new incident', async () => {
  const c = correlator();
  const a = await c.process(
    ev({
      reason: 'FailedGetResourceMetric',
      kind: 'HorizontalPodAutoscaler',
      name: 'web',
      component: 'horizontal-pod-autoscaler',
      note: 'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
      at: '2026-11-22T06:00:00Z',
    }),
  );
  const id = a.event.incidentId;
  assert.ok(id);
  const cutoff = Date.parse('2026-11-22T06:05:00Z');
  assert.deepEqual(await c.o.state.quiet(cutoff), [id]);
  const [r1, r2] = await Promise.all([c.o.state.resolve(id, cutoff), c.o.state.resolve(id, cutoff)]);
  assert.ok((r1 === null) !== (r2 === null), 'exactly one resolver');
  assert.equal((r1 ?? r2)?.state, 'resolved');
  const b = await c.process(
    ev({
      reason: 'FailedGetResourceMetric',
      kind: 'HorizontalPodAutoscaler',
      name: 'web',
      component: 'horizontal-pod-autoscaler',
      note: 'failed to get cpu utilization',
      at: '2026-11-22T06:20:00Z',
    }),
  );
  assert.ok(b.event.incidentId);
  assert.notEqual(b.event.incidentId, id);
});

test('patterns - first-seen once per namespace/workload and fingerprint; a storm above the baseline', async () => {
  const c = correlator();
  const mk = (i: number) =>
    ev({
      reason: 'BackOff',
      name: `web-7d9f8c6b5d-x2k${i % 10}p`,
      note: `Back-off restarting failed container web in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a1${i % 10})`,
      at: `2026-11-22T06:00:${String(10 + i).padStart(2, '0')}Z`,
      workload: WEB,
    });
  const out = await runAll(
    c,
    Array.from({ length: 8 }, (_, i) => mk(i)),
  );
  const kinds = out.flatMap((o) => o.patterns.map((p) => p.payload.kind));
  assert.equal(kinds.filter((k) => k === 'first-seen').length, 1);
  assert.ok(kinds.includes('storm'), JSON.stringify(kinds));
  const storm = out.flatMap((o) => o.patterns).find((p) => p.payload.kind === 'storm');
  assert.equal(storm?.payload.baseline, 0);
  assert.ok((storm?.payload.rate ?? 0) >= 5);
});

test('incidents - causal keys: a scale-back 20 min later reverses its HPA scale-out; a rollout and kernel findings at the same time stay apart', async () => {
  const c = correlator();
  const hpa = (note: string, at: string) =>
    ev({
      reason: 'SuccessfulRescale',
      type: 'Normal',
      kind: 'HorizontalPodAutoscaler',
      component: 'horizontal-pod-autoscaler',
      name: 'web',
      note,
      at,
    });
  const scaled = (note: string, at: string) =>
    ev({
      reason: 'ScalingReplicaSet',
      type: 'Normal',
      kind: 'Deployment',
      component: 'deployment-controller',
      name: 'web',
      note,
      at,
      workload: WEB,
    });
  const rs = (reason: string, name: string, note: string, at: string) =>
    ev({
      reason,
      type: 'Normal',
      kind: 'ReplicaSet',
      component: 'replicaset-controller',
      name,
      note,
      at,
      workload: WEB,
    });
  const out = await runAll(c, [
    hpa('New size: 5; reason: cpu resource utilization (percentage of request) above target', '2026-11-22T06:00:00Z'),
    scaled('Scaled up replica set web-7d9f8c6b5d from 3 to 5', '2026-11-22T06:00:01Z'),
    rs('SuccessfulCreate', 'web-7d9f8c6b5d', 'Created pod: web-7d9f8c6b5d-a1b2c', '2026-11-22T06:00:01Z'),
    // 20 minutes later (beyond the 15 min window): the load drops, the HPA scales back
    hpa('New size: 3; reason: All metrics below target', '2026-11-22T06:20:00Z'),
    scaled('Scaled down replica set web-7d9f8c6b5d from 5 to 3', '2026-11-22T06:20:01Z'),
    rs('SuccessfulDelete', 'web-7d9f8c6b5d', 'Deleted pod: web-7d9f8c6b5d-a1b2c', '2026-11-22T06:20:01Z'),
    ev({
      reason: 'Killing',
      type: 'Normal',
      name: 'web-7d9f8c6b5d-a1b2c',
      note: 'Stopping container web',
      at: '2026-11-22T06:20:01Z',
      workload: WEB,
    }),
    // a rollout of the same Deployment five minutes later: another change, another incident
    scaled('Scaled up replica set web-6c8b9f7d4a from 0 to 1', '2026-11-22T06:25:00Z'),
    rs('SuccessfulCreate', 'web-6c8b9f7d4a', 'Created pod: web-6c8b9f7d4a-z9y8x', '2026-11-22T06:25:00Z'),
    scaled('Scaled down replica set web-7d9f8c6b5d from 3 to 2', '2026-11-22T06:25:20Z'),
    rs('SuccessfulDelete', 'web-7d9f8c6b5d', 'Deleted pod: web-7d9f8c6b5d-q9z7m', '2026-11-22T06:25:20Z'),
  ]);
  const ids = out.map((o) => o.event.incidentId);
  const hpaIncident = ids[0];
  assert.ok(hpaIncident);
  assert.deepEqual(
    ids.slice(0, 7),
    Array(7).fill(hpaIncident),
    JSON.stringify(out.map((o) => [o.event.reason, o.event.incidentId])),
  );
  const rollout = ids[7];
  assert.ok(rollout && rollout !== hpaIncident);
  assert.deepEqual(ids.slice(7), Array(4).fill(rollout));
  assert.equal(out[6]?.incident?.rootCause?.reason, 'SuccessfulRescale');

  // kernel findings on a node under memory pressure: node-problem-detector's own incident
  const node = (reason: string, note: string, at: string, component = 'kubelet') =>
    ev({ reason, note, at, component, kind: 'Node', name: NODE, node: NODE, type: 'Warning' });
  const k = await runAll(c, [
    node('NodeHasInsufficientMemory', `Node ${NODE} status is now: NodeHasInsufficientMemory`, '2026-11-22T07:00:00Z'),
    node(
      'TaskHung',
      'task containerd:1234 blocked for more than 120 seconds.',
      '2026-11-22T07:00:05Z',
      'kernel-monitor',
    ),
    node('EvictionThresholdMet', 'Attempting to reclaim memory', '2026-11-22T07:00:10Z'),
    node(
      'TaskHung',
      'task kworker/u16:2:77 blocked for more than 120 seconds.',
      '2026-11-22T07:01:05Z',
      'kernel-monitor',
    ),
  ]);
  const [pressure, kernel, eviction, kernel2] = k.map((o) => o.event.incidentId);
  assert.ok(pressure && kernel && pressure !== kernel);
  assert.equal(eviction, pressure);
  assert.equal(kernel2, kernel);
  assert.equal(k[3]?.incident?.rootCause?.reason, 'TaskHung');
});
