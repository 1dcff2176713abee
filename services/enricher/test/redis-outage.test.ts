// Redis stopped mid-run: events keep flowing marked `unavailable`; when Redis returns (empty: it kept no data) the
// filler notices the missing marker, resyncs, and enrichment resumes in the same process. Uses its own
// redis-server child on a free port (the shared Redis stays untouched).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { CacheStore } from '@kec/cache';
import type { KubeSim } from '@kec/kube-sim';
import {
  buildCluster,
  type Env,
  kecEvent,
  publishRaw,
  type Running,
  setup,
  startEnricher,
  waitEnriched,
  waitFor,
  waitSynced,
} from './helpers.ts';

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

let redis: ChildProcess | undefined;
async function startRedis(port: number): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const probe = await CacheStore.connect({ url: `redis://127.0.0.1:${port}`, cluster: 'probe', connectWaitMs: 10 });
  try {
    await waitFor('redis-server up', () => probe.available, 10_000);
  } finally {
    await probe.close();
  }
}
async function killRedis(): Promise<void> {
  const r = redis;
  if (!r || r.exitCode !== null || r.signalCode !== null) return;
  const exited = new Promise((res) => r.once('exit', res));
  r.kill('SIGKILL');
  await exited;
}

let e: Env;
let enr: Running;
let url: string;
let port: number;
type Obj = { metadata: { name: string; namespace?: string; uid: string; ownerReferences?: { kind: string }[] } };
let pods: Obj[];

before(async () => {
  port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  await startRedis(port);
  e = await setup({ redisUrl: url, enricherEnv: { KEC_ENRICHER_REDIS_TIMEOUT_MS: '300' } });
  await buildCluster(e.sim, 3, 2);
  pods = ((await (e.sim as KubeSim).store.list('/api/v1/pods')) as unknown as { items: Obj[] }).items.filter(
    (p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet',
  );
  enr = await startEnricher(e.env);
  await waitSynced(e, 11, url);
});

after(async () => {
  await enr?.stop();
  await e?.cleanup();
  await killRedis();
});

test('redis outage - events flow marked unavailable while Redis is down; enrichment resumes after it returns', async () => {
  const ref = (p: Obj) => ({
    kind: 'Pod',
    namespace: p.metadata.namespace,
    name: p.metadata.name,
    uid: p.metadata.uid,
  });
  const a = pods.slice(0, 3).map((p) => kecEvent(e.cluster, ref(p)));
  await publishRaw(e, a);
  let out = await waitEnriched(e, a.length);
  for (const ev of a) assert.equal(out.get(ev.uid)!.enrichment.status, 'hit');

  await killRedis();
  const b = pods.slice(0, 4).map((p) => kecEvent(e.cluster, ref(p)));
  await publishRaw(e, b);
  out = await waitEnriched(e, a.length + b.length);
  for (const ev of b) {
    const got = out.get(ev.uid)!;
    assert.equal(got.enrichment.status, 'unavailable');
    assert.equal(got.enrichment.object, null);
    assert.equal(got.reason, ev.reason, 'the event itself passes through intact');
  }

  // Redis comes back empty (no persistence): the filler finds its marker gone and refills everything.
  await startRedis(port);
  const sync = await waitSynced(e, 11, url);
  assert.ok(Object.values(sync).every((s) => s.since > 0));
  const store = await CacheStore.connect({ url, cluster: e.cluster, prefix: e.redisPrefix });
  try {
    assert.ok((await store.getMarker())?.length, 'marker rewritten');
    assert.ok((await store.countObjects()) >= pods.length, 'cache refilled');
  } finally {
    await store.close();
  }
  const c = pods.slice(0, 3).map((p) => kecEvent(e.cluster, ref(p)));
  await publishRaw(e, c);
  out = await waitEnriched(e, a.length + b.length + c.length);
  for (const ev of c) {
    const got = out.get(ev.uid)!;
    assert.equal(got.enrichment.status, 'hit');
    assert.equal(got.enrichment.workload?.kind, 'Deployment');
  }
});
