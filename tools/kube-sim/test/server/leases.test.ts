// Audit 5 (leases, K1-K4) with CoordinationV1Api from client-node 2.0.1 and raw HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiException, CoordinationV1Api, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { rand, request } from './helpers.ts';

function statusOf(e: unknown): { code: number; body: { reason: string; message: string; code: number } } {
  assert.ok(e instanceof ApiException, `expected ApiException, got ${String(e)}`);
  return { code: e.code, body: JSON.parse(e.body as string) };
}

describe('kube-sim leases', () => {
  let sim: KubeSim;
  let coord: CoordinationV1Api;
  before(async () => {
    sim = await startKubeSim({});
    coord = sim.kubeConfig.makeApiClient(CoordinationV1Api);
  });
  after(async () => {
    await sim.close();
  });

  test('leases - create, get, two electors race with the same RV: one PUT wins, the other gets 409', async () => {
    const ns = rand('ns');
    const name = 'event-watcher';
    const now = new V1MicroTime();
    const created = await coord.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      },
    });
    assert.ok(created.metadata?.resourceVersion);
    assert.ok(created.metadata?.uid);
    const a = await coord.readNamespacedLease({ name, namespace: ns });
    const b = await coord.readNamespacedLease({ name, namespace: ns });
    a.spec!.renewTime = new V1MicroTime();
    const won = await coord.replaceNamespacedLease({ name, namespace: ns, body: a });
    assert.ok(Number(won.metadata!.resourceVersion) > Number(a.metadata!.resourceVersion));
    b.spec!.holderIdentity = 'b';
    b.spec!.leaseTransitions = 1;
    try {
      await coord.replaceNamespacedLease({ name, namespace: ns, body: b });
      assert.fail('second PUT must conflict');
    } catch (e) {
      const s = statusOf(e);
      assert.equal(s.code, 409);
      assert.equal(s.body.reason, 'Conflict');
      assert.equal(
        s.body.message,
        `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
      assert.deepEqual((s.body as unknown as { details: unknown }).details, {
        name,
        group: 'coordination.k8s.io',
        kind: 'leases',
      });
    }
  });

  test('leases - PUT without resourceVersion on an existing lease is 422; PUT to a missing lease creates it', async () => {
    const ns = rand('ns');
    const put = await request(sim, 'PUT', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/l1`, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l1', namespace: ns },
      spec: { holderIdentity: 'x', leaseDurationSeconds: 15 },
    });
    assert.equal(put.status, 201);
    const again = await request(sim, 'PUT', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/l1`, {
      metadata: { name: 'l1' },
      spec: { holderIdentity: 'y' },
    });
    assert.equal(again.status, 422);
    assert.equal(again.json.reason, 'Invalid');
    assert.equal(
      again.json.message,
      'Lease.coordination.k8s.io "l1" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
    const withUid = await request(sim, 'PUT', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/l2`, {
      metadata: { name: 'l2', uid: 'f00' },
      spec: {},
    });
    assert.equal(withUid.status, 409);
  });

  test('leases - POST of an existing lease is 409 AlreadyExists', async () => {
    const ns = rand('ns');
    const body: V1Lease = { metadata: { name: 'dup' }, spec: { holderIdentity: 'a' } };
    await coord.createNamespacedLease({ namespace: ns, body });
    try {
      await coord.createNamespacedLease({ namespace: ns, body });
      assert.fail('must conflict');
    } catch (e) {
      const s = statusOf(e);
      assert.equal(s.code, 409);
      assert.equal(s.body.reason, 'AlreadyExists');
      assert.equal(s.body.message, 'leases.coordination.k8s.io "dup" already exists');
    }
  });

  test('leases - E3: a 3-digit MicroTime is 400; 6 digits round-trip', async () => {
    const ns = rand('ns');
    const bad = await request(sim, 'POST', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, {
      metadata: { name: 'l' },
      spec: { renewTime: '2026-05-01T12:00:10.123Z' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.reason, 'BadRequest');
    assert.equal(
      bad.json.message,
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-05-01T12:00:10.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
    const good = await request(sim, 'POST', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, {
      metadata: { name: 'l' },
      spec: { renewTime: '2026-05-01T12:00:10.123456Z', acquireTime: '2026-05-01T14:00:00.000001+02:00' },
    });
    assert.equal(good.status, 201);
    assert.equal(good.json.spec.renewTime, '2026-05-01T12:00:10.123456Z');
    assert.equal(good.json.spec.acquireTime, '2026-05-01T12:00:00.000001Z');
    const lease = await coord.readNamespacedLease({ name: 'l', namespace: ns });
    assert.equal(new Date(lease.spec!.renewTime as unknown as string).toISOString(), '2026-05-01T12:00:10.123Z');
  });

  test('leases - release (holderIdentity "", leaseDurationSeconds 1) and a no-op PUT keeps the resourceVersion', async () => {
    const ns = rand('ns');
    const l = await coord.createNamespacedLease({
      namespace: ns,
      body: { metadata: { name: 'r' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    const same = await coord.replaceNamespacedLease({ name: 'r', namespace: ns, body: l });
    assert.equal(same.metadata!.resourceVersion, l.metadata!.resourceVersion);
    same.spec = { holderIdentity: '', leaseDurationSeconds: 1 };
    const released = await coord.replaceNamespacedLease({ name: 'r', namespace: ns, body: same });
    assert.equal(released.spec?.holderIdentity, '');
    assert.equal(released.spec?.leaseDurationSeconds, 1);
  });
});
