// 410 mid-watch and a silent close after compaction: no loss, or a gap record exactly covering what was lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compareResourceVersion } from '@kec/k8s';
import {
  coreEvent,
  type Env,
  EventWriter,
  type GapLike,
  insideSomeGap,
  readAll,
  readCheckpoint,
  replay,
  type StoredMsg,
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

function checkGaps(gaps: { data: GapLike }[], missing: { rv: string }[]): void {
  for (const g of gaps) {
    assert.equal(g.data.cluster, e.cluster);
    assert.ok(compareResourceVersion(g.data.fromResourceVersion, g.data.toResourceVersion) < 0, 'a gap is not empty');
  }
  for (const m of missing)
    assert.ok(
      insideSomeGap(
        m.rv,
        gaps.map((g) => g.data),
      ),
      `observation ${m.rv} lost outside any gap`,
    );
}

test('gaps - ERROR 410 and HTTP 410 mid-watch: relist, nothing lost outside the gap, occurrences exact', async () => {
  const wr = new EventWriter(e.sim, 'a');
  const from = wr.written.length;
  wr.start(300);
  try {
    for (const mode of ['error', 'http'] as const) {
      const lists = e.sim.stats().requests['list events'] ?? 0;
      const n0 = wr.written.length;
      await waitFor('writes flowing', () => wr.written.length > n0 + 100);
      e.sim.faults.failNextWatches(1, mode);
      e.sim.faults.closeWatches();
      // A relist follows; it yields a gap record only when the API moved on between the last frame and the LIST.
      await waitFor(
        `a relist after the ${mode} 410`,
        () => (e.sim.stats().requests['list events'] ?? 0) > lists,
        15_000,
      );
    }
    const n = wr.written.length;
    await waitFor('more writes after the relists', () => wr.written.length > n + 100);
  } finally {
    await wr.stop();
  }
  const { msgs, gaps, missing } = await verifyAgainstTruth(e, wr, from);
  for (const g of gaps) assert.equal(g.data.reason, 'expired');
  checkGaps(gaps, missing);
  // The relist's LISTED observations carry the latest counts: downstream counts exactly the occurrences written.
  const mine = msgs.filter((m) => wr.latest.has(m.data.uid)).map((m) => m.data);
  assert.equal(replay(mine).occurrences, wr.occurrences);
  // The relists happened (awaited above). Their LISTED copies of versions already published are dropped by msg-id,
  // so LISTED messages remain only for what changed between the broken watch and the LIST, which may be nothing
  // when the watcher was caught up: the exact occurrences above are what shows the relists lost nothing.
});

test('gaps - a silent close after compaction while the watcher is cut off: relist and a gap exactly covering the loss', async () => {
  const wr = new EventWriter(e.sim, 'b');
  const from = wr.written.length;
  wr.start(300);
  const gapsBefore = (await readAll(e.bus, e.gapStream)).length;
  try {
    await waitFor('writes flowing', () => wr.written.length > from + 100);
    // Cut the watcher off (its watch and every request fail), keep writing, then compact everything and close
    // watches without an ERROR frame: resuming from its RV is impossible.
    e.sim.faults.failFraction(1);
    e.sim.faults.resetConnections();
    const n = wr.written.length;
    await waitFor('writes while the watcher is cut off', () => wr.written.length > n + 150);
    e.sim.faults.compactSilently();
    e.sim.faults.failFraction(0);
    await waitFor('a gap record', async () => (await streamCount(e.bus, e.gapStream)) > gapsBefore, 20_000);
    const m = wr.written.length;
    await waitFor('more writes after the relist', () => wr.written.length > m + 100);
  } finally {
    e.sim.faults.reset();
    await wr.stop();
  }
  const { msgs, gaps, missing } = await verifyAgainstTruth(e, wr, from);
  const fresh = gaps.slice(gapsBefore);
  assert.equal(fresh.length, 1, JSON.stringify(fresh.map((g) => g.data)));
  assert.ok(missing.length > 0, 'intermediate observations written while cut off were lost');
  checkGaps(gaps, missing);
  // The gap starts at the last observation the watcher published before it was cut off.
  const g = fresh[0]!.data;
  // (Raw and gap records are in different streams: their sequence numbers do not compare.)
  const beforeGap = msgs.filter((x) => compareResourceVersion(x.data.resourceVersion, g.fromResourceVersion) <= 0);
  assert.ok(beforeGap.length > 0);
  const mine = msgs.filter((x) => wr.latest.has(x.data.uid)).map((x) => x.data);
  assert.equal(replay(mine).occurrences, wr.occurrences, 'current state recovered by the relist');
});

test('gaps - TTL expiry is published as DELETED and never counted as an occurrence', async () => {
  const before = await readAll(e.bus, e.rawStream);
  const live = new Set(replay(before.map((m) => m.data)).last.keys());
  const occurrencesBefore = replay(before.map((m) => m.data)).occurrences;
  const expired = e.sim.expireEventsNow({ all: true });
  assert.ok(expired > 0);
  let msgs: StoredMsg[] = [];
  await waitFor(
    'every expiry published as DELETED',
    async () => {
      msgs = await readAll(e.bus, e.rawStream);
      return msgs.filter((m) => m.data.watchType === 'DELETED').length >= expired;
    },
    20_000,
  );
  const deleted = msgs.filter((m) => m.data.watchType === 'DELETED');
  for (const d of deleted) assert.ok(live.has(d.data.uid));
  assert.equal(replay(msgs.map((m) => m.data)).occurrences, occurrencesBefore);
  // Several DELETEDs of one TTL batch share one RV; the checkpoint reaches it once all are acked and a later frame
  // proves the batch complete.
  const lastRv = deleted
    .map((d) => d.data.resourceVersion)
    .sort(compareResourceVersion)
    .at(-1)!;
  await e.sim.store.create('/api/v1/namespaces/default/events', coreEvent('default', 'after-expiry', 1));
  await waitFor(
    'checkpoint past the batch',
    async () => {
      const cp = await readCheckpoint(e.bus, e.bucket, e.cluster);
      return cp !== undefined && compareResourceVersion(cp, lastRv) >= 0;
    },
    10_000,
  );
});
