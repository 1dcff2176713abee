import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '@kec/config';
import { buildFilter, watcherConfig } from '../src/index.ts';
import {
  coreEvent,
  type Env,
  readAll,
  readCheckpoint,
  setup,
  startInProcess,
  streamCount,
  waitFor,
} from './helpers.ts';

const cfg = (env: Record<string, string>) => loadConfig(watcherConfig, { env });

test('filter - server-side field selectors where the API can express them, client-side for the rest', () => {
  const core = buildFilter(
    cfg({
      KEC_WATCHER_NAMESPACES: 'shop',
      KEC_WATCHER_KINDS: 'Pod',
      KEC_WATCHER_EXCLUDE_REASONS: 'Pulled,Created',
      KEC_WATCHER_TYPES: 'Warning',
    }),
  );
  assert.equal(core.path, '/api/v1/namespaces/shop/events');
  assert.equal(core.fieldSelector, 'involvedObject.kind=Pod,reason!=Pulled,reason!=Created,type=Warning');
  const v1 = buildFilter(
    cfg({ KEC_WATCHER_API: 'events.k8s.io/v1', KEC_WATCHER_NAMESPACES: 'a,b', KEC_WATCHER_EXCLUDE_KINDS: 'Node' }),
  );
  assert.equal(v1.path, '/apis/events.k8s.io/v1/events');
  assert.equal(v1.fieldSelector, 'regarding.kind!=Node'); // events.k8s.io rejects involvedObject.*
  const ev = (namespace: string, kind: string) =>
    ({ namespace, regarding: { kind }, reason: 'BackOff', type: 'Warning' }) as Parameters<typeof v1.accept>[0];
  assert.equal(v1.accept(ev('a', 'Pod')), true);
  assert.equal(v1.accept(ev('c', 'Pod')), false, 'several namespaces are filtered client-side');
  assert.equal(v1.accept(ev('b', 'Node')), false);
});

let e: Env;
before(async () => {
  e = await setup({
    watcherEnv: {
      KEC_WATCHER_API: 'events.k8s.io/v1',
      KEC_WATCHER_NAMESPACES: 'keep-1,keep-2',
      KEC_WATCHER_EXCLUDE_REASONS: 'Pulled',
    },
  });
});
after(async () => {
  await e.cleanup();
});

test('filter - events.k8s.io/v1 rendering with filters: only matching events are published, all advance the checkpoint', async () => {
  for (let i = 0; i < 30; i++) {
    const ns = ['keep-1', 'keep-2', 'drop'][i % 3]!;
    await e.sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, `f-${i}`, i)); // reason BackOff or Pulled
  }
  // i % 3 === 0: namespace keep-1 with reason BackOff (kept); keep-2 events are all Pulled (dropped); drop: dropped.
  const want = 10;
  const w = await startInProcess(e.env);
  try {
    const last = e.sim.resourceVersion();
    await waitFor('the checkpoint past every event', async () => {
      const cp = await readCheckpoint(e.bus, e.bucket, e.cluster);
      return cp !== undefined && BigInt(cp) >= BigInt(last);
    });
    await waitFor('published', async () => (await streamCount(e.bus, e.rawStream)) >= want);
    const msgs = await readAll(e.bus, e.rawStream);
    assert.equal(msgs.length, want);
    for (const m of msgs) {
      assert.equal(m.data.sourceApi, 'events.k8s.io/v1');
      assert.ok(m.data.namespace.startsWith('keep-'));
      assert.notEqual(m.data.reason, 'Pulled');
      assert.equal(m.data.deprecatedCount, 1, 'core fields survive the events.k8s.io rendering');
    }
  } finally {
    w.abort.abort();
    await w.running.stop();
  }
});
