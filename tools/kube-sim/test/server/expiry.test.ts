// Audit 2 (expiry and staleness): E6 TTL batches, L9 watch 410, L10 LIST 410, L8 continue 410, relist diffs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CoreV1Api, type CoreV1Event, makeInformer } from '@kubernetes/client-node';
import { startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, waitFor, watch } from './helpers.ts';

describe('kube-sim expiry', () => {
  test('expiry - E6: events sharing a TTL lease expire in one transaction: DELETED frames share one RV', async () => {
    const sim = await startKubeSim({ eventTtlSeconds: 3600 });
    try {
      const ns = rand('ns');
      for (const n of ['a.1', 'b.1', 'c.1'])
        await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, n));
      await sim.store.patch(`/api/v1/namespaces/${ns}/events/b.1`, { count: 9 });
      const w = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${sim.resourceVersion()}`);
      sim.clock.advance(3599_000);
      assert.equal(sim.expireEventsNow(), 0, 'nothing expires before ttl + reuse window');
      sim.clock.advance(62_000);
      assert.equal(sim.expireEventsNow(), 3);
      await w.waitFrames(3);
      assert.deepEqual(
        w.frames.map((f) => f.type),
        ['DELETED', 'DELETED', 'DELETED'],
      );
      const rvs = new Set(w.frames.map((f) => f.object.metadata.resourceVersion));
      assert.equal(rvs.size, 1, 'one shared resourceVersion');
      assert.equal([...rvs][0], sim.resourceVersion());
      assert.equal(w.frames.find((f) => f.object.metadata.name === 'b.1').object.count, 9, 'last state');
      const list = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events`);
      assert.equal(list.json.items.length, 0);
      w.close();
    } finally {
      await sim.close();
    }
  });

  test('expiry - E6: every write resets the TTL; leases granted more than the reuse window apart expire separately', async () => {
    const sim = await startKubeSim({ eventTtlSeconds: 3600 });
    try {
      const ns = rand('ns');
      const base = `/api/v1/namespaces/${ns}/events`;
      await sim.store.create(base, coreEvent(ns, 'old.1'));
      await sim.store.create(base, coreEvent(ns, 'bumped.1'));
      sim.clock.advance(61_000);
      await sim.store.create(base, coreEvent(ns, 'later.1'));
      sim.clock.advance(1800_000);
      await sim.store.patch(`${base}/bumped.1`, { count: 2 });
      const w = await watch(sim, `${base}?watch=true&resourceVersion=${sim.resourceVersion()}`);
      sim.clock.advance(3660_000 - 1861_000 + 1000); // old.1's lease (granted at t0) is due
      assert.equal(sim.expireEventsNow(), 1);
      sim.clock.advance(61_000); // later.1's lease
      assert.equal(sim.expireEventsNow(), 1);
      await w.waitFrames(2);
      assert.deepEqual(
        w.frames.map((f) => f.object.metadata.name),
        ['old.1', 'later.1'],
      );
      assert.notEqual(w.frames[0].object.metadata.resourceVersion, w.frames[1].object.metadata.resourceVersion);
      assert.ok(await sim.store.get(`${base}/bumped.1`));
      sim.clock.advance(1800_000);
      assert.equal(sim.expireEventsNow(), 1);
      w.close();
    } finally {
      await sim.close();
    }
  });

  test('expiry - L9: a watch from a compacted RV gets 200, one ERROR 410 Expired frame, then EOF', async () => {
    const sim = await startKubeSim({ historyMaxEvents: 5 });
    try {
      const ns = rand('ns');
      const rv0 = Number(sim.resourceVersion());
      for (let i = 0; i < 10; i++) await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, `e${i}.1`));
      const w = await watch(sim, `/api/v1/events?watch=true&resourceVersion=${rv0}`);
      assert.equal(w.status, 200);
      await w.waitEnd();
      assert.equal(w.error, undefined);
      assert.equal(w.frames.length, 1);
      const compacted = Number(sim.stats().compactedResourceVersion);
      assert.deepEqual(w.frames[0], {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${rv0} (${compacted})`,
          reason: 'Expired',
          code: 410,
        },
      });
      // A watch from exactly the compaction revision is still served.
      const ok = await watch(sim, `/api/v1/events?watch=true&resourceVersion=${compacted}&timeoutSeconds=1`);
      await ok.waitEnd(3000);
      assert.equal(ok.frames.length, 5);
    } finally {
      await sim.close();
    }
  });

  test('expiry - L9 by time: history older than historyWindowSeconds is compacted', async () => {
    const sim = await startKubeSim({ historyWindowSeconds: 60 });
    try {
      const ns = rand('ns');
      const rv0 = sim.resourceVersion();
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
      sim.clock.advance(61_000);
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'b.1'));
      const w = await watch(sim, `/api/v1/events?watch=true&resourceVersion=${rv0}`);
      await w.waitEnd();
      assert.equal(w.frames[0].type, 'ERROR');
      assert.equal(w.frames[0].object.code, 410);
    } finally {
      await sim.close();
    }
  });

  test('expiry - L10: an exact LIST at a compacted RV is HTTP 410; within history it returns the old state', async () => {
    const sim = await startKubeSim({ historyMaxEvents: 3 });
    try {
      const ns = rand('ns');
      const base = `/api/v1/namespaces/${ns}/events`;
      await sim.store.create(base, coreEvent(ns, 'a.1'));
      const rvA = sim.resourceVersion();
      for (let i = 0; i < 5; i++) await sim.store.create(base, coreEvent(ns, `z${i}.1`));
      const stale = await request(sim, 'GET', `${base}?resourceVersion=${rvA}&limit=10`);
      assert.equal(stale.status, 410);
      assert.deepEqual(stale.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'The resourceVersion for the provided list is too old.',
        reason: 'Expired',
        code: 410,
      });
      const stale2 = await request(sim, 'GET', `${base}?resourceVersion=${rvA}&resourceVersionMatch=Exact`);
      assert.equal(stale2.status, 410);
      const notOlder = await request(sim, 'GET', `${base}?resourceVersion=${rvA}`);
      assert.equal(notOlder.status, 200, 'NotOlderThan is served from the latest state');
      assert.equal(notOlder.json.items.length, 6);
      const rvNow = Number(sim.resourceVersion());
      await sim.store.delete(`${base}/z4.1`);
      await sim.store.patch(`${base}/z3.1`, { count: 7 });
      const exact = await request(sim, 'GET', `${base}?resourceVersion=${rvNow}&resourceVersionMatch=Exact`);
      assert.equal(exact.status, 200);
      assert.equal(exact.json.metadata.resourceVersion, String(rvNow));
      assert.equal(exact.json.items.length, 6);
      assert.equal(exact.json.items.find((e: CoreV1Event) => e.metadata.name === 'z3.1').count, 1);
    } finally {
      await sim.close();
    }
  });

  test('expiry - L8: an expired continue token is 410 Expired with the apiserver message', async () => {
    const sim = await startKubeSim({ continueTtlSeconds: 60 });
    try {
      const ns = rand('ns');
      for (let i = 0; i < 4; i++) await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, `e${i}.1`));
      const p1 = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?limit=2`);
      assert.ok(p1.json.metadata.continue);
      sim.clock.advance(61_000);
      const p2 = await request(
        sim,
        'GET',
        `/api/v1/namespaces/${ns}/events?limit=2&continue=${p1.json.metadata.continue}`,
      );
      assert.equal(p2.status, 410);
      assert.equal(p2.json.reason, 'Expired');
      assert.match(
        p2.json.message,
        /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter/,
      );
      // A token whose snapshot revision has been compacted is expired too.
      sim.clock.setOffset(0);
      const p3 = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?limit=2`);
      sim.faults.compactSilently();
      const p4 = await request(
        sim,
        'GET',
        `/api/v1/namespaces/${ns}/events?limit=2&continue=${p3.json.metadata.continue}`,
      );
      assert.equal(p4.status, 410);
      const bad = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?limit=2&continue=garbage`);
      assert.equal(bad.status, 400);
    } finally {
      await sim.close();
    }
  });

  test('expiry - ERROR 410 makes the client-node informer relist and diff (delete vanished, add new)', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      const base = `/api/v1/namespaces/${ns}/events`;
      await sim.store.create(base, coreEvent(ns, 'keep.1'));
      await sim.store.create(base, coreEvent(ns, 'gone.1'));
      const core = sim.kubeConfig.makeApiClient(CoreV1Api);
      const informer = makeInformer(sim.kubeConfig, base, () => core.listNamespacedEvent({ namespace: ns }));
      const log: string[] = [];
      informer.on('add', (e: CoreV1Event) => log.push(`add ${e.metadata.name}`));
      informer.on('delete', (e: CoreV1Event) => log.push(`delete ${e.metadata.name}`));
      await informer.start();
      await waitFor(() => sim.stats().openWatches === 1);
      const listsBefore = sim.stats().requests['list events'] ?? 0;
      // Close the live watch and change the store before the client can resume; its resume gets ERROR 410.
      sim.faults.failNextWatches(1);
      sim.faults.closeWatches();
      await sim.store.delete(`${base}/gone.1`);
      await sim.store.create(base, coreEvent(ns, 'new.1'));
      await waitFor(() => log.includes('delete gone.1') && log.includes('add new.1'), 10_000, 'relist diff');
      assert.equal(sim.stats().requests['list events'], listsBefore + 1);
      await informer.stop();
    } finally {
      await sim.close();
    }
  });
});
