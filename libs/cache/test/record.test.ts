// Unit tests: compaction of API objects into cache records, the annotation allow-list, key layout, the enriched schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeEvent } from '@kec/model';
import {
  annotationFilter,
  CacheRecordValidator,
  cacheKeys,
  compactObject,
  controllerOf,
  isEnrichedEvent,
  KEC_ENRICHED_SCHEMA,
  kindInfo,
  objectPath,
  parseEnrichedEvent,
} from '../src/index.ts';

const pod = {
  metadata: {
    name: 'web-7d9c6b8f5d-x2k4p',
    namespace: 'shop',
    uid: 'u-pod',
    resourceVersion: '48190',
    labels: { app: 'web', 'pod-template-hash': '7d9c6b8f5d' },
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Pod"}',
      'app.kubernetes.io/version': '2.14.1',
      'kec.io/blob': 'x'.repeat(1000),
      'other.example.com/a': 'b',
    },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'web-7d9c6b8f5d',
        uid: 'u-rs',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: {
    nodeName: 'node-1',
    initContainers: [{ name: 'init', image: 'busybox:1.36' }],
    containers: [
      { name: 'app', image: 'registry.example.com/shop/web:2.14.1' },
      { name: 'proxy', image: 'envoy:1.30' },
    ],
  },
  status: {
    phase: 'Running',
    podIP: '10.0.1.7',
    containerStatuses: [{ restartCount: 3 }, { restartCount: 1 }],
  },
};

test('compact - a pod keeps labels, allow-listed annotations, owners and the pod fields; nothing else', () => {
  const r = compactObject('Pod', pod, { now: 5 });
  assert.ok(CacheRecordValidator.Check(r));
  assert.deepEqual(r.labels, pod.metadata.labels);
  assert.deepEqual(r.annotations, { 'app.kubernetes.io/version': '2.14.1' });
  assert.deepEqual(r.owners, [{ kind: 'ReplicaSet', name: 'web-7d9c6b8f5d', uid: 'u-rs', controller: true }]);
  assert.deepEqual(r.pod, {
    nodeName: 'node-1',
    podIP: '10.0.1.7',
    phase: 'Running',
    images: ['busybox:1.36', 'registry.example.com/shop/web:2.14.1', 'envoy:1.30'],
    restarts: 4,
  });
  assert.equal(r.writtenAt, 5);
  assert.ok(!JSON.stringify(r).includes('managedFields'));
  assert.equal(controllerOf(r)?.kind, 'ReplicaSet');
});

test('compact - a pod keeps each waiting or terminated container: waiting reason and last termination', () => {
  const r = compactObject('Pod', {
    ...pod,
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          lastState: {
            terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: 'x', finishedAt: '2026-11-22T06:00:00Z' },
          },
        },
        { name: 'proxy', restartCount: 0, state: { running: { startedAt: 'x' } } },
        { name: 'done', restartCount: 0, state: { terminated: { reason: 'Completed', exitCode: 0, signal: 15 } } },
      ],
    },
  });
  assert.ok(CacheRecordValidator.Check(r));
  assert.deepEqual(r.pod?.containers, [
    {
      name: 'app',
      waiting: 'CrashLoopBackOff',
      lastTermination: { reason: 'OOMKilled', exitCode: 137, signal: 0, finishedAt: '2026-11-22T06:00:00Z' },
      restartCount: 4,
    },
    {
      name: 'done',
      waiting: '',
      lastTermination: { reason: 'Completed', exitCode: 0, signal: 15, finishedAt: '' },
      restartCount: 0,
    },
  ]);
  assert.equal(r.pod?.restarts, 4);
});

test('compact - a node gets zone, region, instance type and its bad conditions', () => {
  const r = compactObject('Node', {
    metadata: {
      name: 'ip-10-0-1-1',
      uid: 'u-n',
      labels: {
        'topology.kubernetes.io/zone': 'eu-west-1a',
        'topology.kubernetes.io/region': 'eu-west-1',
        'node.kubernetes.io/instance-type': 'm5.xlarge',
      },
    },
    status: {
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'MemoryPressure', status: 'True' },
        { type: 'DiskPressure', status: 'False' },
      ],
    },
  });
  assert.deepEqual(r.node, {
    zone: 'eu-west-1a',
    region: 'eu-west-1',
    instanceType: 'm5.xlarge',
    ready: 'False',
    problems: ['Ready', 'MemoryPressure'],
  });
});

test('compact - PartialObjectMetadata (no spec/status) makes a valid workload record', () => {
  const r = compactObject('ReplicaSet', {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      name: 'web-7d9c6b8f5d',
      namespace: 'shop',
      uid: 'u-rs',
      ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'u-d', controller: true }],
    },
  });
  assert.ok(CacheRecordValidator.Check(r));
  assert.equal(r.pod, undefined);
  assert.equal(controllerOf(r)?.name, 'web');
});

test('annotations - prefixes, exact keys, the deny list and the length cap', () => {
  const f = annotationFilter(['team', 'app.kubernetes.io/*', 'kubectl.kubernetes.io/*'], 10);
  assert.equal(f('team', 'a'), true);
  assert.equal(f('teams', 'a'), false);
  assert.equal(f('app.kubernetes.io/name', 'web'), true);
  assert.equal(f('app.kubernetes.io/name', 'x'.repeat(11)), false);
  // Never cached, even when the allow-list matches it.
  assert.equal(f('kubectl.kubernetes.io/last-applied-configuration', '{}'), false);
  assert.equal(f('kubectl.kubernetes.io/restartedAt', 'now'), true);
});

test('keys - cluster-scoped kinds ignore the namespace; paths follow the API', () => {
  const k = cacheKeys('p:', 'prod');
  assert.equal(k.object('Node', 'default', 'n1'), 'p:prod:o:Node:/n1');
  assert.equal(k.object('Pod', 'shop', 'a'), 'p:prod:o:Pod:shop/a');
  assert.equal(k.uid('u'), 'p:prod:u:u');
  assert.throws(() => cacheKeys('p:', 'a:b'));
  assert.equal(objectPath(kindInfo('ReplicaSet')!, 'shop', 'web-1'), '/apis/apps/v1/namespaces/shop/replicasets/web-1');
  assert.equal(objectPath(kindInfo('Node')!, '', 'n1'), '/api/v1/nodes/n1');
  assert.equal(objectPath(kindInfo('CronJob')!, 'data', 'backup'), '/apis/batch/v1/namespaces/data/cronjobs/backup');
});

test('schema - kec.enriched/v1 accepts an enriched KecEvent and rejects unknown or missing fields', () => {
  const ev = normalizeEvent(
    {
      metadata: { name: 'x.1', namespace: 'shop', uid: 'e1', resourceVersion: '9' },
      involvedObject: { kind: 'Pod', namespace: 'shop', name: 'x', uid: 'u' },
      reason: 'BackOff',
      message: 'm',
      source: { component: 'kubelet' },
      firstTimestamp: '2026-05-01T12:00:00Z',
      lastTimestamp: '2026-05-01T12:00:00Z',
      count: 1,
      type: 'Warning',
      reportingComponent: 'kubelet',
      reportingInstance: '',
    },
    { cluster: 'prod', watchType: 'ADDED' },
  );
  const enriched = {
    ...ev,
    schema: KEC_ENRICHED_SCHEMA,
    enrichment: {
      status: 'hit',
      detail: '',
      object: {
        kind: 'Pod',
        namespace: 'shop',
        name: 'x',
        uid: 'u',
        labels: { app: 'x' },
        annotations: {},
        deleted: false,
        deletedAt: null,
      },
      pod: null,
      owners: [{ kind: 'ReplicaSet', name: 'x-1', uid: 'r' }],
      workload: { kind: 'Deployment', name: 'x', uid: 'd' },
      node: null,
      namespaceLabels: { team: 'a' },
      enrichedAt: '2026-05-01T12:00:01.000000Z',
    },
  };
  assert.ok(isEnrichedEvent(enriched));
  assert.equal(parseEnrichedEvent(JSON.stringify(enriched)).enrichment.workload?.name, 'x');
  assert.throws(() => parseEnrichedEvent({ ...enriched, enrichment: { ...enriched.enrichment, status: 'maybe' } }));
  assert.throws(() => parseEnrichedEvent({ ...enriched, extra: 1 }));
  assert.throws(() => parseEnrichedEvent({ ...ev }));
});
