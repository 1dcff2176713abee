import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint, messageTemplate } from '../src/index.ts';
import { DIFFERENT, SAME } from './fingerprint-cases.ts';

const fp = (reason: string, kind: string, note: string) => fingerprint({ reason, note, regarding: { kind } });

test('fingerprint - two pods of one Deployment crash-looping give one fingerprint', () => {
  const a = fp(
    'BackOff',
    'Pod',
    'Back-off restarting failed container web in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
  );
  const b = fp(
    'BackOff',
    'Pod',
    'Back-off restarting failed container web in pod web-7d9f8c6b5d-q9z7m_shop(0b5c9d52-1a0e-4c1b-9f53-7f8a6f0f2d11)',
  );
  assert.equal(a.id, b.id);
  assert.equal(a.template, 'Back-off restarting failed container web in pod <pod>');
  // a different container is a different problem
  const c = fp(
    'BackOff',
    'Pod',
    'Back-off restarting failed container sidecar in pod web-7d9f8c6b5d-q9z7m_shop(0b5c9d52-1a0e-4c1b-9f53-7f8a6f0f2d11)',
  );
  assert.notEqual(a.id, c.id);
});

test('fingerprint - the combined-from-similar prefix is understood', () => {
  const a = fp('Unhealthy', 'Pod', 'Liveness probe failed: HTTP probe failed with statuscode: 500');
  const b = fp(
    'Unhealthy',
    'Pod',
    '(combined from similar events): Liveness probe failed: HTTP probe failed with statuscode: 503',
  );
  assert.equal(a.id, b.id);
});

test('fingerprint - reason and kind are part of the id', () => {
  assert.notEqual(fp('Failed', 'Pod', 'x 1').id, fp('BackOff', 'Pod', 'x 1').id);
  assert.notEqual(fp('Failed', 'Pod', 'x 1').id, fp('Failed', 'Node', 'x 1').id);
  assert.match(fp('Failed', 'Pod', 'x').id, /^[0-9a-f]{16}$/);
});

test('fingerprint - real messages: variable parts replaced', () => {
  const cases: [string, string][] = [
    [
      'Successfully pulled image "nginx:1.27" in 1.627s (1.627s including waiting). Image size: 71012345 bytes.',
      'Successfully pulled image "<q>" in <dur> (<dur> including waiting). Image size: <n> bytes.',
    ],
    [
      'Successfully assigned shop/web-7d9f8c6b5d-x2k4p to ip-10-0-1-23.eu-west-1.compute.internal',
      'Successfully assigned <ns>/<name> to <host>',
    ],
    ['Created pod: web-7d9f8c6b5d-x2k4p', 'Created pod: <pod>'],
    ['Scaled up replica set web-7d9f8c6b5d from 3 to 5', 'Scaled up replica set <replicaset> from <n> to <n>'],
    [
      'Readiness probe failed: Get "http://10.42.1.17:8080/ready": dial tcp 10.42.1.17:8080: connect: connection refused',
      'Readiness probe failed: Get "<q>": dial tcp <ip>: connect: connection refused',
    ],
    [
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91264Ki. Container web was using 1709404Ki, request is 512Mi, has larger consumption of memory. ',
      'The node was low on resource: memory. Threshold quantity: <qty>, available: <qty>. Container web was using <qty>, request is <qty>, has larger consumption of memory.',
    ],
    [
      'kernel: BUG: unable to handle kernel NULL pointer dereference at 0000000000000010',
      'kernel: BUG: unable to handle kernel NULL pointer dereference at <n>',
    ],
    ['Created job report-29000000', 'Created job report-<n>'],
    ['task java:4123 blocked for more than 120 seconds.', 'task java:<n> blocked for more than <n> seconds.'],
    [
      'Multi-Attach error for volume "pvc-3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b" Volume is already exclusively attached to one node and can\'t be attached to another',
      'Multi-Attach error for volume "<q>" Volume is already exclusively attached to one node and can\'t be attached to another',
    ],
    [
      '0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.',
      '<n>/<n> nodes are available: <n> Insufficient cpu. preemption: <n>/<n> nodes are available: <n> No preemption victims found for incoming pod.',
    ],
    [
      'Out of memory: Killed process 4123 (java) total-vm:8388608kB, anon-rss:4194304kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:16384kB oom_score_adj:937',
      'Out of memory: Killed process <n> (java) total-vm:<qty>, anon-rss:<qty>, file-rss:<qty>, shmem-rss:<qty>, UID:<n> pgtables:<qty> oom_score_adj:<n>',
    ],
    ['Stopping container web', 'Stopping container web'],
  ];
  for (const [msg, want] of cases) assert.equal(messageTemplate(msg), want);
});

test('fingerprint - one kind of problem on different objects groups (case table)', () => {
  for (const [name, a, b] of SAME) {
    const x = fingerprint(a);
    const y = fingerprint(b);
    assert.equal(x.id, y.id, `${name}:\n  ${x.template}\n  ${y.template}`);
  }
});

test('fingerprint - different problems under one reason stay apart (case table)', () => {
  for (const [name, a, b] of DIFFERENT) assert.notEqual(fingerprint(a).id, fingerprint(b).id, name);
});

test("fingerprint - the event's own names: object, workload and node, whole names only", () => {
  const t = (note: string) => messageTemplate(note, { object: 'kafka', workload: 'kafka', node: 'worker-3' });
  assert.equal(
    t('create Pod kafka-2 in StatefulSet kafka successful'),
    'create Pod <object>-<n> in StatefulSet <object> successful',
  );
  assert.equal(t('Node worker-3 status is now: NodeReady'), 'Node <host> status is now: NodeReady');
  // a longer word that starts with the name is not the name
  assert.equal(t('kafka-connect is down'), 'kafka-connect is down');
});
