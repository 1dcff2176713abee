// Faults while scenarios play through the pipeline (one process per replica, two writers sharing one ClickHouse
// engine over HTTP) on a private NATS and Redis: SIGKILLs of random services with restarts, the leader watcher
// killed, the store server down, Redis stopped, a NATS restart. Zero loss and zero duplicates (by uid and count,
// and occurrence sums); per-fault recovery time = from the end of the fault until a canary Event written into
// kube-sim at that moment is in the store.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { runScenarios } from '@kec/kube-sim';
import {
  createSimEvent,
  type Isolation,
  type KecProc,
  metricSum,
  newIsolation,
  type SimProc,
  scrape,
  sql,
  startSimProcess,
  waitFor,
} from '../src/index.ts';
import { PrivateServer } from '../src/infra.ts';
import { Pipeline } from '../src/pipeline.ts';
import { compareStore, summary, waitForStore } from '../src/verify.ts';

const FULL = process.env.KEC_TEST_FULL === '1';
const OUTAGE_MS = FULL ? 60_000 : 5_000;
const RANDOM_KILLS = FULL ? 18 : 2; // + the leader watcher and the store server: 20 SIGKILLs in full
let iso: Isolation;
let sim: SimProc;
let pipe: Pipeline;
let nats: PrivateServer;
let redis: PrivateServer;

before(async () => {
  iso = newIsolation();
  [nats, redis] = await Promise.all([PrivateServer.create('nats'), PrivateServer.create('redis')]);
  sim = await startSimProcess(['--scenario', 'none']);
  pipe = new Pipeline(iso, sim.kubeconfig, {
    writers: 2,
    extra: { KEC_NATS_URL: nats.url, KEC_REDIS_URL: redis.url, KEC_WRITER_ACK_WAIT_MS: '10000' },
  });
  await pipe.startAll();
});

after(async () => {
  await pipe?.stopAll().catch(() => undefined);
  await sim?.stop('SIGTERM');
  await nats?.stop().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  // The streams and keys died with the private servers; only the temp dirs remain.
  for (const d of [iso?.dataDir, nats?.dir, redis?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('faults - SIGKILLs, leader watcher killed, store/Redis outages and a NATS restart lose and duplicate nothing', async (t) => {
  const play = runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: FULL ? 20 : 5,
    durationMs: (FULL ? 240 : 20) * 60_000,
    speed: FULL ? 40 : 30,
    seed: 3,
    repeat: FULL,
    concurrency: 4,
  });
  let playing = true;
  void play.finally(() => {
    playing = false;
  });
  const recoveries: { fault: string; ms: number }[] = [];
  const canaries: string[] = [];
  let n = 0;
  /** Writes a canary now and resolves with the time until it is in the store. */
  const canary = async (fault: string, since = Date.now()) => {
    const name = `canary-${n++}`;
    const uid = await createSimEvent(sim, name);
    canaries.push(uid);
    await waitFor(
      `canary after ${fault}`,
      async () => (await sql(pipe.writer.sqlPort, `SELECT 1 FROM kec.events WHERE uid = '${uid}'`)).length > 0,
      120_000,
      100,
    );
    recoveries.push({ fault, ms: Date.now() - since });
  };
  const kill = async (p: KecProc) => {
    p.kill('SIGKILL');
    await p.exited;
    return pipe.restart(p);
  };

  await canary('baseline');

  // The leader watcher.
  const leader = await waitFor(
    'a leader watcher',
    async () => {
      for (const w of pipe.byService('watcher')) {
        if (metricSum(await scrape(w.metricsPort), 'kec_watcher_leader') === 1) return w;
      }
      return undefined;
    },
    20_000,
  );
  const t1 = Date.now();
  leader.kill('SIGKILL');
  await leader.exited;
  await canary('leader watcher SIGKILL', t1);
  await pipe.restart(leader);

  // Random SIGKILLs of enricher, correlator and writer replicas, each restarted at once.
  const rand = (() => {
    let s = 7;
    return () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
  })();
  for (let i = 0; i < RANDOM_KILLS; i++) {
    // The quick variant kills one enricher and one correlator; the full one picks at random.
    const svc = FULL
      ? ['enricher', 'correlator', 'writer', 'watcher'][Math.floor(rand() * 4)]!
      : ['enricher', 'correlator'][i % 2]!;
    const victims = pipe.byService(svc);
    const v = victims[Math.floor(rand() * victims.length)]!;
    const t0 = Date.now();
    await kill(v);
    await canary(`SIGKILL ${v.name}`, t0);
  }

  // The store unavailable: the ClickHouse server process is SIGKILLed and stays down, then starts again on its
  // data (same port); both writers keep their batches in JetStream meanwhile.
  const store = pipe.store as NonNullable<typeof pipe.store>;
  await store.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the fault's length, not a synchronisation
  await store.start();
  const t2 = Date.now();
  await canary(`store down ${OUTAGE_MS / 1000} s`, t2);

  // Redis stopped (AOF keeps its data), then started again.
  await redis.stop();
  const cRedis = createSimEvent(sim, `canary-redis-down`).then((uid) => canaries.push(uid));
  await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the outage's length
  await redis.start();
  const t3 = Date.now();
  await cRedis;
  await canary(`Redis stopped ${OUTAGE_MS / 1000} s`, t3);

  // NATS restart (same port and JetStream directory).
  await nats.stop();
  await nats.start();
  const t4 = Date.now();
  await canary('NATS restart', t4);

  const { groundTruth: gt } = await play;
  assert.equal(playing, false);
  await waitForStore(pipe.writer.sqlPort, gt, 180_000, "startsWith(name, 'canary-')");
  // Canaries are in the store too; wait until every one of them is.
  await waitFor(
    'every canary stored',
    async () =>
      Number(
        (
          await sql<{ n: number }>(
            pipe.writer.sqlPort,
            "SELECT count() AS n FROM kec.events FINAL WHERE name LIKE 'canary-%'",
          )
        )[0]?.n,
      ) === canaries.length,
    60_000,
  );
  const c = await compareStore(pipe.writer.sqlPort, gt);
  t.diagnostic(`${summary(c)}; recoveries ${recoveries.map((r) => `${r.fault}: ${r.ms} ms`).join('; ')}`);
  assert.deepEqual(c.missing.slice(0, 5), [], summary(c));
  assert.deepEqual(
    c.wrongCount.slice(0, 5),
    [],
    `${summary(c)} ${JSON.stringify(c.wrongCount.slice(0, 5).map((w) => ({ ...w, gt: gt.events[w.uid] })))}`,
  );
  assert.equal(c.duplicates, 0, summary(c));
  assert.equal(c.extra, canaries.length, summary(c));
  assert.equal(c.storedOccurrences, c.expectedOccurrences, summary(c));
  assert.deepEqual(c.wrongOccurrences.slice(0, 5), [], summary(c));
  assert.equal(c.gaps, 0, 'no fault here expires the watch history, so no gap');
});
