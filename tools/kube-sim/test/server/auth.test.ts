// A1-A3: bearer tokens (401), expiry and rotation, RBAC deny rules (403 shape, watch separate from list), TLS.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, makeInformer } from '@kubernetes/client-node';
import { startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, waitFor } from './helpers.ts';

const UNAUTHORIZED = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};

describe('kube-sim auth', () => {
  test('auth - A2: missing or bad token is 401 Unauthorized; an expired token too; rotation issues a working one', async () => {
    const sim = await startKubeSim({ token: `fixed-${rand('t')}` });
    try {
      const none = await request(sim, 'GET', '/api/v1/events', undefined, { authorization: '' });
      assert.equal(none.status, 401);
      assert.deepEqual(none.json, UNAUTHORIZED);
      const bad = await request(sim, 'GET', '/api/v1/events', undefined, { authorization: 'Bearer nope' });
      assert.equal(bad.status, 401);
      const core = sim.kubeConfig.makeApiClient(CoreV1Api);
      await core.listEventForAllNamespaces();
      const old = sim.token;
      sim.faults.expireTokens();
      await assert.rejects(core.listEventForAllNamespaces(), (e) => e instanceof ApiException && e.code === 401);
      const fresh = sim.faults.rotateToken();
      assert.notEqual(fresh, old);
      const kc = new KubeConfig();
      kc.loadFromFile(sim.kubeconfigPath);
      await kc.makeApiClient(CoreV1Api).listEventForAllNamespaces();
      const admin = await request(sim, 'POST', '/_sim/rotate-token');
      assert.equal(admin.status, 200);
      const viaAdmin = await request(sim, 'GET', '/api/v1/events', undefined, {
        authorization: `Bearer ${admin.json.token}`,
      });
      assert.equal(viaAdmin.status, 200);
    } finally {
      await sim.close();
    }
  });

  test('auth - A3: deny rules give 403 with the apiserver message; watch is authorised separately from list', async () => {
    const sim = await startKubeSim({ user: 'system:serviceaccount:monitoring:kec' });
    try {
      const ns = rand('ns');
      sim.faults.setDeny([
        { verbs: ['watch'], groups: [''], resources: ['events'] },
        { verbs: ['update'], resources: ['leases'] },
      ]);
      const list = await request(sim, 'GET', '/api/v1/events');
      assert.equal(list.status, 200);
      const w = await request(sim, 'GET', '/api/v1/events?watch=true');
      assert.equal(w.status, 403);
      assert.deepEqual(w.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'events is forbidden: User "system:serviceaccount:monitoring:kec" cannot watch resource "events" in API group "" at the cluster scope',
        reason: 'Forbidden',
        details: { kind: 'events' },
        code: 403,
      });
      const wns = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?watch=true`);
      assert.equal(
        wns.json.message,
        `events is forbidden: User "system:serviceaccount:monitoring:kec" cannot watch resource "events" in API group "" in the namespace "${ns}"`,
      );
      const newApi = await request(sim, 'GET', '/apis/events.k8s.io/v1/events?watch=true&timeoutSeconds=1');
      assert.equal(newApi.status, 200, 'the rule only covers the core group');
      const coord = sim.kubeConfig.makeApiClient(CoordinationV1Api);
      const l = await coord.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'x' }, spec: {} } });
      try {
        await coord.replaceNamespacedLease({ namespace: ns, name: 'x', body: l });
        assert.fail('expected 403');
      } catch (e) {
        assert.ok(e instanceof ApiException);
        assert.equal(e.code, 403);
        assert.equal(
          JSON.parse(e.body as string).message,
          `leases.coordination.k8s.io is forbidden: User "system:serviceaccount:monitoring:kec" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "${ns}"`,
        );
      }
    } finally {
      await sim.close();
    }
  });

  test('auth - C4: a 403 on the watch stops the client-node informer with an error callback', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
      sim.faults.setDeny([{ verbs: ['watch'], resources: ['events'] }]);
      const core = sim.kubeConfig.makeApiClient(CoreV1Api);
      const informer = makeInformer(sim.kubeConfig, `/api/v1/namespaces/${ns}/events`, () =>
        core.listNamespacedEvent({ namespace: ns }),
      );
      const errors: unknown[] = [];
      informer.on('error', (e) => errors.push(e));
      await informer.start().catch((e) => errors.push(e));
      await waitFor(() => errors.length > 0, 5000, 'informer error');
      await informer.stop();
    } finally {
      await sim.close();
    }
  });

  test('auth - TLS: the kubeconfig carries the self-signed CA and client-node verifies it', async () => {
    const sim = await startKubeSim({ tls: true });
    try {
      assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(sim.caPem?.includes('BEGIN CERTIFICATE'));
      assert.equal(sim.kubeConfig.getCurrentCluster()?.skipTLSVerify, false);
      const r = await sim.kubeConfig.makeApiClient(CoreV1Api).listNamespace();
      assert.ok(r.items.some((n) => n.metadata?.name === 'default'));
    } finally {
      await sim.close();
    }
  });

  test('auth - anonymousUser serves requests without credentials (kubectl over plain http)', async () => {
    const sim = await startKubeSim({ anonymousUser: 'system:anonymous' });
    try {
      const r = await request(sim, 'GET', '/api/v1/namespaces', undefined, { authorization: '' });
      assert.equal(r.status, 200);
      const bad = await request(sim, 'GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer wrong' });
      assert.equal(bad.status, 401);
    } finally {
      await sim.close();
    }
  });
});
