import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type KubeSim, startKubeSim } from '@kec/kube-sim';
import { KubeClient, LeaderElector, type Lease } from '../src/index.ts';

let sim: KubeSim;
let client: KubeClient;
before(async () => {
  sim = await startKubeSim({ port: 0 });
  client = new KubeClient(sim.kubeConfig);
});
after(async () => {
  client.close();
  await sim.close();
});

async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<Awaited<T>>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FAST = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

function elector(name: string, identity: string, log: string[], timing: typeof FAST = FAST) {
  let signal: AbortSignal | undefined;
  const e = new LeaderElector({
    client,
    namespace: 'default',
    name,
    identity,
    ...timing,
    onStartedLeading: async (s) => {
      signal = s;
      log.push(`${identity}:start`);
      await new Promise<void>((r) => s.addEventListener('abort', () => r(), { once: true }));
    },
    onStoppedLeading: () => log.push(`${identity}:stop`),
  });
  return { e, signal: () => signal };
}

async function lease(name: string): Promise<Lease> {
  return (await sim.store.get(`/apis/coordination.k8s.io/v1/namespaces/default/leases/${name}`)) as Lease;
}

test('leader - two candidates: exactly one leads; a clean stop releases the Lease and the other takes over', async () => {
  const name = `l-${randomBytes(3).toString('hex')}`;
  const log: string[] = [];
  const a = elector(name, 'a', log);
  const b = elector(name, 'b', log);
  const acA = new AbortController();
  const acB = new AbortController();
  const runA = a.e.run(acA.signal);
  const runB = b.e.run(acB.signal);
  try {
    const first = await waitFor('a leader', () => (a.e.isLeader ? a : b.e.isLeader ? b : undefined));
    const second = first === a ? b : a;
    const [acFirst, runFirst] = first === a ? [acA, runA] : [acB, runB];
    // Stay with one leader over several renewals.
    const renewTime = (await lease(name)).spec?.renewTime;
    await waitFor('a renewal', async () => (await lease(name)).spec?.renewTime !== renewTime);
    assert.equal(second.e.isLeader, false);
    assert.equal((await lease(name)).spec?.holderIdentity, first.e.identity);
    assert.match((await lease(name)).spec?.renewTime ?? '', /\.\d{6}Z$/);
    // Clean stop: the Lease is released (holder "", duration 1) and the other candidate leads within ~a retry period.
    const t0 = Date.now();
    acFirst.abort();
    await runFirst;
    assert.equal(first.signal()?.aborted, true);
    await waitFor('the other candidate leading', () => second.e.isLeader, 3000);
    const took = Date.now() - t0;
    assert.ok(took < FAST.leaseDurationMs, `took over after ${took} ms: before the lease would have expired`);
    const l = await lease(name);
    assert.equal(l.spec?.holderIdentity, second.e.identity);
    assert.equal(l.spec?.leaseTransitions, 1);
  } finally {
    acA.abort();
    acB.abort();
    await Promise.all([runA, runB]);
  }
  assert.equal((await lease(name)).spec?.holderIdentity, '');
  assert.deepEqual(log.filter((x) => x.endsWith(':start')).length, 2);
});

test('leader - a leader that cannot renew stops leading by its renew deadline (fencing), before the lease expires', async () => {
  const name = `l-${randomBytes(3).toString('hex')}`;
  const log: string[] = [];
  const a = elector(name, 'a', log);
  const ac = new AbortController();
  const run = a.e.run(ac.signal);
  after(async () => {
    ac.abort();
    await run;
  });
  await waitFor('leading', () => a.e.isLeader);
  const leadSignal = a.signal()!;
  let abortedAt = 0;
  leadSignal.addEventListener('abort', () => {
    abortedAt = Date.now();
  });
  sim.faults.setDeny([{ resources: ['leases'] }]);
  try {
    await waitFor('fenced', () => abortedAt > 0, 5000);
    // The invariant: fenced before a standby could take over, i.e. within leaseDuration of the last successful
    // renew (its renewTime is our clock when it was sent; a standby counts from when it saw it, which is later).
    const renewedAt = Date.parse((await lease(name)).spec?.renewTime ?? '');
    assert.ok(Number.isFinite(renewedAt));
    assert.ok(abortedAt - renewedAt < FAST.leaseDurationMs, `fenced ${abortedAt - renewedAt} ms after the last renew`);
    assert.equal(a.e.isLeader, false);
  } finally {
    sim.faults.setDeny([]);
  }
  // Reachable again: it re-acquires its own lease.
  await waitFor('leading again', () => a.e.isLeader, 5000);
  ac.abort();
  await run;
});

test('leader - the renew deadline counts from when the renew was sent, so a slow response cannot outlast the lease', async () => {
  // Responses take 800 ms: renewals still succeed within the deadline (2 x 800 + 100 < 2000), but a deadline counted
  // from the response would fence at last send + 800 + 2000 = 2800 ms, after a standby may take over (2600 ms).
  const timing = { leaseDurationMs: 2600, renewDeadlineMs: 2000, retryPeriodMs: 100 };
  const name = `l-${randomBytes(3).toString('hex')}`;
  const log: string[] = [];
  const a = elector(name, 'a', log, timing);
  const ac = new AbortController();
  const run = a.e.run(ac.signal);
  try {
    await waitFor('leading', () => a.e.isLeader);
    const leadSignal = a.signal()!;
    let abortedAt = 0;
    leadSignal.addEventListener('abort', () => {
      abortedAt = Date.now();
    });
    sim.faults.setLatency(800);
    const before = (await lease(name)).spec?.renewTime;
    await waitFor('a slow renewal', async () => (await lease(name)).spec?.renewTime !== before, 5000);
    sim.faults.setDeny([{ resources: ['leases'] }]);
    await waitFor('fenced', () => abortedAt > 0, 8000);
    const renewedAt = Date.parse((await lease(name)).spec?.renewTime ?? '');
    assert.ok(
      abortedAt - renewedAt < timing.leaseDurationMs,
      `fenced ${abortedAt - renewedAt} ms after the last successful renew was sent`,
    );
  } finally {
    sim.faults.setDeny([]);
    sim.faults.setLatency(0);
    ac.abort();
    await run;
  }
});

test('leader - a standby takes an unrenewed lease only after leaseDuration from when it last saw it change', async () => {
  const name = `l-${randomBytes(3).toString('hex')}`;
  const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  // A lease held by a crashed holder, renewed "now" by its clock.
  await sim.store.create('/apis/coordination.k8s.io/v1/namespaces/default/leases', {
    metadata: { name },
    spec: { holderIdentity: 'dead', leaseDurationSeconds: 2, acquireTime: now, renewTime: now, leaseTransitions: 4 },
  });
  const log: string[] = [];
  const b = elector(name, 'b', log);
  const ac = new AbortController();
  const t0 = Date.now();
  const run = b.e.run(ac.signal);
  after(async () => {
    ac.abort();
    await run;
  });
  // Safety is the lower bound; the upper bound is only liveness (the waitFor deadline), not a tight timing.
  await waitFor('taking over', () => b.e.isLeader, 8000);
  const took = Date.now() - t0;
  assert.ok(took >= 2000, `took over after ${took} ms, before the lease duration`);
  assert.equal((await lease(name)).spec?.leaseTransitions, 5);
  ac.abort();
  await run;
});
