// /healthz fails when the leader loop makes no progress for stuckAfterMs, and recovers with it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { coreEvent, type Env, freePort, httpStatus, readCheckpoint, setup, spawnWatcher, waitFor } from './helpers.ts';

let e: Env;
before(async () => {
  e = await setup({ watcherEnv: { KEC_WATCHER_STUCK_AFTER_MS: '1500' } });
});
after(async () => {
  await e.cleanup();
});

test('health - /healthz fails while the leader loop is stuck (API unreachable) and recovers after', async () => {
  await e.sim.store.create('/api/v1/namespaces/default/events', coreEvent('default', 'h-1', 1));
  const port = await freePort();
  const kid = spawnWatcher({ ...e.env, KEC_METRICS_PORT: String(port) });
  try {
    await waitFor('the initial LIST checkpointed', () => readCheckpoint(e.bus, e.bucket, e.cluster), 15_000);
    assert.equal(await httpStatus(port, '/healthz'), 200);
    // Every request fails (the default 10 s renew deadline keeps it leader meanwhile): no pages, frames or acks.
    e.sim.faults.failFraction(1);
    e.sim.faults.resetConnections();
    await waitFor('/healthz 503', async () => (await httpStatus(port, '/healthz')) === 503, 6000, 100);
    e.sim.faults.failFraction(0);
    await e.sim.store.create('/api/v1/namespaces/default/events', coreEvent('default', 'h-2', 2));
    await waitFor('/healthz 200 again', async () => (await httpStatus(port, '/healthz')) === 200, 10_000, 100);
  } finally {
    e.sim.faults.reset();
    kid.proc.kill('SIGKILL');
  }
});
