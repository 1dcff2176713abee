import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type KubeSim, startKubeSim } from '@kec/kube-sim';
import { KubeClient, ListWatcher, type ListWatchItem, paginatedList, watch } from '../src/index.ts';

let sim: KubeSim;
let client: KubeClient;
before(async () => {
  sim = await startKubeSim({ port: 0, continueTtlSeconds: 1 });
  client = new KubeClient(sim.kubeConfig);
});
after(async () => {
  client.close();
  await sim.close();
});

let n = 0;
function ev(ns: string): Record<string, unknown> {
  const i = n++;
  return {
    metadata: { name: `e-${i}`, namespace: ns },
    involvedObject: { kind: 'Pod', namespace: ns, name: `p-${i}` },
    reason: 'Started',
    message: 'm',
    source: { component: 'kubelet' },
    count: 1,
    type: 'Normal',
    firstTimestamp: '2026-05-01T12:00:00Z',
    lastTimestamp: '2026-05-01T12:00:00Z',
  };
}

async function waitFor<T>(what: string, fn: () => T, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a ListWatcher in the background, collecting what it yields. */
function collect(lw: ListWatcher) {
  const items: ListWatchItem[] = [];
  const ac = new AbortController();
  const done = (async () => {
    for await (const it of lw.run(ac.signal)) items.push(it);
  })();
  return {
    items,
    names: () =>
      new Set(
        items.flatMap((i) =>
          i.kind === 'list-page'
            ? i.items.map((o) => (o.metadata as { name: string }).name)
            : i.kind === 'event'
              ? [(i.object.metadata as { name: string }).name]
              : [],
        ),
      ),
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

test('list - pages with limit, and a continue token that expired restarts the list', async () => {
  const ns = 'pages';
  for (let i = 0; i < 9; i++) await sim.store.create(`/api/v1/namespaces/${ns}/events`, ev(ns));
  const pages = [];
  for await (const p of paginatedList(client, `/api/v1/namespaces/${ns}/events`, { limit: 4 })) pages.push(p);
  assert.deepEqual(
    pages.map((p) => p.items.length),
    [4, 4, 1],
  );
  assert.equal(new Set(pages.map((p) => p.resourceVersion)).size, 1, 'one snapshot');
  // A slow reader: the continue token expires (continueTtlSeconds 1) and the list restarts from scratch.
  const slow = [];
  for await (const p of paginatedList(client, `/api/v1/namespaces/${ns}/events`, { limit: 4 })) {
    slow.push(p);
    if (slow.length === 1) await new Promise((r) => setTimeout(r, 1200)); // outlive the token (load shape)
  }
  assert.equal(slow[1]?.restarted, true);
  assert.equal(slow[1]?.first, true);
  assert.equal(slow.at(-1)?.last, true);
});

test('watch - frames are raw JSON: MicroTime keeps its six digits', async () => {
  const ns = 'micro';
  const rv = sim.resourceVersion();
  const ac = new AbortController();
  const frames = watch(client, `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
    resourceVersion: rv,
    signal: ac.signal,
  });
  const first = frames.next();
  await sim.store.create(`/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
    metadata: { name: 'x.1', namespace: ns },
    eventTime: '2026-05-01T12:00:00.123456Z',
    series: { count: 2, lastObservedTime: '2026-05-01T12:04:00.654321Z' },
    reportingController: 'default-scheduler',
    reportingInstance: 'sched-1',
    action: 'Scheduling',
    reason: 'FailedScheduling',
    regarding: { kind: 'Pod', namespace: ns, name: 'p' },
    note: 'n',
    type: 'Warning',
  });
  const f = await first;
  ac.abort();
  assert.ok(f.value);
  assert.equal(f.value.type, 'ADDED');
  assert.equal(f.value.object.eventTime, '2026-05-01T12:00:00.123456Z');
  assert.equal((f.value.object.series as { lastObservedTime: string }).lastObservedTime, '2026-05-01T12:04:00.654321Z');
});

test('listwatcher - never stops: 500s, resets and clean closes are retried; nothing written meanwhile is lost', async () => {
  const ns = 'robust';
  await sim.store.create(`/api/v1/namespaces/${ns}/events`, ev(ns));
  const lw = new ListWatcher({
    client,
    path: `/api/v1/namespaces/${ns}/events`,
    pageSize: 2,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  const c = collect(lw);
  try {
    await waitFor('initial list', () => c.items.some((i) => i.kind === 'list-end'));
    const expect = new Set(c.names());
    const write = async () => {
      const o = ev(ns);
      expect.add((o.metadata as { name: string }).name);
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, o);
    };
    await write();
    sim.faults.closeWatches(); // clean EOF: rewatch from the last RV
    await write();
    sim.faults.failFraction(1); // every request 500s (client-node's informer would stop here, C4)
    sim.faults.resetConnections();
    await write();
    await waitFor('errors seen', () => lw.progress.consecutiveErrors >= 2);
    sim.faults.failFraction(0);
    await write();
    await waitFor('every event seen', () => [...expect].every((x) => c.names().has(x)));
    assert.equal(lw.progress.relists, 0, 'no relist was needed: the watch resumed from its RV');
    assert.ok(lw.progress.watchRestarts >= 2);
  } finally {
    sim.faults.reset();
    await c.stop();
  }
});

test('listwatcher - ERROR 410 relists and reports the gap from the last RV to the list RV', async () => {
  const ns = 'expire';
  await sim.store.create(`/api/v1/namespaces/${ns}/events`, ev(ns));
  const lw = new ListWatcher({
    client,
    path: `/api/v1/namespaces/${ns}/events`,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  const c = collect(lw);
  try {
    await waitFor('initial list', () => c.items.some((i) => i.kind === 'list-end'));
    const lastRv = lw.progress.resourceVersion;
    // Cut the watcher off, write while it is away, and make its resume answer ERROR 410.
    sim.faults.failFraction(1);
    sim.faults.resetConnections();
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, ev(ns));
    sim.faults.failNextWatches(1);
    sim.faults.failFraction(0);
    const end = await waitFor('a relist', () =>
      c.items.find(
        (i): i is Extract<ListWatchItem, { kind: 'list-end' }> => i.kind === 'list-end' && i.reason === 'expired',
      ),
    );
    assert.ok(end.gap, 'a gap, since the API moved on');
    assert.equal(end.gap.fromResourceVersion, lastRv);
    assert.equal(end.gap.toResourceVersion, end.resourceVersion);
    assert.equal(lw.progress.relists, 1);
    assert.equal(lw.progress.gaps, 1);
  } finally {
    sim.faults.reset();
    await c.stop();
  }
});

test('listwatcher - a quiet watch while the API RV moves on is probed and re-opened; events still arrive', async () => {
  const ns = 'stall';
  await sim.store.create(`/api/v1/namespaces/${ns}/events`, ev(ns));
  const logs: string[] = [];
  const logger = {
    debug: (_o: object, msg?: string) => void logs.push(`debug ${msg}`),
    info: (_o: object, msg?: string) => void logs.push(`info ${msg}`),
    warn: (_o: object, msg?: string) => void logs.push(`warn ${msg}`),
  };
  const lw = new ListWatcher({
    client,
    path: `/api/v1/namespaces/${ns}/events`,
    stallAfterMs: 300,
    stallCheckIntervalMs: 100,
    logger,
  });
  const c = collect(lw);
  try {
    await waitFor('initial list', () => c.items.some((i) => i.kind === 'list-end'));
    // Writes elsewhere move the global RV while this watch sees nothing.
    for (let i = 0; i < 3; i++) await sim.store.create('/api/v1/namespaces/elsewhere/events', ev('elsewhere'));
    await waitFor('a stall restart', () => lw.progress.watchRestarts >= 1, 5000);
    // Events get no periodic bookmarks: the restart is this server's normal, logged at debug.
    assert.ok(logs.includes('debug watch quiet while API moved on; restarting it'), logs.join('\n'));
    assert.ok(!logs.some((l) => l.startsWith('warn')), logs.join('\n'));
    const o = ev(ns);
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, o);
    await waitFor('the event after the restart', () => c.names().has((o.metadata as { name: string }).name));
    assert.equal(lw.progress.relists, 0);
  } finally {
    await c.stop();
  }
});

test('listwatcher - a quiet watch of a kind that gets periodic bookmarks is never restarted while the API moves on', async () => {
  const bsim = await startKubeSim({ port: 0, bookmarkIntervalSeconds: 1 });
  const bclient = new KubeClient(bsim.kubeConfig);
  const logs: string[] = [];
  const logger = {
    debug: (_o: object, msg?: string) => void logs.push(`debug ${msg}`),
    info: (_o: object, msg?: string) => void logs.push(`info ${msg}`),
    warn: (_o: object, msg?: string) => void logs.push(`warn ${msg}`),
  };
  // Nodes do not change here; events do, so the API RV moves on all the time.
  const lw = new ListWatcher({
    client: bclient,
    path: '/api/v1/nodes',
    stallAfterMs: 2500,
    stallCheckIntervalMs: 200,
    logger,
  });
  const c = collect(lw);
  let writing = true;
  const writer = (async () => {
    while (writing) {
      await bsim.store.create('/api/v1/namespaces/busy/events', ev('busy'));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await waitFor('initial list', () => c.items.some((i) => i.kind === 'list-end'));
    await waitFor('four bookmarks', () => c.items.filter((i) => i.kind === 'bookmark').length >= 4, 15_000);
    assert.equal(lw.progress.watchRestarts, 0, logs.join('\n'));
    assert.ok(!logs.some((l) => l.includes('watch quiet')), logs.join('\n'));
    const last = c.items.filter((i) => i.kind === 'bookmark').at(-1) as { resourceVersion: string };
    assert.ok(Number(last.resourceVersion) > 4, 'bookmarks carry the moving API RV');
  } finally {
    writing = false;
    await writer;
    await c.stop();
    bclient.close();
    await bsim.close();
  }
});
