// The background noise is about objects that exist: CronJobs' Jobs and their pods are created, run, complete and are
// deleted after ttlSecondsAfterFinished, with their events written while they exist (some just after the deletion);
// a small share is about Job pods that never existed. Read back from kube-sim's own watch history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenarios, startKubeSim } from '../../src/index.ts';

const START = Date.parse('2026-11-22T05:00:00Z');

interface Obj {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: { ttlSecondsAfterFinished?: number };
  status?: { phase?: string };
  involvedObject?: { kind: string; name: string; uid: string };
}
interface Frame {
  type: string;
  object: Obj;
}

/** Every watch frame of a collection since `rv` (the server's history), ending with the 1 s server timeout. */
async function history(url: string, token: string, path: string, rv: string): Promise<Frame[]> {
  const r = await fetch(`${url}${path}?watch=1&resourceVersion=${rv}&timeoutSeconds=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(r.status, 200);
  return (await r.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Frame);
}

test('noise - CronJob runs: Jobs and pods exist while their events are written, then go after their TTL', async () => {
  const sim = await startKubeSim({ port: 0, historyMaxEvents: 1_000_000 });
  try {
    let rv0 = '';
    const durationMs = 15 * 60_000;
    await runScenarios({
      sim,
      scenarios: 'none',
      rate: 20,
      durationMs,
      speed: Number.POSITIVE_INFINITY,
      startMs: START,
      seed: 4,
      onClusterReady: () => {
        rv0 = sim.resourceVersion();
      },
    });
    const [jobs, pods, events] = await Promise.all([
      history(sim.url, sim.token, '/apis/batch/v1/jobs', rv0),
      history(sim.url, sim.token, '/api/v1/pods', rv0),
      history(sim.url, sim.token, '/api/v1/events', rv0),
    ]);
    const added = (fs: Frame[]) => fs.filter((f) => f.type === 'ADDED').map((f) => f.object);
    const deletedRv = new Map<string, number>();
    for (const f of [...jobs, ...pods])
      if (f.type === 'DELETED') deletedRv.set(f.object.metadata.uid, Number(f.object.metadata.resourceVersion));

    // One Job a virtual minute per CronJob, owned by it, with a TTL; each with one pod owned by the Job.
    const newJobs = added(jobs);
    assert.ok(newJobs.length >= 4 * 14, `${newJobs.length} Jobs in 15 virtual minutes`);
    for (const j of newJobs) {
      const owner = j.metadata.ownerReferences?.[0];
      assert.equal(owner?.kind, 'CronJob');
      assert.equal(owner?.controller, true);
      assert.match(j.metadata.name, new RegExp(`^${owner?.name}-\\d{8}$`));
      assert.equal(typeof j.spec?.ttlSecondsAfterFinished, 'number');
    }
    const jobUids = new Set(newJobs.map((j) => j.metadata.uid));
    const jobPods = added(pods).filter((p) => jobUids.has(p.metadata.ownerReferences?.[0]?.uid ?? ''));
    assert.equal(jobPods.length, newJobs.length, 'one pod per Job');
    const succeeded = new Set(
      pods.filter((f) => f.object.status?.phase === 'Succeeded').map((f) => f.object.metadata.uid),
    );
    assert.ok(jobPods.filter((p) => succeeded.has(p.metadata.uid)).length >= newJobs.length - 4, 'pods complete');
    // The TTL controller took the finished ones (TTLs up to 10 min: the first runs are gone by the end).
    const gone = newJobs.filter((j) => deletedRv.has(j.metadata.uid));
    assert.ok(gone.length >= newJobs.length / 3, `${gone.length} of ${newJobs.length} Jobs deleted`);
    for (const j of gone) {
      const pod = jobPods.find((p) => p.metadata.ownerReferences?.[0]?.uid === j.metadata.uid);
      assert.ok(pod && deletedRv.has(pod.metadata.uid), `the pod of ${j.metadata.name} goes with it`);
    }

    // Events: about objects that existed (the cluster's, or these), a few after their deletion; ~2-3 % never did.
    const known = new Set<string>([...jobUids, ...added(pods).map((p) => p.metadata.uid)]);
    for (const path of ['/api/v1/pods', '/apis/batch/v1/cronjobs', '/apis/batch/v1/jobs']) {
      const list = (await sim.store.list(path)) as unknown as { items: Obj[] };
      for (const o of list.items) known.add(o.metadata.uid);
    }
    const evs = added(events);
    const about = evs.map((e) => e.involvedObject?.uid ?? '');
    const ghosts = about.filter((u) => !known.has(u)).length;
    const share = ghosts / evs.length;
    assert.ok(evs.length > 400, `${evs.length} event objects`);
    assert.ok(share > 0 && share <= 0.05, `${(100 * share).toFixed(1)} % of events about objects that never existed`);
    const afterDeletion = evs.filter((e) => {
      const d = deletedRv.get(e.involvedObject?.uid ?? '');
      return d !== undefined && Number(e.metadata.resourceVersion) > d;
    });
    assert.ok(afterDeletion.length > 0, 'some events come after their object was deleted (tombstones)');
    assert.ok(afterDeletion.length < evs.length * 0.1);
  } finally {
    await sim.close();
  }
});
