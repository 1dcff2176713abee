// Filler resyncs: metadata-only requests, relist after 410, and a new filler tombstoning what was deleted while
// no filler ran.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CacheStore, isNotFound } from '@kec/cache';
import { KubeClient } from '@kec/k8s';
import { MetadataKubeClient } from '../src/index.ts';
import {
  buildCluster,
  type Env,
  gets,
  kecEvent,
  publishRaw,
  REDIS_URL,
  type Running,
  setup,
  startEnricher,
  waitEnriched,
  waitFor,
  waitSynced,
} from './helpers.ts';

let e: Env;
let store: CacheStore;
type Obj = {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string }[];
  };
};

before(async () => {
  e = await setup();
  await buildCluster(e.sim, 9, 2);
  store = await CacheStore.connect({ url: REDIS_URL, cluster: e.cluster, prefix: e.redisPrefix });
});
after(async () => {
  await store?.close();
  await e?.cleanup();
});

test('metadata - workload informers get PartialObjectMetadata, pods full objects', async () => {
  const kc = KubeClient.load({ kubeconfigPath: e.sim.kubeconfigPath });
  const meta = new MetadataKubeClient(kc.kubeConfig);
  try {
    const list = await meta.request<{ kind: string; items: Record<string, unknown>[] }>(
      'GET',
      '/apis/apps/v1/replicasets',
      {
        query: { limit: 5 },
      },
    );
    assert.equal(list.body.kind, 'PartialObjectMetadataList');
    assert.equal(list.body.items[0]?.spec, undefined);
    const full = await kc.request<{ kind: string }>('GET', '/api/v1/pods', { query: { limit: 1 } });
    assert.equal(full.body.kind, 'PodList');
  } finally {
    meta.close();
    kc.close();
  }
});

test('resync - a 410 relists the informers; a restarted filler tombstones pods deleted while none ran', async () => {
  let enr: Running = await startEnricher(e.env);
  try {
    const s1 = await waitSynced(e);
    // 410 on every re-watch: the informers relist (their `since` moves on) and keep the cache right.
    e.sim.faults.failNextWatches(1000, 'error');
    e.sim.faults.closeWatches();
    await waitFor(
      'informers relisted after 410',
      async () => {
        const s = await store.getSync();
        return Object.entries(s1).every(([k, v]) => (s[k]?.since ?? 0) > v.since);
      },
      20_000,
    );
    e.sim.faults.reset();

    // No filler while a pod is deleted; history compacted so nothing can replay the deletion.
    await enr.stop();
    const pods = ((await e.sim.store.list('/api/v1/pods')) as unknown as { items: Obj[] }).items;
    const victim = pods.find((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')!;
    const key = store.keys.object('Pod', victim.metadata.namespace!, victim.metadata.name);
    const [live] = await store.mget([key]);
    assert.ok(live && !isNotFound(live) && live.deletedAt === undefined);
    await e.sim.store.delete(`/api/v1/namespaces/${victim.metadata.namespace}/pods/${victim.metadata.name}`);
    e.sim.faults.compactSilently();

    enr = await startEnricher(e.env);
    await waitFor('tombstone after the new filler listed', async () => {
      const [t] = await store.mget([key]);
      return t && !isNotFound(t) && t.deletedAt !== undefined;
    });
    e.sim.resetStats();
    const ev = kecEvent(
      e.cluster,
      { kind: 'Pod', namespace: victim.metadata.namespace, name: victim.metadata.name, uid: victim.metadata.uid },
      { at: new Date(Date.now() - 30_000) },
    );
    await publishRaw(e, [ev]);
    const out = await waitEnriched(e, 1);
    assert.equal(out.get(ev.uid)!.enrichment.status, 'tombstone');
    assert.deepEqual(out.get(ev.uid)!.enrichment.object?.labels, victim.metadata.labels);
    assert.equal(gets(e.sim, 'pods'), 0);
  } finally {
    await enr.stop();
  }
});
