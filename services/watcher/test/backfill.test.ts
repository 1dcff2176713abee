import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compareResourceVersion } from '@kec/k8s';
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

let e: Env;
before(async () => {
  e = await setup();
});
after(async () => {
  await e.cleanup();
});

test('backfill - 10,000 events existing before start all reach KEC_RAW and the checkpoint is stored', async () => {
  const N = 10_000;
  for (let i = 0; i < N; i++) {
    const ns = `ns-${i % 7}`;
    await e.sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, `ev-${i}`, i));
  }
  const lastEventRv = e.sim.resourceVersion();
  const w = await startInProcess({ ...e.env, KEC_WATCHER_PAGE_SIZE: '500' });
  try {
    await waitFor('10,000 messages in KEC_RAW', async () => (await streamCount(e.bus, e.rawStream)) >= N, 45_000, 200);
    const cp = await waitFor(
      'a checkpoint at or past the last event',
      async () => {
        const rv = await readCheckpoint(e.bus, e.bucket, e.cluster);
        return rv !== undefined && compareResourceVersion(rv, lastEventRv) >= 0 ? rv : undefined;
      },
      10_000,
    );
    assert.ok(cp);
    const msgs = await readAll(e.bus, e.rawStream);
    assert.equal(msgs.length, N, 'exactly one message per event (no duplicates)');
    const uids = new Set(msgs.map((m) => m.data.uid));
    assert.equal(uids.size, N);
    for (const m of msgs) {
      assert.equal(m.data.watchType, 'LISTED');
      assert.equal(m.msgId, `${e.cluster}/${m.data.uid}/${m.data.resourceVersion}`);
      assert.equal(m.subject, `t${e.id}.raw.${e.cluster}.${m.data.namespace}.Pod`);
    }
    // Paginated: the LIST went out in pages of 500, never one unbounded LIST.
    const listCalls = e.sim.stats().requests['list events'] ?? 0;
    assert.ok(listCalls >= N / 500, `expected >= ${N / 500} LIST pages, saw ${listCalls}`);
    assert.equal(w.health(), undefined);
    assert.equal(w.running.readiness(), undefined);
  } finally {
    w.abort.abort();
    await w.running.stop();
  }
});
