import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleSet } from '@kec/rules';
import { incidentKeys, podStatusCause } from '../src/index.ts';
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

test('incident keys - a healthy follow-up joins only through its own object; a controller create names its pod', () => {
  const started = ev({
    reason: 'Started',
    type: 'Normal',
    name: 'web-7d9f8c6b5d-x2k4p',
    note: 'Started container app',
    workload: { kind: 'Deployment', name: 'web' },
  });
  assert.deepEqual(
    incidentKeys(started, rules.classify(started)).map((k) => k.key),
    ['o:Pod/shop/web-7d9f8c6b5d-x2k4p'],
  );
  const created = ev({
    reason: 'SuccessfulCreate',
    type: 'Normal',
    kind: 'ReplicaSet',
    component: 'replicaset-controller',
    name: 'web-7d9f8c6b5d',
    note: 'Created pod: web-7d9f8c6b5d-q9z7m',
    workload: { kind: 'Deployment', name: 'web' },
  });
  assert.deepEqual(
    incidentKeys(created, rules.classify(created)).map((k) => k.key),
    ['o:ReplicaSet/shop/web-7d9f8c6b5d', 'w:Deployment/shop/web', 'o:Pod/shop/web-7d9f8c6b5d-q9z7m'],
  );
  // the cronjob controller's SawCompletedJob of a failed Job joins that Job's incident; a completed one stays alone
  const saw = (status: string) =>
    ev({
      reason: 'SawCompletedJob',
      type: 'Normal',
      kind: 'CronJob',
      component: 'cronjob-controller',
      name: 'report',
      note: `Saw completed job: report-29412345, status: ${status}`,
      workload: { kind: 'CronJob', name: 'report' },
    });
  assert.deepEqual(
    incidentKeys(saw('Failed'), rules.classify(saw('Failed'))).map((k) => k.key),
    ['o:CronJob/shop/report', 'w:CronJob/shop/report', 'o:Job/shop/report-29412345'],
  );
  assert.deepEqual(
    incidentKeys(saw('Complete'), rules.classify(saw('Complete'))).map((k) => k.key),
    ['o:CronJob/shop/report'],
  );
  // a pod's problem: its workload only for the same kind of problem; an eviction registers the plain workload key
  const evicted = ev({
    reason: 'Evicted',
    name: 'web-7d9f8c6b5d-x2k4p',
    note: 'The node was low on resource: memory.',
    workload: { kind: 'Deployment', name: 'web' },
    node: 'n1',
  });
  assert.deepEqual(incidentKeys(evicted, rules.classify(evicted)), [
    { key: 'n:n1', own: false },
    { key: 'o:Pod/shop/web-7d9f8c6b5d-x2k4p', own: true },
    { key: 'w:Deployment/shop/web#resources', own: true },
    { key: 'w:Deployment/shop/web', own: true, find: false },
  ]);
});
