// Enrichment against kube-sim (the driver's cluster), real NATS and real Redis: owner chains, nodes, namespaces,
// annotations, informer-vouched misses, tombstones, name reuse, and the one-GET-then-hit rule.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CacheStore } from '@kec/cache';
import type { KubeSim } from '@kec/kube-sim';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
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
  streamCount,
  waitEnriched,
  waitFor,
  waitSynced,
} from './helpers.ts';

type Obj = {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  spec?: { nodeName?: string };
};

async function list(sim: KubeSim, path: string): Promise<Obj[]> {
  return ((await sim.store.list(path)) as unknown as { items: Obj[] }).items;
}

describe('enricher with the filler', () => {
  let e: Env;
  let enr: Running;
  let pods: Obj[];
  let nodes: Obj[];
  let rs: Obj[];
  let jobs: Obj[];
  let namespaces: Obj[];

  before(async () => {
    e = await setup();
    await buildCluster(e.sim);
    // Annotations: one allowed, one blob that must never be cached.
    pods = await list(e.sim, '/api/v1/pods');
    const p0 = pods.find((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')!;
    await e.sim.store.patch(`/api/v1/namespaces/${p0.metadata.namespace}/pods/${p0.metadata.name}`, {
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Pod"}',
          'app.kubernetes.io/version': '2.14.1',
          'unrelated.example.com/x': 'y',
        },
      },
    });
    pods = await list(e.sim, '/api/v1/pods');
    nodes = await list(e.sim, '/api/v1/nodes');
    rs = await list(e.sim, '/apis/apps/v1/replicasets');
    jobs = await list(e.sim, '/apis/batch/v1/jobs');
    namespaces = await list(e.sim, '/api/v1/namespaces');
    enr = await startEnricher(e.env);
    await waitSynced(e);
    e.sim.resetStats();
  });

  after(async () => {
    await enr?.stop();
    await e?.cleanup();
  });

  const nsLabels = (ns: string) => namespaces.find((n) => n.metadata.name === ns)?.metadata.labels ?? {};
  const nodeOf = (name: string) => nodes.find((n) => n.metadata.name === name)!;

  test('chains - pods of a Deployment (via ReplicaSet), CronJob (via Job), StatefulSet and DaemonSet, and nodes', async () => {
    const byOwner = (kind: string) => pods.find((p) => p.metadata.ownerReferences?.[0]?.kind === kind)!;
    const deployPod =
      pods.find(
        (p) => p.metadata.annotations !== undefined && p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet',
      ) ?? byOwner('ReplicaSet');
    const jobPod = pods.find((p) => {
      const j = jobs.find((x) => x.metadata.uid === p.metadata.ownerReferences?.[0]?.uid);
      return j?.metadata.ownerReferences?.[0]?.kind === 'CronJob';
    })!;
    const stsPod = byOwner('StatefulSet');
    const dsPod = byOwner('DaemonSet');
    const node = nodes[0]!;
    assert.ok(deployPod && jobPod && stsPod && dsPod, 'the driver cluster has every chain');
    const ref = (p: Obj) => ({
      kind: 'Pod',
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      uid: p.metadata.uid,
    });
    const evs = [
      kecEvent(e.cluster, ref(deployPod), { reason: 'BackOff' }),
      kecEvent(e.cluster, ref(jobPod), { reason: 'Started' }),
      kecEvent(e.cluster, ref(stsPod), { reason: 'Unhealthy' }),
      kecEvent(e.cluster, ref(dsPod), { reason: 'Pulled' }),
      // kubelet node events: uid = node name, event namespace "default"
      kecEvent(
        e.cluster,
        { kind: 'Node', name: node.metadata.name, uid: node.metadata.name },
        { namespace: 'default', reason: 'NodeNotReady' },
      ),
    ];
    await publishRaw(e, evs);
    const out = await waitEnriched(e, evs.length);

    const [d, j, s, ds, n] = evs.map((ev) => out.get(ev.uid)!);
    // Deployment pod: labels, RS -> Deployment, node with zone, namespace labels, allow-listed annotations only.
    const rsObj = rs.find((x) => x.metadata.uid === deployPod.metadata.ownerReferences![0]!.uid)!;
    const deployRef = rsObj.metadata.ownerReferences![0]!;
    assert.equal(d!.enrichment.status, 'hit');
    assert.deepEqual(d!.enrichment.object?.labels, deployPod.metadata.labels);
    assert.deepEqual(
      d!.enrichment.owners.map((o) => `${o.kind}/${o.name}/${o.uid}`),
      [`ReplicaSet/${rsObj.metadata.name}/${rsObj.metadata.uid}`, `Deployment/${deployRef.name}/${deployRef.uid}`],
    );
    assert.deepEqual(d!.enrichment.workload, { kind: 'Deployment', name: deployRef.name, uid: deployRef.uid });
    const dn = nodeOf(deployPod.spec!.nodeName!);
    assert.equal(d!.enrichment.node?.name, dn.metadata.name);
    assert.equal(d!.enrichment.node?.zone, dn.metadata.labels!['topology.kubernetes.io/zone']);
    assert.ok(d!.enrichment.node?.zone.startsWith('eu-west-1'));
    assert.equal(d!.enrichment.node?.instanceType, dn.metadata.labels!['node.kubernetes.io/instance-type']);
    assert.deepEqual(d!.enrichment.namespaceLabels, nsLabels(deployPod.metadata.namespace!));
    assert.ok(Object.keys(d!.enrichment.namespaceLabels).includes('team'));
    assert.equal(d!.enrichment.pod?.nodeName, dn.metadata.name);
    assert.ok(d!.enrichment.pod?.images.length);
    assert.deepEqual(d!.enrichment.object?.annotations, { 'app.kubernetes.io/version': '2.14.1' });

    // CronJob -> Job -> Pod
    assert.equal(j!.enrichment.status, 'hit');
    assert.deepEqual(
      j!.enrichment.owners.map((o) => o.kind),
      ['Job', 'CronJob'],
    );
    assert.equal(j!.enrichment.workload?.kind, 'CronJob');
    assert.ok(j!.enrichment.node?.zone);
    // StatefulSet and DaemonSet pods
    assert.deepEqual(
      s!.enrichment.owners.map((o) => o.kind),
      ['StatefulSet'],
    );
    assert.equal(s!.enrichment.workload?.name, stsPod.metadata.ownerReferences![0]!.name);
    assert.deepEqual(
      ds!.enrichment.owners.map((o) => o.kind),
      ['DaemonSet'],
    );
    assert.equal(ds!.enrichment.workload?.kind, 'DaemonSet');
    assert.ok(ds!.enrichment.node?.zone);
    // Node event
    assert.equal(n!.enrichment.status, 'hit');
    assert.equal(n!.enrichment.node?.name, node.metadata.name);
    assert.equal(n!.enrichment.node?.zone, node.metadata.labels!['topology.kubernetes.io/zone']);
    assert.deepEqual(n!.enrichment.object?.labels, node.metadata.labels);
    assert.equal(n!.enrichment.workload, null);
    for (const ev of [d, j, s, ds, n]) assert.equal(ev!.cluster, e.cluster);
    // Subject and msg-id discipline: <root>.enriched.<cluster>.<ns>.<kind>
    assert.equal(
      gets(e.sim, 'pods') + gets(e.sim, 'nodes') + gets(e.sim, 'replicasets.apps'),
      0,
      'no GETs: all from the cache',
    );
  });

  test('miss - an object the informers never saw, from before their last sync, costs no GET', async () => {
    const ev = kecEvent(
      e.cluster,
      { kind: 'Pod', namespace: 'shop', name: 'gone-long-ago', uid: 'u-gone' },
      { at: new Date(Date.now() - 60_000) },
    );
    const before = gets(e.sim, 'pods');
    await publishRaw(e, [ev]);
    const out = await waitEnriched(e, 6);
    const got = out.get(ev.uid)!;
    assert.equal(got.enrichment.status, 'miss');
    assert.equal(got.enrichment.detail, 'informer-current');
    assert.deepEqual(got.enrichment.namespaceLabels, nsLabels('shop'));
    assert.equal(gets(e.sim, 'pods'), before);
  });

  test('tombstone - an event about a pod deleted 10 minutes earlier gets its labels and workload', async () => {
    const victim = pods.find(
      (p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet' && p.metadata.name !== pods[0]!.metadata.name,
    )!;
    const path = `/api/v1/namespaces/${victim.metadata.namespace}/pods/${victim.metadata.name}`;
    await e.sim.store.delete(path);
    const store = await CacheStore.connect({ url: REDIS_URL, cluster: e.cluster, prefix: e.redisPrefix });
    const key = store.keys.object('Pod', victim.metadata.namespace!, victim.metadata.name);
    try {
      await waitFor('tombstone written', async () => {
        const [t] = await store.mget([key]);
        return t && 'deletedAt' in t && t.deletedAt !== undefined;
      });
      // The tombstone outlives the event TTL: 2 h by default, so 10 minutes later it is still there.
      const ttl = await store.redis.pttl(key);
      assert.ok(ttl > 2 * 3600_000 - 60_000, `tombstone TTL ${ttl} ms`);
      assert.ok(ttl > 10 * 60_000);
    } finally {
      await store.close();
    }
    // A late event: its occurrence happened before the deletion, it arrives now (as after 10 minutes of backlog).
    const ev = kecEvent(
      e.cluster,
      { kind: 'Pod', namespace: victim.metadata.namespace, name: victim.metadata.name, uid: victim.metadata.uid },
      { at: new Date(Date.now() - 10 * 60_000), reason: 'Killing' },
    );
    await publishRaw(e, [ev]);
    const out = await waitEnriched(e, 7);
    const got = out.get(ev.uid)!;
    assert.equal(got.enrichment.status, 'tombstone');
    assert.equal(got.enrichment.object?.deleted, true);
    assert.ok(got.enrichment.object?.deletedAt);
    assert.deepEqual(got.enrichment.object?.labels, victim.metadata.labels);
    assert.equal(got.enrichment.workload?.kind, 'Deployment');
    assert.equal(gets(e.sim, 'pods'), 0);
  });

  test('tombstone - a StatefulSet pod recreated under the same name: the old uid gets the tombstone, the new one the live pod', async () => {
    const sts = pods.find(
      (p) => p.metadata.ownerReferences?.[0]?.kind === 'StatefulSet' && p.metadata.name.endsWith('-1'),
    )!;
    const path = `/api/v1/namespaces/${sts.metadata.namespace}/pods/${sts.metadata.name}`;
    const full = (await e.sim.store.get(path)) as unknown as Obj & Record<string, unknown>;
    await e.sim.store.delete(path);
    const { uid: _u, resourceVersion: _rv, creationTimestamp: _c, ...meta } = full.metadata as Record<string, unknown>;
    const created = (await e.sim.store.create(`/api/v1/namespaces/${sts.metadata.namespace}/pods`, {
      ...full,
      metadata: { ...meta, labels: { ...sts.metadata.labels, generation: 'two' } },
    } as never)) as unknown as Obj;
    assert.notEqual(created.metadata.uid, sts.metadata.uid);
    const store = await CacheStore.connect({ url: REDIS_URL, cluster: e.cluster, prefix: e.redisPrefix });
    try {
      await waitFor('new incarnation cached', async () => {
        const [r] = await store.mget([store.keys.object('Pod', sts.metadata.namespace!, sts.metadata.name)]);
        return r && 'uid' in r && r.uid === created.metadata.uid;
      });
    } finally {
      await store.close();
    }
    const ref = { kind: 'Pod', namespace: sts.metadata.namespace, name: sts.metadata.name };
    const old = kecEvent(e.cluster, { ...ref, uid: sts.metadata.uid }, { at: new Date(Date.now() - 120_000) });
    const neu = kecEvent(e.cluster, { ...ref, uid: created.metadata.uid });
    await publishRaw(e, [old, neu]);
    const out = await waitEnriched(e, 9);
    assert.equal(out.get(old.uid)!.enrichment.status, 'tombstone');
    assert.equal(out.get(old.uid)!.enrichment.object?.uid, sts.metadata.uid);
    assert.equal(out.get(old.uid)!.enrichment.object?.labels.generation, undefined);
    assert.equal(out.get(neu.uid)!.enrichment.status, 'hit');
    assert.equal(out.get(neu.uid)!.enrichment.object?.labels.generation, 'two');
    assert.equal(out.get(neu.uid)!.enrichment.workload?.kind, 'StatefulSet');
  });

  test('race - an event that beats its pod into the cache waits for the informer instead of a GET', async () => {
    const tpl = pods.find((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')!;
    const full = (await e.sim.store.get(
      `/api/v1/namespaces/${tpl.metadata.namespace}/pods/${tpl.metadata.name}`,
    )) as unknown as Record<string, unknown> & { metadata: Record<string, unknown> };
    const name = `${tpl.metadata.name.slice(0, -5)}zzzzz`;
    const before = gets(e.sim, 'pods');
    // The scenario: the event is published first and the pod is created 500 ms later (an informer that lags its
    // watch). A GET at once would answer 404; the enricher must wait for the informer instead.
    const ev = kecEvent(e.cluster, { kind: 'Pod', namespace: tpl.metadata.namespace, name, uid: 'pending' });
    await publishRaw(e, [ev]);
    const { uid: _u, resourceVersion: _rv, creationTimestamp: _c, ...meta } = full.metadata;
    await new Promise((r) => setTimeout(r, 500)); // scenario timing (the lag), not synchronisation
    await e.sim.store.create(`/api/v1/namespaces/${tpl.metadata.namespace}/pods`, {
      ...full,
      metadata: { ...meta, name },
    } as never);
    const out = await waitEnriched(e, 10);
    const got = out.get(ev.uid)!;
    assert.equal(got.enrichment.status, 'hit');
    assert.equal(got.enrichment.workload?.kind, 'Deployment');
    assert.equal(gets(e.sim, 'pods'), before);
  });

  test('inferred - pods the informers never saw get the owner chain their names show, distinct from a hit', async () => {
    const at = new Date(Date.now() - 60_000); // before the informers' sync: a miss with no wait and no GET
    const cj = jobs.find((j) => j.metadata.ownerReferences?.[0]?.kind === 'CronJob')!.metadata.ownerReferences![0]!;
    const cjNs = jobs.find((j) => j.metadata.ownerReferences?.[0]?.uid === cj.uid)!.metadata.namespace!;
    const rsObj = rs[0]!;
    const deploy = rsObj.metadata.ownerReferences![0]!;
    const sts = pods.find((p) => p.metadata.ownerReferences?.[0]?.kind === 'StatefulSet')!;
    const ds = pods.find((p) => p.metadata.ownerReferences?.[0]?.kind === 'DaemonSet')!;
    const dsName = ds.metadata.ownerReferences![0]!.name;
    const pod = (namespace: string, name: string) => ({ kind: 'Pod', namespace, name, uid: `u-${name}` });
    const evs = [
      kecEvent(e.cluster, pod(cjNs, `${cj.name}-29000000-x7kq2`), { at, reason: 'Started' }),
      kecEvent(e.cluster, pod(rsObj.metadata.namespace!, `${deploy.name}-5f6b8c9d47-9zq8w`), { at }),
      kecEvent(e.cluster, pod(sts.metadata.namespace!, `${sts.metadata.ownerReferences![0]!.name}-42`), { at }),
      kecEvent(e.cluster, pod(ds.metadata.namespace!, `${dsName}-zzzzz`), { at }),
      kecEvent(e.cluster, pod(ds.metadata.namespace!, 'not-a-workload-zzzzz'), { at }),
    ];
    const before = gets(e.sim, 'pods') + gets(e.sim, 'jobs.batch');
    await publishRaw(e, evs);
    const out = await waitEnriched(e, 15);
    const [c, d, s, dsp, none] = evs.map((ev) => out.get(ev.uid)!.enrichment);
    for (const x of [c, d, s, dsp]) {
      assert.equal(x!.status, 'inferred');
      assert.equal(x!.detail, 'informer-current', 'why it was not seen');
      assert.equal(x!.object, null);
    }
    assert.deepEqual(
      c!.owners.map((o) => `${o.kind}/${o.name}/${o.uid}`),
      [`Job/${cj.name}-29000000/`, `CronJob/${cj.name}/${cj.uid}`],
      'the cached CronJob gives its uid',
    );
    assert.deepEqual(c!.workload, { kind: 'CronJob', name: cj.name, uid: cj.uid });
    assert.deepEqual(d!.workload, { kind: 'Deployment', name: deploy.name, uid: deploy.uid });
    assert.equal(d!.owners[0]?.name, `${deploy.name}-5f6b8c9d47`);
    assert.deepEqual(s!.workload?.kind, 'StatefulSet');
    assert.deepEqual(dsp!.workload, { kind: 'DaemonSet', name: dsName, uid: ds.metadata.ownerReferences![0]!.uid });
    assert.equal(none!.status, 'miss', 'a <name>-<5> without a cached owner is not guessed');
    assert.equal(none!.workload, null);
    assert.deepEqual(d!.namespaceLabels, nsLabels(rsObj.metadata.namespace!));
    assert.equal(gets(e.sim, 'pods') + gets(e.sim, 'jobs.batch'), before, 'inference costs no GET');
  });
});

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Sum of a counter's data points whose attributes include `attrs`. */
async function counter(reader: TestReader, name: string, attrs: Record<string, string> = {}): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  let sum = 0;
  for (const sm of resourceMetrics.scopeMetrics)
    for (const md of sm.metrics)
      if (md.descriptor.name === name)
        for (const p of md.dataPoints as DataPoint<number>[])
          if (Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)) sum += p.value;
  return sum;
}

describe('enricher without a filler (cold cache)', () => {
  let e: Env;
  let enr: Running;
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  before(async () => {
    e = await setup({
      enricherEnv: {
        KEC_ENRICHER_FILLER: 'false',
        KEC_ENRICHER_BATCH_SIZE: '16',
        KEC_ENRICHER_STARTUP_SYNC_WAIT_MS: '0',
      },
    });
    await buildCluster(e.sim, 11, 2);
    enr = await startEnricher(e.env, provider.getMeter('@kec/enricher'));
    e.sim.resetStats();
  });
  after(async () => {
    await enr?.stop();
    await e?.cleanup();
    await provider.shutdown();
  });

  test('miss - an object the cache has never seen costs exactly one GET, then hits; not-found is cached too', async () => {
    const pods = await list(e.sim, '/api/v1/pods');
    const p = pods.find((x) => x.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')!;
    const ref = { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid };
    // Three events about the same unknown pod in one batch: single flight.
    const first = [kecEvent(e.cluster, ref), kecEvent(e.cluster, ref), kecEvent(e.cluster, ref)];
    await publishRaw(e, first);
    let out = await waitEnriched(e, 3);
    const statuses = first.map((ev) => out.get(ev.uid)!.enrichment.status);
    assert.deepEqual(statuses, ['fetched', 'fetched', 'fetched']);
    assert.equal(gets(e.sim, 'pods'), 1, 'exactly one GET for the pod');
    const f = out.get(first[0]!.uid)!;
    assert.deepEqual(f.enrichment.object?.labels, p.metadata.labels);
    assert.equal(f.enrichment.workload?.kind, 'Deployment', 'owners fetched too (one GET each)');
    assert.equal(gets(e.sim, 'replicasets.apps'), 1);
    assert.equal(gets(e.sim, 'deployments.apps'), 1);
    // Later events about it: hits, no more GETs.
    const later = [kecEvent(e.cluster, ref), kecEvent(e.cluster, ref)];
    await publishRaw(e, later);
    out = await waitEnriched(e, 5);
    for (const ev of later) assert.equal(out.get(ev.uid)!.enrichment.status, 'hit');
    assert.equal(gets(e.sim, 'pods'), 1);
    assert.equal(gets(e.sim, 'replicasets.apps'), 1);

    // A pod that does not exist: one GET (404), then the negative answer is cached.
    const ghost = { kind: 'Pod', namespace: p.metadata.namespace, name: 'no-such-pod', uid: 'x' };
    const g1 = kecEvent(e.cluster, ghost);
    await publishRaw(e, [g1]);
    out = await waitEnriched(e, 6);
    assert.equal(out.get(g1.uid)!.enrichment.status, 'miss');
    assert.equal(out.get(g1.uid)!.enrichment.detail, 'not-found');
    const g2 = kecEvent(e.cluster, ghost);
    await publishRaw(e, [g2]);
    out = await waitEnriched(e, 7);
    assert.equal(out.get(g2.uid)!.enrichment.detail, 'not-found');
    assert.equal(gets(e.sim, 'pods'), 2, 'one GET for the existing pod, one for the missing one');

    // A payload that is not a kec.event/v1 is dead-lettered at once; the events around it flow.
    await e.bus.js.publish(e.bus.subjects.raw(e.cluster, 'shop', 'Pod'), JSON.stringify({ not: 'an event' }));
    const after = kecEvent(e.cluster, ref);
    await publishRaw(e, [after]);
    out = await waitEnriched(e, 8);
    assert.equal(out.get(after.uid)!.enrichment.status, 'hit');
    await waitFor('dead letter', async () => (await streamCount(e.bus, `${e.prefix}KEC_DLQ`)) === 1);

    // The same story in the metrics.
    assert.equal(await counter(reader, 'kec_enricher_events_total', { status: 'fetched' }), 3);
    assert.equal(await counter(reader, 'kec_enricher_events_total', { status: 'hit' }), 3);
    assert.equal(await counter(reader, 'kec_enricher_events_total', { status: 'miss' }), 2);
    assert.equal(await counter(reader, 'kec_enricher_api_gets_total', { kind: 'Pod', result: 'found' }), 1);
    assert.equal(await counter(reader, 'kec_enricher_api_gets_total', { kind: 'Pod', result: 'not-found' }), 1);
    assert.equal(await counter(reader, 'kec_enricher_api_gets_total', { kind: 'ReplicaSet' }), 1);
    // lookups are counted once per distinct object per batch
    assert.ok((await counter(reader, 'kec_enricher_cache_hits_total', { kind: 'Pod', source: 'fetched' })) >= 1);
    assert.ok((await counter(reader, 'kec_enricher_cache_misses_total', { kind: 'Pod', reason: 'not-found' })) >= 2);
  });
});
