// The silent gap of kubernetes PR #137307: a watch resumed from a compacted RV gets 200 and a clean EOF with no
// ERROR 410. The watcher must notice (an early, empty close whose RV an exact LIST says is gone), relist, and publish
// a gap record with reason silent-close that covers every observation it could not recover.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compareResourceVersion } from '@kec/k8s';
import {
  type Env,
  EventWriter,
  insideSomeGap,
  readCheckpoint,
  replay,
  setup,
  startInProcess,
  streamCount,
  verifyAgainstTruth,
  waitFor,
} from './helpers.ts';

let e: Env;
let w: Awaited<ReturnType<typeof startInProcess>>;
before(async () => {
  e = await setup({ watcherEnv: { KEC_WATCHER_CHECKPOINT_INTERVAL_MS: '100' } });
  w = await startInProcess(e.env);
  await waitFor('the initial LIST checkpointed', () => readCheckpoint(e.bus, e.bucket, e.cluster), 20_000);
});
after(async () => {
  w.abort.abort();
  await w.running.stop();
  await e.cleanup();
});

test('silent close - a resumed watch that ends with no ERROR 410 after compaction: relist and a silent-close gap', async () => {
  const wr = new EventWriter(e.sim, 's');
  const from = wr.written.length;
  wr.start(300);
  try {
    await waitFor('writes flowing', () => wr.written.length > from + 100);
    e.sim.faults.staleWatchesCloseSilently(true);
    // Cut the watcher off while events keep changing, then compact: its RV cannot be resumed, and the server
    // will say so only by closing the resumed watch at once.
    e.sim.faults.failFraction(1);
    e.sim.faults.resetConnections();
    const n = wr.written.length;
    await waitFor('writes while the watcher is cut off', () => wr.written.length > n + 150);
    e.sim.faults.compactSilently();
    e.sim.faults.failFraction(0);
    await waitFor('a gap record', async () => (await streamCount(e.bus, e.gapStream)) > 0, 30_000);
    const m = wr.written.length;
    await waitFor('more writes after the relist', () => wr.written.length > m + 100);
  } finally {
    e.sim.faults.reset();
    await wr.stop();
  }
  const { msgs, gaps, missing } = await verifyAgainstTruth(e, wr, from);
  assert.equal(gaps.length, 1, JSON.stringify(gaps.map((g) => g.data)));
  const g = gaps[0]!.data;
  assert.equal(g.reason, 'silent-close');
  assert.ok(compareResourceVersion(g.fromResourceVersion, g.toResourceVersion) < 0, 'the gap is not empty');
  assert.ok(missing.length > 0, 'observations written while cut off and compacted away were lost');
  for (const x of missing) assert.ok(insideSomeGap(x.rv, [g]), `observation ${x.rv} lost outside the gap`);
  const mine = msgs.filter((x) => wr.latest.has(x.data.uid)).map((x) => x.data);
  assert.equal(replay(mine).occurrences, wr.occurrences, 'current state recovered by the relist');
});
