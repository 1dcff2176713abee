// The fused mode (KEC_ENRICHER_CORRELATE=true) through the real NATS and Redis, on kube-sim's scenarios: the same
// raw observations (a watch on kube-sim, normalized as the watcher does) through the two stages (enricher ->
// KEC_ENRICHED -> correlator service) and through the fused enricher give the same kec.events, incidents and
// patterns; three fused replicas agree with one as correlator replicas do; the incident sweep resolves quiet
// incidents in the fused mode; KEC_ENRICHED stays empty.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CorrelatorState, correlatorService, type EventPayload, type IncidentPayload } from '@kec/correlator';
import { KubeClient, watch } from '@kec/k8s';
import { type KubeSim, runScenarios, startKubeSim } from '@kec/kube-sim';
import { type KecEvent, normalizeEvent } from '@kec/model';
import { RuleSet } from '@kec/rules';
import {
  buildCluster,
  type Env,
  publishRaw,
  type Running,
  readStream,
  type Stored,
  setup,
  startDefinition,
  startEnricher,
  streamCount,
  waitFor,
  waitSynced,
} from './helpers.ts';

const CLUSTER = 'c-fused';
let sim: KubeSim;
let raw: KecEvent[] = [];
const envs: Env[] = [];
const running: Running[] = [];

/** Every ADDED/MODIFIED/DELETED of kube-sim's Events while `play` runs, normalized as the watcher publishes them. */
async function watchWhile(s: KubeSim, play: () => Promise<unknown>): Promise<KecEvent[]> {
  const out: KecEvent[] = [];
  const client = KubeClient.load({ kubeconfigPath: s.kubeconfigPath });
  const ac = new AbortController();
  let lastRv = 0n;
  const frames = watch(client, '/api/v1/events', { resourceVersion: s.resourceVersion(), signal: ac.signal });
  const watching = (async () => {
    try {
      for await (const f of frames) {
        if (f.type !== 'ADDED' && f.type !== 'MODIFIED' && f.type !== 'DELETED') continue;
        const e = normalizeEvent(f.object, { cluster: CLUSTER, watchType: f.type });
        lastRv = BigInt(e.resourceVersion);
        out.push(e);
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  await play();
  const target = BigInt(s.resourceVersion());
  await waitFor('watch caught up', () => lastRv >= target, 30_000);
  ac.abort();
  await watching;
  client.close();
  return out;
}

before(async () => {
  sim = await startKubeSim({ port: 0 });
  const { model, uids } = await buildCluster(sim, 7, 3);
  raw = await watchWhile(sim, () =>
    runScenarios({
      sim,
      cluster: { model, uids },
      scenarios: 'all',
      rate: 1,
      durationMs: 20 * 60_000,
      speed: Number.POSITIVE_INFINITY,
      seed: 7,
      repeat: false,
    }),
  );
});

after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  for (const e of envs) {
    // the correlator's keys (<prefix>corr:) and the cache of CLUSTER, which setup's cleanup (its own cluster) misses
    const state = CorrelatorState.connect(e.env.KEC_REDIS_URL as string, e.redisPrefix, {
      windowMs: 60_000,
      occurrenceTtlSec: 60,
      incidentTtlSec: 60,
      maxAffected: 1,
    });
    await state.purge().catch(() => undefined);
    await state.close();
    await e.cleanup();
  }
  await sim?.close();
});

async function newEnv(extra: Record<string, string> = {}): Promise<Env> {
  const e = await setup({ sim, enricherEnv: { KEC_CLUSTER: CLUSTER, ...extra } });
  envs.push(e);
  return e;
}

async function start(e: Env, extra: Record<string, string> = {}): Promise<Running> {
  const r = await startEnricher({ ...e.env, ...extra });
  running.push(r);
  return r;
}

async function drained(e: Env, stream: string, durable: string): Promise<void> {
  await waitFor(
    `${stream}/${durable} drained`,
    async () => {
      const info = await e.bus.jsm.consumers.info(stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    60_000,
  );
}

interface Outputs {
  events: Stored<EventPayload>[];
  incidents: Stored<IncidentPayload>[];
  patterns: Stored<Record<string, unknown>>[];
}

async function outputs(e: Env): Promise<Outputs> {
  return {
    events: await readStream<EventPayload>(e.bus, `${e.prefix}KEC_EVENTS`),
    incidents: await readStream<IncidentPayload>(e.bus, `${e.prefix}KEC_INCIDENTS`),
    patterns: await readStream<Record<string, unknown>>(e.bus, `${e.prefix}KEC_PATTERNS`),
  };
}

/** A message as a subscriber compares it: subject below the root, msg-id, payload (minus the enrichment's clock). */
function comparable(root: string, m: Stored<unknown>): string {
  const data = m.data as { enrichment?: { enrichedAt?: string } };
  const payload = data.enrichment ? { ...data, enrichment: { ...data.enrichment, enrichedAt: '' } } : data;
  return JSON.stringify([m.subject.slice(root.length), m.msgId, payload]);
}

let twoStage: Outputs;
let fusedOne: Outputs;

// One batch of one event at a time in both runs (concurrency 1, batch size 1): the correlator's Redis state then
// sees the same commands in the same order in both, so every output must be equal, byte for byte but the time of
// enrichment. (With larger batches, the order of a batch's rate-window increments depends on where batches split.)
const SEQUENTIAL = {
  KEC_ENRICHER_CONCURRENCY: '1',
  KEC_ENRICHER_BATCH_SIZE: '1',
  KEC_CORRELATOR_CONCURRENCY: '1',
  KEC_CORRELATOR_BATCH_SIZE: '1',
};

test('fused - the same raw input gives the same events, incidents and patterns as enricher -> correlator', async (t) => {
  const n = raw.length;
  assert.ok(n > 1000, `the scenarios produced ${n} observations`);

  const a = await newEnv();
  await start(a, SEQUENTIAL);
  await waitSynced({ ...a, cluster: CLUSTER });
  await publishRaw(a, raw);
  await waitFor(`${n} enriched`, async () => (await streamCount(a.bus, a.enrichedStream)) >= n, 120_000);
  const correlator = await startDefinition(correlatorService, { ...a.env, ...SEQUENTIAL });
  running.push(correlator);
  await waitFor(`${n} events`, async () => (await streamCount(a.bus, `${a.prefix}KEC_EVENTS`)) >= n, 120_000);
  await drained(a, `${a.prefix}KEC_ENRICHED`, 'correlator');
  twoStage = await outputs(a);

  const b = await newEnv();
  await start(b, { ...SEQUENTIAL, KEC_ENRICHER_CORRELATE: 'true' });
  await waitSynced({ ...b, cluster: CLUSTER });
  await publishRaw(b, raw);
  await waitFor(`${n} events`, async () => (await streamCount(b.bus, `${b.prefix}KEC_EVENTS`)) >= n, 120_000);
  await drained(b, b.rawStream, 'enricher');
  fusedOne = await outputs(b);
  assert.equal(await streamCount(b.bus, b.enrichedStream), 0, 'nothing published on kec.enriched');

  assert.equal(twoStage.events.length, n, 'two stages: one kec.events message per observation');
  assert.equal(fusedOne.events.length, n, 'fused: one kec.events message per observation');
  assert.ok(twoStage.incidents.length > 10, `${twoStage.incidents.length} incident versions`);
  assert.ok(twoStage.patterns.length > 0, `${twoStage.patterns.length} patterns`);
  // The same messages in the same order: subject, msg-id and payload.
  for (const kind of ['events', 'incidents', 'patterns'] as const) {
    const x = twoStage[kind].map((m) => comparable(a.root, m));
    const y = fusedOne[kind].map((m) => comparable(b.root, m));
    assert.equal(y.length, x.length, `${kind}: ${y.length} fused vs ${x.length} two-stage`);
    const first = x.findIndex((v, i) => v !== y[i]);
    assert.equal(first, -1, `${kind} #${first} differs:\n${x[first]}\n${y[first]}`);
  }
  t.diagnostic(
    `${n} observations: ${fusedOne.events.length} events, ${fusedOne.incidents.length} incident versions, ${fusedOne.patterns.length} patterns, equal in both modes`,
  );
  // Statuses show the enrichment was real (scenario pods are cached hits).
  const hits = fusedOne.events.filter((m) => m.data.enrichment.status === 'hit').length;
  assert.ok(hits > n / 10, `${hits} of ${n} hits`);
});

test('fused - three fused replicas give the same occurrences and incidents as one', async () => {
  assert.ok(fusedOne, 'needs the one-replica run');
  const n = raw.length;
  const c = await newEnv();
  for (const id of ['f1', 'f2', 'f3']) {
    // small batches, the correlator's default concurrency (2): all three take work from the shared durable,
    // interleaved, as the correlator's replica test runs its three replicas
    await start(c, {
      KEC_ENRICHER_CORRELATE: 'true',
      KEC_ENRICHER_IDENTITY: id,
      KEC_ENRICHER_BATCH_SIZE: '16',
      KEC_ENRICHER_CONCURRENCY: '2',
    });
  }
  await waitSynced({ ...c, cluster: CLUSTER });
  await publishRaw(c, raw);
  await waitFor(`${n} events`, async () => (await streamCount(c.bus, `${c.prefix}KEC_EVENTS`)) >= n, 120_000);
  await drained(c, c.rawStream, 'enricher');
  const three = await outputs(c);
  assert.equal(three.events.length, n);
  assert.equal(new Set(three.events.map((m) => m.msgId)).size, n, 'one message per msg-id');
  const occ = (o: Outputs) => {
    const m = new Map<string, number>();
    for (const e of o.events) m.set(e.data.uid, (m.get(e.data.uid) ?? 0) + e.data.occurrences);
    return [...m].sort();
  };
  assert.deepEqual(occ(three), occ(fusedOne), 'occurrence sums per event object');
  const latest = (o: Outputs) => {
    const m = new Map<string, IncidentPayload>();
    for (const { data: i } of o.incidents) if ((m.get(i.id)?.version ?? 0) < i.version) m.set(i.id, i);
    return m;
  };
  // incidents compared by root cause, as the correlator's replica test does (ids come from the event that opened one)
  const shape = (i: IncidentPayload) =>
    JSON.stringify([i.rootCause?.eventUid, i.rootCause?.reason, i.severity, i.category]);
  const l1 = latest(fusedOne);
  const l3 = latest(three);
  // Problems (an incident above info) agree exactly. A healthy change that opens an incident (a ScalingReplicaSet)
  // finds the step it continues only when that step was processed first: replicas taking the two in the other order
  // split one info incident into two, never lose one (seen in CI once the incident keys became causal links).
  const problems = (l: Map<string, IncidentPayload>) =>
    [...l.values()]
      .filter((i) => i.severity !== 'info')
      .map(shape)
      .sort();
  assert.deepEqual(problems(l3), problems(l1));
  const healthy3 = new Set([...l3.values()].map(shape));
  for (const i of l1.values()) assert.ok(healthy3.has(shape(i)), `three replicas lost ${shape(i)}`);
  // grouping: every event's incident, named by its root cause; only join-only events and info events (as above) may
  // differ (an incident another replica had not opened yet), up to 1 %
  const rules = RuleSet.load();
  const rootOf = (l: Map<string, IncidentPayload>, id: string | null) =>
    id ? (l.get(id)?.rootCause?.eventUid ?? id) : null;
  const byMsg = new Map(three.events.map((m) => [m.msgId, m.data]));
  let joinOnly = 0;
  for (const { msgId, data: e } of fusedOne.events) {
    const other = byMsg.get(msgId) as EventPayload;
    if (rootOf(l1, e.incidentId) === rootOf(l3, other.incidentId)) continue;
    const c = rules.classify(e);
    assert.ok(c.incident === 'join' || c.severity === 'info', `${e.uid} (${e.reason}) grouped differently`);
    joinOnly++;
  }
  console.log(`three fused replicas: ${joinOnly} of ${n} events (join-only or info) grouped differently`);
  assert.ok(joinOnly <= n * 0.01, `${joinOnly} join-only or info differences of ${n}`);
});

test('fused - the incident sweep resolves a quiet incident', async () => {
  const d = await newEnv();
  await start(d, {
    KEC_ENRICHER_CORRELATE: 'true',
    KEC_CORRELATOR_QUIET_MS: '1000',
    KEC_CORRELATOR_SWEEP_INTERVAL_MS: '200',
  });
  await waitSynced({ ...d, cluster: CLUSTER });
  // a crash loop of a pod kube-sim holds, a minute ago: it opens an incident that is quiet from the start
  const pod = raw.find((e) => e.regarding.kind === 'Pod' && e.reason === 'BackOff') as KecEvent;
  assert.ok(pod, 'a BackOff among the scenario observations');
  const at = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const e = normalizeEvent(
    {
      metadata: { name: 'sweep.1', namespace: pod.namespace, uid: 'sweep-1', resourceVersion: '1' },
      involvedObject: { ...pod.regarding, apiVersion: 'v1' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container app in pod',
      type: 'Warning',
      count: 1,
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: at,
      lastTimestamp: at,
    },
    { cluster: CLUSTER, watchType: 'ADDED' },
  );
  await publishRaw(d, [e]);
  const resolved = await waitFor(
    'a resolved incident',
    async () => {
      const incs = await readStream<IncidentPayload>(d.bus, `${d.prefix}KEC_INCIDENTS`);
      return incs.find((m) => m.data.state === 'resolved');
    },
    20_000,
  );
  assert.equal(resolved.data.rootCause?.eventUid, 'sweep-1');
  const events = await readStream<EventPayload>(d.bus, `${d.prefix}KEC_EVENTS`);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.data.incidentId, resolved.data.id);
});
