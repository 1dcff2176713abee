// Audit 6 (enricher reads and shapes): E1/E2 renderings of one store (L1), E3 time formats, E5 recorder patches,
// G1-G3 owner chains and 404 shapes, discovery, metadata defaults.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, watch } from './helpers.ts';

describe('kube-sim shapes', () => {
  let sim: KubeSim;
  before(async () => {
    sim = await startKubeSim({});
  });
  after(async () => {
    await sim.close();
  });

  test('shapes - L1/E2: an events.k8s.io write reads back through core/v1 with the same name, uid and RV', async () => {
    const ns = rand('ns');
    const created = await request(sim, 'POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'nginx-abc.17c8b0c1d2e3f405' },
      eventTime: '2026-05-01T12:00:00.123456Z',
      series: { count: 3, lastObservedTime: '2026-05-01T12:04:00.654321Z' },
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-cp-1',
      action: 'Scheduling',
      reason: 'FailedScheduling',
      regarding: { kind: 'Pod', namespace: ns, name: 'nginx-abc', apiVersion: 'v1' },
      note: '0/3 nodes are available',
      type: 'Warning',
    });
    assert.equal(created.status, 201, created.text);
    const n = created.json;
    assert.deepEqual(Object.keys(n), [
      'kind',
      'apiVersion',
      'metadata',
      'eventTime',
      'series',
      'reportingController',
      'reportingInstance',
      'action',
      'reason',
      'regarding',
      'note',
      'type',
      'deprecatedSource',
      'deprecatedFirstTimestamp',
      'deprecatedLastTimestamp',
    ]);
    assert.deepEqual(n.deprecatedSource, {});
    assert.equal(n.deprecatedFirstTimestamp, null);
    assert.equal(n.deprecatedLastTimestamp, null);
    const core = (await request(sim, 'GET', `/api/v1/namespaces/${ns}/events/nginx-abc.17c8b0c1d2e3f405`)).json;
    assert.equal(core.apiVersion, 'v1');
    assert.equal(core.metadata.uid, n.metadata.uid);
    assert.equal(core.metadata.resourceVersion, n.metadata.resourceVersion);
    assert.equal(core.count, undefined);
    assert.equal(core.firstTimestamp, null);
    assert.equal(core.lastTimestamp, null);
    assert.equal(core.eventTime, '2026-05-01T12:00:00.123456Z');
    assert.deepEqual(core.series, { count: 3, lastObservedTime: '2026-05-01T12:04:00.654321Z' });
    assert.equal(core.reportingComponent, 'default-scheduler');
    assert.equal(core.message, '0/3 nodes are available');
    assert.deepEqual(core.source, {});
    // The typed client reads it too.
    const typed = await sim.kubeConfig
      .makeApiClient(EventsV1Api)
      .readNamespacedEvent({ name: n.metadata.name, namespace: ns });
    assert.equal(typed.reportingController, 'default-scheduler');
  });

  test('shapes - E1: a legacy core event keeps null/"" zero values and reads back in events.k8s.io form', async () => {
    const ns = rand('ns');
    const body = coreEvent(ns, 'web-1.17c8a9f0e3b1d2a4', {
      reportingComponent: undefined,
      reportingInstance: undefined,
    });
    const c = (await request(sim, 'POST', `/api/v1/namespaces/${ns}/events`, body)).json;
    assert.equal(c.eventTime, null);
    assert.equal(c.reportingComponent, '');
    assert.equal(c.reportingInstance, '');
    assert.ok(Object.hasOwn(c, 'reportingComponent'));
    const e = (await request(sim, 'GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events/web-1.17c8a9f0e3b1d2a4`)).json;
    assert.equal(e.eventTime, null);
    assert.equal(e.reportingController, undefined, 'omitempty in events.k8s.io');
    assert.equal(e.deprecatedCount, 1);
    assert.deepEqual(e.deprecatedSource, { component: 'kubelet', host: 'node-1' });
    assert.equal(e.note, 'Back-off restarting failed container');
    assert.deepEqual(e.regarding, body.involvedObject);
    // Both renderings arrive on watches of both APIs with the same RV.
    const rv = sim.resourceVersion();
    const w1 = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${rv}`);
    const w2 = await watch(sim, `/apis/events.k8s.io/v1/namespaces/${ns}/events?watch=true&resourceVersion=${rv}`);
    await sim.store.patch(`/api/v1/namespaces/${ns}/events/web-1.17c8a9f0e3b1d2a4`, { count: 2 });
    await w1.waitFrames(1);
    await w2.waitFrames(1);
    assert.equal(w1.frames[0].object.apiVersion, 'v1');
    assert.equal(w2.frames[0].object.apiVersion, 'events.k8s.io/v1');
    assert.equal(w2.frames[0].object.deprecatedCount, 2);
    assert.equal(w1.frames[0].object.metadata.resourceVersion, w2.frames[0].object.metadata.resourceVersion);
    w1.close();
    w2.close();
  });

  test('shapes - E3: Time is served to the second; MicroTime needs exactly 6 digits on events', async () => {
    const ns = rand('ns');
    const c = (
      await request(
        sim,
        'POST',
        `/api/v1/namespaces/${ns}/events`,
        coreEvent(ns, 'a.1', { firstTimestamp: '2026-05-01T14:00:00.987+02:00' }),
      )
    ).json;
    assert.equal(c.firstTimestamp, '2026-05-01T12:00:00Z');
    assert.match(c.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const bad = await request(
      sim,
      'POST',
      `/api/v1/namespaces/${ns}/events`,
      coreEvent(ns, 'b.1', { eventTime: '2026-05-01T12:00:00.123Z', action: 'X', reportingComponent: 'k' }),
    );
    assert.equal(bad.status, 400);
    assert.match(
      bad.json.message,
      /^Event in version "v1" cannot be handled as a Event: parsing time "2026-05-01T12:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00"/,
    );
    const badSeries = await request(
      sim,
      'PATCH',
      `/api/v1/namespaces/${ns}/events/a.1`,
      { series: { count: 2, lastObservedTime: '2026-05-01T12:00:00Z' } },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(badSeries.status, 400);
    const badTime = await request(
      sim,
      'POST',
      `/api/v1/namespaces/${ns}/events`,
      coreEvent(ns, 'c.1', { lastTimestamp: 'yesterday' }),
    );
    assert.equal(badTime.status, 400);
  });

  test('shapes - E5: recorder strategic-merge PATCH bumps count; PATCH of a missing event is 404, then create', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/events`;
    const miss = await request(
      sim,
      'PATCH',
      `${base}/x.1`,
      { count: 2 },
      { 'content-type': 'application/strategic-merge-patch+json' },
    );
    assert.equal(miss.status, 404);
    assert.equal(miss.json.message, 'events "x.1" not found');
    const c = await request(sim, 'POST', base, coreEvent(ns, 'x.1'));
    assert.equal(c.status, 201);
    const p = await request(
      sim,
      'PATCH',
      `${base}/x.1`,
      { count: 2, lastTimestamp: '2026-05-01T12:05:10Z', message: '(combined from similar events): x' },
      { 'content-type': 'application/strategic-merge-patch+json' },
    );
    assert.equal(p.status, 200);
    assert.equal(p.json.count, 2);
    assert.ok(Number(p.json.metadata.resourceVersion) > Number(c.json.metadata.resourceVersion));
    const jp = await request(
      sim,
      'PATCH',
      `${base}/x.1`,
      [
        { op: 'replace', path: '/count', value: 5 },
        { op: 'test', path: '/reason', value: 'BackOff' },
      ],
      { 'content-type': 'application/json-patch+json' },
    );
    assert.equal(jp.json.count, 5);
    const stale = await request(
      sim,
      'PATCH',
      `${base}/x.1`,
      { metadata: { resourceVersion: c.json.metadata.resourceVersion }, count: 6 },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(stale.status, 409);
    const apply = await request(sim, 'PATCH', `${base}/x.1`, 'count: 1', {
      'content-type': 'application/apply-patch+yaml',
    });
    assert.equal(apply.status, 415);
  });

  test('shapes - event validation: namespace mismatch and events.k8s.io required fields are 422', async () => {
    const ns = rand('ns');
    const mismatch = await request(
      sim,
      'POST',
      `/api/v1/namespaces/${ns}/events`,
      coreEvent(ns, 'a.1', { involvedObject: { kind: 'Pod', name: 'a', namespace: 'other' } }),
    );
    assert.equal(mismatch.status, 422);
    assert.equal(
      mismatch.json.message,
      'Event "a.1" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    );
    const noTime = await request(sim, 'POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
      metadata: { name: 'b.1' },
      regarding: { kind: 'Pod', name: 'b', namespace: ns },
      reason: 'X',
      type: 'Normal',
    });
    assert.equal(noTime.status, 422);
    assert.match(noTime.json.message, /^Event\.events\.k8s\.io "b\.1" is invalid: .*eventTime: Required value/);
    const node = await request(
      sim,
      'POST',
      '/api/v1/namespaces/default/events',
      coreEvent('default', `${rand('n')}.1`, { involvedObject: { kind: 'Node', name: 'n1' } }),
    );
    assert.equal(node.status, 201, 'cluster-scoped involvedObject in the default namespace');
  });

  test('shapes - G1/G2/G3: typed reads follow an owner chain; a missing owner midway is the exact 404 Status', async () => {
    const ns = rand('ns');
    const apps = sim.kubeConfig.makeApiClient(AppsV1Api);
    const core = sim.kubeConfig.makeApiClient(CoreV1Api);
    const batch = sim.kubeConfig.makeApiClient(BatchV1Api);
    const dep = await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
        },
      },
    });
    assert.equal(dep.metadata?.generation, 1);
    const rs = await apps.createNamespacedReplicaSet({
      namespace: ns,
      body: {
        metadata: {
          name: 'web-7d9c6b8f5d',
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: 'web',
              uid: dep.metadata!.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { selector: { matchLabels: { app: 'web' } } },
      },
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: {
          name: 'web-7d9c6b8f5d-x2k4p',
          labels: { 'pod-template-hash': '7d9c6b8f5d' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rs.metadata!.name!,
              uid: rs.metadata!.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { containers: [{ name: 'app', image: 'nginx' }], nodeName: 'node-1' },
      },
    });
    await core.createNode({
      body: { metadata: { name: `node-${ns}`, labels: { 'topology.kubernetes.io/zone': 'a' } } },
    });
    await batch.createNamespacedCronJob({
      namespace: ns,
      body: {
        metadata: { name: 'backup' },
        spec: {
          schedule: '0 * * * *',
          jobTemplate: {
            spec: { template: { spec: { containers: [{ name: 'b', image: 'busybox' }], restartPolicy: 'Never' } } },
          },
        },
      },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
    });
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'db' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          serviceName: 'db',
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'db', image: 'pg' }] } },
        },
      },
    });
    await apps.createNamespacedDaemonSet({
      namespace: ns,
      body: {
        metadata: { name: 'agent' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'a', image: 'a' }] } },
        },
      },
    });
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'backup-29612160' },
        spec: { template: { spec: { containers: [{ name: 'b', image: 'b' }], restartPolicy: 'Never' } } },
      },
    });
    const pod = await core.readNamespacedPod({ name: 'web-7d9c6b8f5d-x2k4p', namespace: ns });
    const owner = pod.metadata!.ownerReferences![0]!;
    const rs2 = await apps.readNamespacedReplicaSet({ name: owner.name, namespace: ns });
    assert.equal(rs2.metadata!.uid, owner.uid);
    const dep2 = await apps.readNamespacedDeployment({ name: rs2.metadata!.ownerReferences![0]!.name, namespace: ns });
    assert.equal(dep2.metadata!.uid, dep.metadata!.uid);
    assert.ok(await core.readNode({ name: `node-${ns}` }));
    assert.ok(await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns }));
    assert.ok(await core.readNamespacedService({ name: 'web', namespace: ns }));
    assert.ok(await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns }));
    assert.ok(await apps.readNamespacedDaemonSet({ name: 'agent', namespace: ns }));
    assert.ok(await batch.readNamespacedJob({ name: 'backup-29612160', namespace: ns }));
    assert.ok(await batch.readNamespacedCronJob({ name: 'backup', namespace: ns }));
    await apps.deleteNamespacedReplicaSet({ name: 'web-7d9c6b8f5d', namespace: ns });
    try {
      await apps.readNamespacedReplicaSet({ name: 'web-7d9c6b8f5d', namespace: ns });
      assert.fail('expected 404');
    } catch (e) {
      assert.ok(e instanceof ApiException);
      assert.equal(e.code, 404);
      assert.deepEqual(JSON.parse(e.body as string), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'replicasets.apps "web-7d9c6b8f5d" not found',
        reason: 'NotFound',
        details: { name: 'web-7d9c6b8f5d', group: 'apps', kind: 'replicasets' },
        code: 404,
      });
    }
    const podMiss = await request(sim, 'GET', `/api/v1/namespaces/${ns}/pods/nope`);
    assert.equal(podMiss.headers['content-type'], 'application/json');
    assert.deepEqual(podMiss.json.details, { name: 'nope', kind: 'pods' });
    assert.equal(podMiss.json.message, 'pods "nope" not found');
    const unknown = await request(sim, 'GET', '/apis/example.com/v1/widgets');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.message, 'the server could not find the requested resource');
  });

  test('shapes - discovery documents list every resource with verbs, namespaced, kind and shortNames', async () => {
    const api = await request(sim, 'GET', '/api');
    assert.deepEqual(api.json.versions, ['v1']);
    const v1 = (await request(sim, 'GET', '/api/v1')).json;
    const ev = v1.resources.find((r: { name: string }) => r.name === 'events');
    assert.deepEqual(ev.shortNames, ['ev']);
    assert.equal(ev.namespaced, true);
    assert.ok(ev.verbs.includes('watch'));
    assert.deepEqual(v1.resources.map((r: { name: string }) => r.name).sort(), [
      'events',
      'namespaces',
      'nodes',
      'persistentvolumeclaims',
      'pods',
      'services',
    ]);
    const groups = (await request(sim, 'GET', '/apis')).json.groups.map((g: { name: string }) => g.name).sort();
    assert.deepEqual(groups, ['apps', 'batch', 'coordination.k8s.io', 'events.k8s.io']);
    const leases = (await request(sim, 'GET', '/apis/coordination.k8s.io/v1')).json.resources[0];
    assert.equal(leases.kind, 'Lease');
    const version = await request(sim, 'GET', '/version', undefined, { authorization: '' });
    assert.equal(version.status, 200);
    assert.equal(version.json.major, '1');
  });

  test('shapes - metadata defaults: uid, creationTimestamp, RV, generateName; RV on create is refused', async () => {
    const ns = rand('ns');
    const r = await request(sim, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { generateName: 'web-' } });
    assert.equal(r.status, 201);
    assert.match(r.json.metadata.name, /^web-[a-z0-9]{5}$/);
    assert.match(r.json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.ok(r.json.metadata.resourceVersion);
    const noName = await request(sim, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: {} });
    assert.equal(noName.status, 422);
    const withRv = await request(sim, 'POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'x', resourceVersion: '5' },
    });
    assert.equal(withRv.status, 500);
    const badName = await request(sim, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'Bad_Name' } });
    assert.equal(badName.status, 422);
    const nsObj = await request(sim, 'POST', '/api/v1/namespaces', { metadata: { name: ns, labels: { team: 'a' } } });
    assert.equal(nsObj.json.status.phase, 'Active');
    assert.equal(nsObj.json.metadata.labels['kubernetes.io/metadata.name'], ns);
    const wrongNs = await request(sim, 'POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'y', namespace: 'other' },
    });
    assert.equal(wrongNs.status, 400);
    const del = await request(sim, 'DELETE', `/api/v1/namespaces/${ns}/pods/${r.json.metadata.name}`);
    assert.equal(del.json.kind, 'Pod');
  });

  test('shapes - deletecollection with a selector, delete preconditions, strictNamespaces', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/pods`;
    await sim.store.create(base, { metadata: { name: 'a', labels: { app: 'x' } } });
    await sim.store.create(base, { metadata: { name: 'b', labels: { app: 'y' } } });
    const pre = await request(sim, 'DELETE', `${base}/a`, { preconditions: { resourceVersion: '1' } });
    assert.equal(pre.status, 409);
    const dc = await request(sim, 'DELETE', `${base}?labelSelector=app%3Dx`);
    assert.equal(dc.status, 200);
    assert.deepEqual(
      dc.json.items.map((p: { metadata: { name: string } }) => p.metadata.name),
      ['a'],
    );
    const left = await request(sim, 'GET', base);
    assert.deepEqual(
      left.json.items.map((p: { metadata: { name: string } }) => p.metadata.name),
      ['b'],
    );
    const strict = await startKubeSim({ strictNamespaces: true });
    try {
      const r = await request(strict, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p' } });
      assert.equal(r.status, 404);
      assert.equal(r.json.message, `namespaces "${ns}" not found`);
    } finally {
      await strict.close();
    }
  });

  test('shapes - strategic merge patch merges lists by patchMergeKey; merge patch replaces them', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/pods`;
    await sim.store.create(base, {
      metadata: { name: 'p', finalizers: ['a'] },
      spec: {
        containers: [
          { name: 'app', image: 'v1' },
          { name: 'side', image: 's' },
        ],
      },
      status: {
        phase: 'Pending',
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    });
    const smp = await request(
      sim,
      'PATCH',
      `${base}/p`,
      {
        metadata: { finalizers: ['b'] },
        spec: {
          containers: [
            { name: 'app', image: 'v2' },
            { name: 'side', $patch: 'delete' },
          ],
        },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
      { 'content-type': 'application/strategic-merge-patch+json' },
    );
    assert.equal(smp.status, 200, smp.text);
    assert.deepEqual(smp.json.spec.containers, [{ name: 'app', image: 'v2' }]);
    assert.deepEqual(smp.json.status.conditions, [
      { type: 'Ready', status: 'True' },
      { type: 'PodScheduled', status: 'True' },
    ]);
    assert.deepEqual(smp.json.metadata.finalizers, ['a', 'b']);
    const mp = await request(
      sim,
      'PATCH',
      `${base}/p`,
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.deepEqual(mp.json.status.conditions, [{ type: 'Ready', status: 'False' }]);
  });

  test('shapes - deleting a namespace: Terminating first, then its contents and the namespace are deleted', async () => {
    const ns = rand('ns');
    await sim.store.create('/api/v1/namespaces', { metadata: { name: ns } });
    await sim.store.create(`/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p' } });
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'p.1'));
    const w = await watch(sim, `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${sim.resourceVersion()}`);
    const ns2 = rand('ns');
    await sim.store.create('/api/v1/namespaces', { metadata: { name: ns2 } });
    const terminating = sim.store.delete(`/api/v1/namespaces/${ns2}`);
    await assert.rejects(
      sim.store.create(`/api/v1/namespaces/${ns2}/pods`, { metadata: { name: 'late' } }),
      (e: { code: number; message: string }) =>
        e.code === 403 &&
        e.message ===
          `pods "late" is forbidden: unable to create new content in namespace ${ns2} because it is being terminated`,
    );
    await terminating;
    const del = await request(sim, 'DELETE', `/api/v1/namespaces/${ns}`);
    assert.equal(del.status, 200);
    assert.equal(del.json.status.phase, 'Terminating');
    assert.ok(del.json.metadata.deletionTimestamp);
    await w.waitFrames(1);
    assert.equal(w.frames[0].type, 'DELETED');
    const gone = await request(sim, 'GET', `/api/v1/namespaces/${ns}`);
    assert.equal(gone.status, 404);
    assert.equal((await request(sim, 'GET', `/api/v1/namespaces/${ns}/events`)).json.items.length, 0);
    w.close();
  });
});
