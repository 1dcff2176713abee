// Two replicas as child processes: only the leader publishes; SIGKILL of the leader hands over (after the lease
// duration) with no loss. Short lease settings for tests: 3 s lease, 2 s renew deadline, 0.5 s retry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type Child,
  type Env,
  EventWriter,
  freePort,
  httpStatus,
  leaseHolder,
  readCheckpoint,
  replay,
  scrape,
  setup,
  spawnWatcher,
  verifyAgainstTruth,
  waitFor,
} from './helpers.ts';

const LEASE_MS = 3000;
let e: Env;
before(async () => {
  e = await setup({
    watcherEnv: {
      KEC_WATCHER_LEASE_DURATION_MS: String(LEASE_MS),
      KEC_WATCHER_RENEW_DEADLINE_MS: '2000',
      KEC_WATCHER_RETRY_PERIOD_MS: '500',
    },
  });
});
after(async () => {
  await e.cleanup();
});

const PUBLISHED = 'kec_watcher_events_published_total';

/** When the Lease was last renewed (its renewTime: the holder's clock when the renew was sent). */
async function lastRenewAt(): Promise<number> {
  const l = await e.sim.store.get(`/apis/coordination.k8s.io/v1/namespaces/default/leases/kec-watcher-${e.id}`);
  return Date.parse((l.spec as { renewTime?: string }).renewTime ?? '');
}

/** The fencing invariant: stopped leading before a standby could take over (leaseDuration after the last renew). */
async function assertFencedInTime(fencedSeenAt: number): Promise<void> {
  const since = fencedSeenAt - (await lastRenewAt());
  assert.ok(since < LEASE_MS, `fencing seen ${since} ms after the last successful renew (lease ${LEASE_MS} ms)`);
}

test('leader - two replicas: only the leader publishes; SIGKILL it and the standby takes over, no loss', async () => {
  const w = new EventWriter(e.sim);
  for (let i = 0; i < 100; i++) await w.step();
  const ports = { a: await freePort(), b: await freePort() };
  const kids: Record<string, Child> = {
    a: spawnWatcher({ ...e.env, KEC_WATCHER_IDENTITY: 'a', KEC_METRICS_PORT: String(ports.a) }),
    b: spawnWatcher({ ...e.env, KEC_WATCHER_IDENTITY: 'b', KEC_METRICS_PORT: String(ports.b) }),
  };
  try {
    const leader = (await waitFor('a leader', () => leaseHolder(e), 15_000)) as 'a' | 'b';
    const standby = leader === 'a' ? 'b' : 'a';
    await waitFor('the initial LIST checkpointed', () => readCheckpoint(e.bus, e.bucket, e.cluster), 15_000);
    const from = w.written.length;
    w.start(200);
    await waitFor('the leader publishing', async () => ((await scrape(ports[leader], PUBLISHED)) ?? 0) > 150, 15_000);
    // The leader can get there before the standby's process serves its endpoints on a loaded machine.
    await waitFor('the standby serving', async () => (await httpStatus(ports[standby], '/readyz')) === 200, 15_000);
    assert.equal(await scrape(ports[standby], PUBLISHED), 0, 'the standby publishes nothing');
    assert.equal(await scrape(ports[standby], 'kec_watcher_leader'), 0);
    assert.equal(await scrape(ports[leader], 'kec_watcher_leader'), 1);
    assert.equal(await httpStatus(ports[standby], '/readyz'), 200, 'a standby is ready');
    assert.equal(await httpStatus(ports[leader], '/readyz'), 200);
    assert.equal(await httpStatus(ports[leader], '/healthz'), 200);

    kids[leader]!.proc.kill('SIGKILL');
    // Liveness only (a wall-clock bound here flakes on a loaded machine): the standby takes over eventually.
    await waitFor(
      'the standby publishing',
      async () => ((await scrape(ports[standby], PUBLISHED)) ?? 0) > 0,
      LEASE_MS + 15_000,
      50,
    );
    assert.equal(await leaseHolder(e), standby);

    const n = w.written.length;
    await waitFor('more writes under the new leader', () => w.written.length > n + 100);
    await w.stop();
    const { msgs, gaps, missing } = await verifyAgainstTruth(e, w, from);
    assert.equal(gaps.length, 0);
    assert.deepEqual(missing, []);
    assert.equal(replay(msgs.map((m) => m.data)).occurrences, w.occurrences);
    kids[standby]!.proc.kill('SIGTERM');
    assert.equal(await kids[standby]!.exited, 0, kids[standby]!.output().slice(-2000));
    assert.equal(await leaseHolder(e), undefined, 'a clean shutdown releases the Lease');
  } finally {
    await w.stop();
    // After a failed assertion, a watcher left running would hold the Lease the next test needs.
    for (const k of Object.values(kids)) k.proc.kill('SIGKILL');
  }
});

test('leader - fencing: a leader that cannot renew stops publishing by its renew deadline, even with a live watch', async () => {
  const port = await freePort();
  const kid = spawnWatcher({ ...e.env, KEC_WATCHER_IDENTITY: 'f', KEC_METRICS_PORT: String(port) });
  const w = new EventWriter(e.sim, 'f');
  try {
    await waitFor('leading', async () => (await scrape(port, 'kec_watcher_leader')) === 1, 15_000);
    const from = w.written.length;
    w.start(200);
    await waitFor('publishing', async () => ((await scrape(port, PUBLISHED)) ?? 0) > 100, 15_000);
    // Only the Lease is unreachable: the watch keeps delivering events.
    e.sim.faults.setDeny([{ resources: ['leases'] }]);
    await waitFor('fenced', async () => (await scrape(port, 'kec_watcher_leader')) === 0, 10_000, 50);
    await assertFencedInTime(Date.now());
    const settled = await scrape(port, PUBLISHED);
    const n = w.written.length;
    await waitFor('writes while fenced', () => w.written.length > n + 150);
    assert.equal(await scrape(port, PUBLISHED), settled, 'no publish after fencing');
    // Lease reachable again: it leads again and resumes from the checkpoint without loss.
    e.sim.faults.setDeny([]);
    await waitFor('leading again', async () => (await scrape(port, 'kec_watcher_leader')) === 1, 10_000);
    // Cut off from the API entirely (reset connections + fail every request): it stops leading too.
    e.sim.faults.failFraction(1);
    e.sim.faults.resetConnections();
    await waitFor('fenced when cut off', async () => (await scrape(port, 'kec_watcher_leader')) === 0, 10_000, 50);
    await assertFencedInTime(Date.now());
    e.sim.faults.failFraction(0);
    await waitFor('leading again', async () => (await scrape(port, 'kec_watcher_leader')) === 1, 10_000);
    assert.ok(((await scrape(port, 'kec_watcher_watch_restarts_total')) ?? 0) > 0, 'the reset watch was re-opened');
    const m = w.written.length;
    await waitFor('more writes', () => w.written.length > m + 100);
    await w.stop();
    const { missing, gaps } = await verifyAgainstTruth(e, w, from);
    assert.equal(gaps.length, 0);
    assert.deepEqual(missing, []);
  } finally {
    e.sim.faults.reset();
    await w.stop();
    kid.proc.kill('SIGKILL');
  }
});
