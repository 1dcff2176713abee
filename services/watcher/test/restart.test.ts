// SIGKILL of the watcher while events keep being written, then a restart: resume from the KV checkpoint.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type Env,
  EventWriter,
  readCheckpoint,
  replay,
  setup,
  spawnWatcher,
  streamCount,
  verifyAgainstTruth,
  waitFor,
} from './helpers.ts';

let e: Env;
before(async () => {
  // Short lease settings (3 s / 2 s / 0.5 s) so the restarted process (a new identity) takes over quickly.
  e = await setup({
    watcherEnv: {
      KEC_WATCHER_LEASE_DURATION_MS: '3000',
      KEC_WATCHER_RENEW_DEADLINE_MS: '2000',
      KEC_WATCHER_RETRY_PERIOD_MS: '500',
    },
  });
});
after(async () => {
  await e.cleanup();
});

test('restart - SIGKILL while writing, restart: every uid has its latest count, replay counts exactly', async () => {
  const w = new EventWriter(e.sim);
  for (let i = 0; i < 300; i++) await w.step(); // some history before the first start
  const a = spawnWatcher(e.env);
  // Observations written before the initial LIST are only visible as current state: start writing after it.
  await waitFor(
    'the initial LIST published and checkpointed',
    () => readCheckpoint(e.bus, e.bucket, e.cluster),
    20_000,
  );
  const from = w.written.length;
  w.start(300);
  try {
    await waitFor(
      'the first watcher publishing live observations',
      async () => {
        return (await streamCount(e.bus, e.rawStream)) > w.latest.size + 300;
      },
      30_000,
    );
    a.proc.kill('SIGKILL');
    await a.exited;
    const cpAtKill = await readCheckpoint(e.bus, e.bucket, e.cluster);
    const listsBefore = e.sim.stats().requests['list events'] ?? 0;
    await new Promise((r) => setTimeout(r, 500)); // keep writing while no watcher runs (load shape)
    const b = spawnWatcher(e.env);
    await waitFor(
      'the restarted watcher publishing',
      async () => {
        const cp = await readCheckpoint(e.bus, e.bucket, e.cluster);
        return cp !== undefined && cp !== cpAtKill;
      },
      20_000,
    );
    await w.stop();
    const { msgs, gaps, missing } = await verifyAgainstTruth(e, w, from);
    assert.equal(gaps.length, 0, 'resuming from the checkpoint needs no gap');
    assert.deepEqual(missing, [], 'every observation written reached the stream');
    const { occurrences } = replay(msgs.map((m) => m.data));
    assert.equal(occurrences, w.occurrences, 'the replay rule counts exactly the occurrences written');
    // The restart resumed the WATCH from the checkpoint: no second LIST.
    assert.equal((e.sim.stats().requests['list events'] ?? 0) - listsBefore, 0, b.output().slice(-2000));
    // At least once + dedup: no (uid, rv) stored twice inside the duplicate window.
    const ids = new Set(msgs.map((m) => m.msgId));
    assert.equal(ids.size, msgs.length);
    b.proc.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.output().slice(-2000));
  } finally {
    await w.stop();
  }
});
