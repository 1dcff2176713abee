// Three enricher replicas sharing the durable produce the same set of enriched events as one replica: same
// messages (one per msg-id, none lost, none doubled) with the same enrichment.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EnrichedEvent } from '@kec/cache';
import { type KubeSim, runScenarios, startKubeSim } from '@kec/kube-sim';
import { type KecEvent, normalizeEvent } from '@kec/model';
import {
  buildCluster,
  type Env,
  publishRaw,
  type Running,
  readEnriched,
  setup,
  startEnricher,
  streamCount,
  waitFor,
  waitSynced,
} from './helpers.ts';

let sim: KubeSim;
let one: Env;
let three: Env;
const running: Running[] = [];

before(async () => {
  sim = await startKubeSim({ port: 0 });
  const { model, uids } = await buildCluster(sim, 5, 3);
  // Realistic traffic: every scenario plus noise, 3 virtual minutes as fast as kube-sim takes it.
  await runScenarios({
    sim,
    cluster: { model, uids },
    scenarios: 'all',
    rate: 5,
    durationMs: 180_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 5,
    repeat: false,
  });
  one = await setup({ sim });
  three = await setup({ sim });
});

after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await one?.cleanup();
  await three?.cleanup();
  await sim?.close();
});

function project(e: EnrichedEvent): string {
  const x = e.enrichment;
  return JSON.stringify({
    status: x.status,
    detail: x.detail,
    object: x.object && { uid: x.object.uid, labels: x.object.labels, deleted: x.object.deleted },
    owners: x.owners,
    workload: x.workload,
    node: x.node?.name,
    zone: x.node?.zone,
    ns: x.namespaceLabels,
  });
}

test('replicas - three enricher replicas produce the same set of enriched events as one', async () => {
  const list = (await sim.store.list('/api/v1/events')) as unknown as { items: unknown[] };
  const events = (): KecEvent[] =>
    list.items.map((o) => normalizeEvent(o, { cluster: 'c-shared', watchType: 'LISTED' }));
  // the noise mostly bumps counts of existing events; the incidents and the CronJobs' runs create new ones
  assert.ok(list.items.length > 200, `scenario produced ${list.items.length} events`);

  running.push(await startEnricher({ ...one.env, KEC_CLUSTER: 'c-shared', KEC_ENRICHER_IDENTITY: 'solo' }));
  for (const id of ['r1', 'r2', 'r3']) {
    running.push(
      await startEnricher({
        ...three.env,
        KEC_CLUSTER: 'c-shared',
        KEC_ENRICHER_IDENTITY: id,
        KEC_ENRICHER_BATCH_SIZE: '32', // small batches so all three replicas get work
      }),
    );
  }
  // Both filled caches (separate prefixes, separate elections) must be current before the events arrive.
  await waitSynced({ ...one, cluster: 'c-shared' });
  await waitSynced({ ...three, cluster: 'c-shared' });

  const n = list.items.length;
  await publishRaw(one, events());
  await publishRaw(three, events());
  for (const env of [one, three]) {
    await waitFor(
      `${n} enriched in ${env.enrichedStream}`,
      async () => (await streamCount(env.bus, env.enrichedStream)) >= n,
      40_000,
    );
  }
  const a = await readEnriched(one.bus, one.enrichedStream);
  const b = await readEnriched(three.bus, three.enrichedStream);
  assert.equal(a.length, n);
  assert.equal(b.length, n);
  const ma = new Map(a.map((m) => [m.msgId, m]));
  const mb = new Map(b.map((m) => [m.msgId, m]));
  assert.equal(ma.size, n, 'one message per msg-id (one replica)');
  assert.equal(mb.size, n, 'one message per msg-id (three replicas)');
  const statuses = new Map<string, number>();
  let differ = 0;
  for (const [id, m] of ma) {
    const other = mb.get(id);
    assert.ok(other, `missing ${id} from the three-replica run`);
    assert.equal(other.subject.split('.').slice(1).join('.'), m.subject.split('.').slice(1).join('.'));
    if (project(m.data) !== project(other.data)) differ++;
    statuses.set(m.data.enrichment.status, (statuses.get(m.data.enrichment.status) ?? 0) + 1);
  }
  assert.equal(differ, 0, 'same enrichment for every event');
  // Noise pods of the driver never exist as objects (misses the informer vouches for); scenario pods are hits.
  assert.ok((statuses.get('hit') ?? 0) > n / 10, `statuses ${JSON.stringify([...statuses])}`);
  // The consumer's work went through the shared durable: nothing left pending or unacked.
  const info = await three.bus.jsm.consumers.info(three.rawStream, 'enricher');
  assert.equal(info.num_pending, 0);
  await waitFor(
    'all acked',
    async () => (await three.bus.jsm.consumers.info(three.rawStream, 'enricher')).num_ack_pending === 0,
  );
});
