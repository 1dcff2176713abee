// Audit 1 (watch basics), L3/L5/L6/L9/L12/L13 against raw HTTP and client-node 2.0.1 Watch / ListWatch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, type CoreV1Event, ListWatch, makeInformer, Watch } from '@kubernetes/client-node';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, waitFor, watch } from './helpers.ts';

describe('kube-sim watch', () => {
  let sim: KubeSim;
  before(async () => {
    sim = await startKubeSim({});
  });
  after(async () => {
    await sim.close();
  });

  test('watch - L5 framing: 200 chunked, one JSON per line with kind/apiVersion, list items without', async () => {
    const ns = rand('ns');
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'web-1.17c8a9f0e3b1d2a4'));
    const list = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events`);
    assert.equal(list.status, 200);
    assert.equal(list.json.kind, 'EventList');
    assert.equal(list.json.items[0].kind, undefined);
    assert.equal(list.json.items[0].apiVersion, undefined);
    const w = await watch(
      sim,
      `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${list.json.metadata.resourceVersion}`,
    );
    assert.equal(w.status, 200);
    assert.equal(w.headers['content-type'], 'application/json');
    assert.equal(w.headers['transfer-encoding'], 'chunked');
    await sim.store.patch(
      `/api/v1/namespaces/${ns}/events/web-1.17c8a9f0e3b1d2a4`,
      { count: 2, lastTimestamp: '2026-05-01T12:05:10Z' },
      'application/strategic-merge-patch+json',
    );
    await w.waitFrames(1);
    assert.ok(w.raw.endsWith('\n'));
    assert.equal(w.frames[0].type, 'MODIFIED');
    assert.equal(w.frames[0].object.kind, 'Event');
    assert.equal(w.frames[0].object.apiVersion, 'v1');
    assert.equal(w.frames[0].object.count, 2);
    assert.ok(Number(w.frames[0].object.metadata.resourceVersion) > Number(list.json.metadata.resourceVersion));
    w.close();
  });

  test('watch - L3: RV-pinned watch sends no synthetic ADDED; unset and "0" do', async () => {
    const ns = rand('ns');
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'b.1'));
    const rv = sim.resourceVersion();
    const pinned = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${rv}`);
    const unset = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true`);
    const zero = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=1&resourceVersion=0`);
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'c.1'));
    await unset.waitFrames(3);
    await zero.waitFrames(3);
    await pinned.waitFrames(1);
    assert.deepEqual(
      pinned.frames.map((f) => [f.type, f.object.metadata.name]),
      [['ADDED', 'c.1']],
    );
    assert.deepEqual(
      unset.frames.map((f) => [f.type, f.object.metadata.name]),
      [
        ['ADDED', 'a.1'],
        ['ADDED', 'b.1'],
        ['ADDED', 'c.1'],
      ],
    );
    assert.deepEqual(
      zero.frames.map((f) => f.type),
      ['ADDED', 'ADDED', 'ADDED'],
    );
    for (const w of [pinned, unset, zero]) w.close();
  });

  test('watch - history replay from an older RV delivers exactly the later changes', async () => {
    const ns = rand('ns');
    const rv0 = sim.resourceVersion();
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
    await sim.store.patch(`/api/v1/namespaces/${ns}/events/a.1`, { count: 5 });
    await sim.store.delete(`/api/v1/namespaces/${ns}/events/a.1`);
    const w = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${rv0}`);
    await w.waitFrames(3);
    assert.deepEqual(
      w.frames.map((f) => f.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    const rvs = w.frames.map((f) => Number(f.object.metadata.resourceVersion));
    assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!);
    assert.equal(w.frames[2].object.count, 5, 'DELETED carries the last state');
    w.close();
  });

  test('watch - L6: objects move in and out of a label/field selector', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/pods`;
    await sim.store.create(base, { metadata: { name: 'p1', labels: { app: 'web' } }, spec: { nodeName: 'n1' } });
    const rv = sim.resourceVersion();
    const w = await watch(sim, `${base}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb`);
    const wf = await watch(sim, `${base}?watch=true&resourceVersion=${rv}&fieldSelector=spec.nodeName%3Dn2`);
    await sim.store.patch(`${base}/p1`, { metadata: { labels: { app: 'db' } }, spec: { nodeName: 'n2' } });
    await w.waitFrames(1);
    await wf.waitFrames(1);
    assert.equal(w.frames[0].type, 'DELETED');
    assert.equal(w.frames[0].object.metadata.labels.app, 'web', 'the previous object');
    const leaveRv = Number(w.frames[0].object.metadata.resourceVersion);
    assert.equal(leaveRv, Number(sim.resourceVersion()), 'at the new resourceVersion');
    assert.equal(wf.frames[0].type, 'ADDED');
    await sim.store.patch(`${base}/p1`, { metadata: { labels: { app: 'web' } } });
    await w.waitFrames(2);
    assert.equal(w.frames[1].type, 'ADDED');
    w.close();
    wf.close();
  });

  test('watch - L12: no bookmarks unless asked; sendInitialEvents ends initial events with an annotated bookmark', async () => {
    const ns = rand('ns');
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
    const w = await watch(
      sim,
      `/api/v1/namespaces/${ns}/events?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
    );
    await w.waitFrames(2);
    assert.equal(w.frames[0].type, 'ADDED');
    assert.equal(w.frames[1].type, 'BOOKMARK');
    assert.deepEqual(w.frames[1].object, {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { resourceVersion: sim.resourceVersion(), annotations: { 'k8s.io/initial-events-end': 'true' } },
      involvedObject: {},
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    const plain = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true`);
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'b.1'));
    await plain.waitFrames(2);
    assert.ok(plain.frames.every((f) => f.type !== 'BOOKMARK'));
    const bad = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?watch=true&sendInitialEvents=true`);
    assert.equal(bad.status, 422);
    const bad2 = await request(
      sim,
      'GET',
      `/api/v1/namespaces/${ns}/events?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`,
    );
    assert.equal(bad2.status, 422);
    w.close();
    plain.close();
  });

  test('watch - L13: timeoutSeconds ends the stream with a clean EOF and no final frame', async () => {
    const ns = rand('ns');
    const t0 = Date.now();
    const w = await watch(
      sim,
      `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${sim.resourceVersion()}&timeoutSeconds=1`,
    );
    await w.waitEnd(5000);
    assert.equal(w.error, undefined);
    assert.equal(w.frames.length, 0);
    assert.ok(Date.now() - t0 >= 900);
  });

  test('watch - client-node Watch receives ADDED/MODIFIED/DELETED with string timestamps', async () => {
    const ns = rand('ns');
    const seen: [string, string, unknown][] = [];
    const req = await new Watch(sim.kubeConfig).watch(
      `/api/v1/namespaces/${ns}/events`,
      { resourceVersion: sim.resourceVersion() },
      (type, obj) => seen.push([type, obj.metadata.name, obj.lastTimestamp]),
      () => {},
    );
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'x.1'));
    await sim.store.patch(`/api/v1/namespaces/${ns}/events/x.1`, { count: 2 });
    await sim.store.delete(`/api/v1/namespaces/${ns}/events/x.1`);
    await waitFor(() => seen.length === 3);
    assert.deepEqual(
      seen.map((s) => s[0]),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    assert.equal(typeof seen[0]![2], 'string');
    req.abort();
  });

  test('watch - client-node makeInformer lists with CoreV1Api.listEventForAllNamespaces, then follows changes', async () => {
    const ns = rand('ns');
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'pre.1'));
    const core = sim.kubeConfig.makeApiClient(CoreV1Api);
    const informer = makeInformer(sim.kubeConfig, '/api/v1/events', () => core.listEventForAllNamespaces());
    const adds: string[] = [];
    const updates: number[] = [];
    informer.on('add', (e: CoreV1Event) => adds.push(e.metadata.name!));
    informer.on('update', (e: CoreV1Event) => updates.push(e.count ?? 0));
    await informer.start();
    assert.ok(adds.includes('pre.1'));
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'post.1'));
    await sim.store.patch(`/api/v1/namespaces/${ns}/events/post.1`, { count: 3 });
    await waitFor(() => adds.includes('post.1') && updates.includes(3));
    await informer.stop();
  });

  test('watch - ListWatch with a field selector only sees matching events', async () => {
    const ns = rand('ns');
    const core = sim.kubeConfig.makeApiClient(CoreV1Api);
    const fs = 'reason=Killing';
    const lw = new ListWatch(
      `/api/v1/namespaces/${ns}/events`,
      new Watch(sim.kubeConfig),
      () => core.listNamespacedEvent({ namespace: ns, fieldSelector: fs }),
      false,
      undefined,
      fs,
    );
    const adds: string[] = [];
    lw.on('add', (e: CoreV1Event) => adds.push(e.metadata.name!));
    await lw.start();
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1', { reason: 'Killing' }));
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'b.1', { reason: 'Pulled' }));
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'c.1', { reason: 'Killing' }));
    await waitFor(() => adds.length === 2);
    assert.deepEqual(adds, ['a.1', 'c.1']);
    await lw.stop();
  });
});

describe('kube-sim watch bookmarks and forms', () => {
  test('watch - L12: cached kinds get periodic bookmarks when asked; events never do', async () => {
    const sim = await startKubeSim({ bookmarkIntervalSeconds: 1 });
    try {
      const ns = rand('ns');
      const rv = sim.resourceVersion();
      const pods = await watch(
        sim,
        `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`,
      );
      const events = await watch(
        sim,
        `/api/v1/namespaces/${ns}/events?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`,
      );
      const quiet = await watch(sim, `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${rv}`);
      await pods.waitFrames(1, 5000);
      assert.deepEqual(pods.frames[0], {
        type: 'BOOKMARK',
        object: {
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: { resourceVersion: sim.resourceVersion() },
          spec: { containers: null },
          status: {},
        },
      });
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
      await sim.store.create(`/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p' } });
      await events.waitFrames(1);
      await quiet.waitFrames(1);
      assert.deepEqual(
        events.frames.map((f) => f.type),
        ['ADDED'],
      );
      assert.deepEqual(
        quiet.frames.map((f) => f.type),
        ['ADDED'],
      );
      for (const w of [pods, events, quiet]) w.close();
    } finally {
      await sim.close();
    }
  });

  test('watch - the deprecated /watch/ path form and a single-object watch', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      const rv = sim.resourceVersion();
      const all = await watch(sim, `/api/v1/watch/namespaces/${ns}/pods?resourceVersion=${rv}`);
      const one = await watch(sim, `/api/v1/watch/namespaces/${ns}/pods/p2?resourceVersion=${rv}`);
      await sim.store.create(`/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p1' } });
      await sim.store.create(`/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p2' } });
      await all.waitFrames(2);
      await one.waitFrames(1);
      assert.deepEqual(
        one.frames.map((f) => f.object.metadata.name),
        ['p2'],
      );
      all.close();
      one.close();
    } finally {
      await sim.close();
    }
  });
});

describe('kube-sim watch streaming-list forms', () => {
  test('watch - sendInitialEvents=false with RV unset starts at the latest revision without replaying history', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'old.1'));
      const w = await watch(
        sim,
        `/api/v1/namespaces/${ns}/events?watch=true&sendInitialEvents=false&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
      );
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'new.1'));
      await w.waitFrames(1);
      assert.deepEqual(
        w.frames.map((f) => [f.type, f.object.metadata.name]),
        [['ADDED', 'new.1']],
      );
      w.close();
    } finally {
      await sim.close();
    }
  });

  test('watch - cached kinds get a bookmark about 2 s before the timeoutSeconds deadline when asked', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      const w = await watch(
        sim,
        `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${sim.resourceVersion()}&allowWatchBookmarks=true&timeoutSeconds=3`,
      );
      await w.waitEnd(6000);
      assert.deepEqual(
        w.frames.map((f) => f.type),
        ['BOOKMARK'],
      );
    } finally {
      await sim.close();
    }
  });
});
