import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleSet } from '@kec/rules';
import { creationOrder, incidentKeys, LONG, SHORT, scaledReplicaSet } from '../src/correlate.ts';
import { podStatusCause } from '../src/index.ts';
import { ev } from './helpers.ts';

const rules = RuleSet.load();
const backOff = (termination: { reason: string; exitCode: number }, waiting = 'CrashLoopBackOff') => {
  const e = ev({
    reason: 'BackOff',
    name: 'web-7d9f8c6b5d-x2k4p',
    note: 'Back-off restarting failed container app in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
  });
  e.enrichment.pod = {
    nodeName: 'n1',
    podIP: '',
    phase: 'Running',
    images: [],
    restarts: 3,
    containers: [
      {
        name: 'app',
        waiting,
        lastTermination: { ...termination, signal: 0, finishedAt: '2026-11-22T05:59:00Z' },
        restartCount: 3,
      },
    ],
  };
  return e;
};

test('pod status - an OOMKilled container is the cause of its BackOff: "OOMKilled (exit 137)"', () => {
  const e = backOff({ reason: 'OOMKilled', exitCode: 137 });
  const cause = podStatusCause(e, rules.classify(e));
  assert.ok(cause);
  assert.equal(cause.reason, 'OOMKilled');
  assert.match(cause.why, /^OOMKilled \(exit 137\)/);
  assert.equal(cause.category, 'resources');
  assert.equal(cause.fields.exitCode, '137');
  assert.equal(cause.fields.container, 'app');
});

test('pod status - a crash loop carries the exit code; other events and pods without status get nothing', () => {
  const e = backOff({ reason: 'Error', exitCode: 2 });
  const cause = podStatusCause(e, rules.classify(e));
  assert.equal(cause?.reason, 'BackOff');
  assert.equal(cause?.fields.exitCode, '2');
  assert.match(cause?.why ?? '', /exits with code 2 \(Error\)/);
  const pulled = ev({
    reason: 'Pulled',
    type: 'Normal',
    name: 'web-0',
    note: 'Container image "a" already present on machine',
  });
  pulled.enrichment.pod = e.enrichment.pod;
  assert.equal(podStatusCause(pulled, rules.classify(pulled)), null);
  const bare = ev({
    reason: 'BackOff',
    name: 'web-0',
    note: 'Back-off restarting failed container app in pod web-0_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
  });
  assert.equal(podStatusCause(bare, rules.classify(bare)), null);
});

const keysOf = (e: ReturnType<typeof ev>) => incidentKeys(e, rules.classify(e)).map((k) => k.key);

test('incident keys - a healthy follow-up joins only through its own object; a controller create names its pod', () => {
  const started = ev({
    reason: 'Started',
    type: 'Normal',
    name: 'web-7d9f8c6b5d-x2k4p',
    note: 'Started container app',
    workload: { kind: 'Deployment', name: 'web' },
  });
  // its pod, and just after (SHORT) the pod's node failure; never the workload
  assert.deepEqual(incidentKeys(started, rules.classify(started)), [
    { key: 'o:Pod/shop/web-7d9f8c6b5d-x2k4p', own: true },
    { key: 'o:Pod/shop/web-7d9f8c6b5d-x2k4p#node', own: false, window: SHORT },
  ]);
  const created = ev({
    reason: 'SuccessfulCreate',
    type: 'Normal',
    kind: 'ReplicaSet',
    component: 'replicaset-controller',
    name: 'web-7d9f8c6b5d',
    note: 'Created pod: web-7d9f8c6b5d-q9z7m',
    workload: { kind: 'Deployment', name: 'web' },
  });
  // the ReplicaSet's own key is registered, not looked up: one replica's incident is not every replica's. The new pod
  // is this ReplicaSet's scale-up or its replacement of a pod that went away, never another ReplicaSet's change
  assert.deepEqual(incidentKeys(created, rules.classify(created)), [
    { key: 'o:ReplicaSet/shop/web-7d9f8c6b5d', own: true, find: false },
    { key: 'o:Pod/shop/web-7d9f8c6b5d-q9z7m', own: true, window: LONG },
    { key: 'o:ReplicaSet/shop/web-7d9f8c6b5d#up', own: false },
    { key: 'o:ReplicaSet/shop/web-7d9f8c6b5d#replace', own: false },
  ]);
  // a deletion is this ReplicaSet's scale-down first (a rollout deleting a pod another incident holds), then the pod's
  const deleted = ev({
    reason: 'SuccessfulDelete',
    type: 'Normal',
    kind: 'ReplicaSet',
    component: 'replicaset-controller',
    name: 'web-7d9f8c6b5d',
    note: 'Deleted pod: web-7d9f8c6b5d-x2k4p',
    workload: { kind: 'Deployment', name: 'web' },
  });
  assert.deepEqual(keysOf(deleted), [
    'o:ReplicaSet/shop/web-7d9f8c6b5d',
    'o:ReplicaSet/shop/web-7d9f8c6b5d#down',
    'o:Pod/shop/web-7d9f8c6b5d-x2k4p',
  ]);
  // the cronjob controller's SawCompletedJob of a failed Job joins that Job's incident; a completed one stays alone
  const cron = (reason: string, note: string) =>
    ev({
      reason,
      type: 'Normal',
      kind: 'CronJob',
      component: 'cronjob-controller',
      name: 'report',
      note,
      workload: { kind: 'CronJob', name: 'report' },
    });
  const saw = (status: string) => cron('SawCompletedJob', `Saw completed job: report-29412345, status: ${status}`);
  assert.deepEqual(incidentKeys(saw('Failed'), rules.classify(saw('Failed'))), [
    { key: 'o:CronJob/shop/report', own: true, find: false },
    { key: 'o:Job/shop/report-29412345', own: true, find: true, window: LONG },
  ]);
  assert.deepEqual(
    incidentKeys(saw('Complete'), rules.classify(saw('Complete'))).filter((k) => k.find !== false),
    [],
  );
  // a scheduled run (the next Job of a CronJob whose last run failed) looks up nothing: a run is not caused by the last
  for (const e of [
    cron('SuccessfulCreate', 'Created job report-29412346'),
    cron('SuccessfulDelete', 'Deleted job report-29412345'),
  ])
    assert.deepEqual(
      incidentKeys(e, rules.classify(e)).filter((k) => k.find !== false),
      [],
      e.note,
    );
  // a Job's pod attempt: the pod's incident, then the Job's
  const attempt = ev({
    reason: 'SuccessfulCreate',
    type: 'Normal',
    kind: 'Job',
    component: 'job-controller',
    name: 'report-29412345',
    note: 'Created pod: report-29412345-x7k2p',
    workload: { kind: 'CronJob', name: 'report' },
  });
  assert.deepEqual(keysOf(attempt), ['o:Job/shop/report-29412345', 'o:Pod/shop/report-29412345-x7k2p']);
  // a pod that goes away joins its node's incident and registers its own key for the follow-ups just after, and its
  // ReplicaSet's #replace key, unlooked-up, for its replacement (the enricher's owner, else read from the pod's name)
  const evicted = ev({
    reason: 'Evicted',
    name: 'web-7d9f8c6b5d-x2k4p',
    note: 'The node was low on resource: memory.',
    workload: { kind: 'Deployment', name: 'web' },
    node: 'n1',
  });
  assert.deepEqual(incidentKeys(evicted, rules.classify(evicted)), [
    { key: 'n:n1', own: false },
    { key: 'o:Pod/shop/web-7d9f8c6b5d-x2k4p#node', own: true },
    { key: 'w:Deployment/shop/web#resources', own: true },
    { key: 'o:ReplicaSet/shop/web-7d9f8c6b5d#replace', own: true, find: false },
  ]);
  const notReady = ev({
    reason: 'NodeNotReady',
    name: 'db-0',
    note: 'Node is not ready',
    component: 'node-controller',
    workload: { kind: 'StatefulSet', name: 'db' },
    node: 'n1',
  });
  notReady.enrichment.owners = [{ kind: 'StatefulSet', name: 'db', uid: 'w-db' }];
  assert.equal(keysOf(notReady).at(-1), 'o:StatefulSet/shop/db#replace');
  // a pod's problem: its workload only for the same kind of problem
  const pending = ev({
    reason: 'FailedScheduling',
    component: 'default-scheduler',
    name: 'web-7d9f8c6b5d-q9z7m',
    note: '0/4 nodes are available: 4 Insufficient cpu.',
    workload: { kind: 'Deployment', name: 'web' },
  });
  assert.deepEqual(keysOf(pending), ['o:Pod/shop/web-7d9f8c6b5d-q9z7m', 'w:Deployment/shop/web#scheduling']);
});

test('incident keys - scaling: a scale-down reverses its scale-up, a scale-up follows the HPA size, an HPA its rescale', () => {
  const scaled = (note: string) =>
    ev({
      reason: 'ScalingReplicaSet',
      type: 'Normal',
      kind: 'Deployment',
      component: 'deployment-controller',
      name: 'api',
      namespace: 'payments',
      note,
      workload: { kind: 'Deployment', name: 'api' },
    });
  const up = scaled('Scaled up replica set api-7cf8fc757f from 3 to 7');
  assert.deepEqual(incidentKeys(up, rules.classify(up)), [
    { key: 'w:Deployment/payments/api#size:7', own: false },
    { key: 'w:Deployment/payments/api#scheduling', own: true, window: SHORT },
    { key: 'w:Deployment/payments/api#image', own: true, window: SHORT },
    { key: 'w:Deployment/payments/api', own: true, window: SHORT },
    { key: 'o:ReplicaSet/payments/api-7cf8fc757f#size:7', own: true, find: false },
    { key: 'o:ReplicaSet/payments/api-7cf8fc757f#up', own: true, find: false },
    { key: 'o:Deployment/payments/api', own: true, find: false },
  ]);
  // minutes later, the scale-back: through the ReplicaSet's size it reverses (LONG), whatever happened between
  const down = scaled('Scaled down replica set api-7cf8fc757f from 7 to 3');
  assert.deepEqual(keysOf(down).slice(0, 2), [
    'o:ReplicaSet/payments/api-7cf8fc757f#size:7',
    'w:Deployment/payments/api',
  ]);
  assert.equal(incidentKeys(down, rules.classify(down))[0]?.window, LONG);
  // the newer message order of the deployment controller
  assert.deepEqual(scaledReplicaSet('Scaled up replica set web-5d4f 1 to 3'), undefined);
  assert.deepEqual(scaledReplicaSet('Scaled up replica set web-5d4f to 3 from 1'), {
    up: true,
    rs: 'web-5d4f',
    from: 1,
    to: 3,
  });
  assert.deepEqual(scaledReplicaSet('Scaled down replica set web-5d4f to 0'), { up: false, rs: 'web-5d4f', to: 0 });
  const hpa = (note: string, reason = 'SuccessfulRescale', type = 'Normal') =>
    ev({
      reason,
      type,
      kind: 'HorizontalPodAutoscaler',
      component: 'horizontal-pod-autoscaler',
      name: 'api',
      namespace: 'payments',
      note,
    });
  const rescale = hpa('New size: 7; reason: cpu resource utilization (percentage of request) above target');
  assert.deepEqual(incidentKeys(rescale, rules.classify(rescale)), [
    { key: 'o:HorizontalPodAutoscaler/payments/api#rescale', own: true, window: LONG },
    { key: 'w:Deployment/payments/api#size:7', own: true, find: false },
    { key: 'w:Deployment/payments/api', own: true, find: false },
  ]);
  // an HPA that cannot read its metrics is another problem than its rescales: its own object, the workload's scaling
  const metrics = hpa(
    'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    'FailedGetResourceMetric',
    'Warning',
  );
  assert.deepEqual(keysOf(metrics), ['o:HorizontalPodAutoscaler/payments/api', 'w:Deployment/payments/api#scaling']);
});

test('incident keys - nodes: kernel findings apart from the node failure; a joining node finds the scale-up', () => {
  const node = (reason: string, note: string, component = 'kubelet', type = 'Normal') =>
    ev({ reason, note, component, type, kind: 'Node', name: 'ip-10-0-8-47' });
  const oops = node(
    'KernelOops',
    'kernel: BUG: unable to handle kernel NULL pointer dereference at 0000000000000000',
    'kernel-monitor',
    'Warning',
  );
  assert.deepEqual(keysOf(oops), ['n:ip-10-0-8-47#npd']);
  const pressure = node('NodeHasInsufficientMemory', 'Node ip-10-0-8-47 status is now: NodeHasInsufficientMemory');
  assert.deepEqual(keysOf(pressure), ['n:ip-10-0-8-47']);
  const ready = node('NodeReady', 'Node ip-10-0-8-47 status is now: NodeReady');
  assert.deepEqual(incidentKeys(ready, rules.classify(ready)), [
    { key: 'n:ip-10-0-8-47', own: true },
    { key: 'ca:scale-up', own: false },
  ]);
  const triggered = ev({
    reason: 'TriggeredScaleUp',
    type: 'Normal',
    component: 'cluster-autoscaler',
    name: 'api-7cf8fc757f-f8l67',
    note: 'pod triggered scale-up: [{eks-general-a-475767f1 4->5 (max: 10)}]',
    workload: { kind: 'Deployment', name: 'api' },
  });
  // the pod is pending: the workload's pending pods (whose FailedScheduling series may arrive after this), and the
  // scale-up a joining node belongs to
  assert.deepEqual(incidentKeys(triggered, rules.classify(triggered)).slice(2), [
    { key: 'w:Deployment/shop/api#scheduling', own: true },
    { key: 'ca:scale-up', own: true, find: false },
  ]);
  const notTriggered = ev({
    reason: 'NotTriggerScaleUp',
    type: 'Normal',
    component: 'cluster-autoscaler',
    name: 'api-7cf8fc757f-f8l67',
    note: "pod didn't trigger scale-up: 1 max node group size reached",
    workload: { kind: 'Deployment', name: 'api' },
  });
  assert.ok(!keysOf(notTriggered).includes('ca:scale-up'));
  assert.ok(keysOf(notTriggered).includes('w:Deployment/shop/api#scheduling'));
});

test('root-cause tie-break - the creation nanoseconds in the event name, then the resourceVersion', () => {
  // one scheduling cycle: the pods' FailedScheduling share their eventTime and reach the API server in any order
  const first = creationOrder('1593', 'grafana-85fdd69b7f-mws4g.18ef11753bce55c6', 'u1');
  const second = creationOrder('1537', 'grafana-85fdd69b7f-6kvlb.18ef11753bd69c9b', 'u2');
  assert.ok(first < second, `${first} < ${second}`);
  // a name without the suffix orders by resourceVersion, after any named one; neither: by uid, last
  assert.ok(creationOrder('9', 'custom-name', 'u3') < creationOrder('10', 'custom', 'u4'));
  assert.ok(second < creationOrder('1', 'custom-name', 'u5'));
  assert.ok(creationOrder('1', 'custom-name', 'u5') < creationOrder('abc', 'custom-name', 'u6'));
});
