// The fused mode as users run it: kube-sim in its own process, a watcher, two enrichers with KEC_ENRICHER_CORRELATE
// (each enriches and correlates in its process; no correlator service) and a writer, each `kec run <service>` in
// its own process. The driver plays first (the watcher fills KEC_RAW), then one enricher starts on that backlog and
// is SIGKILLed with batches in flight; the second one starts and the victim is restarted: its un-acked raw messages
// are redelivered (after ack_wait) and processed again. Asserts: the store
// equals the ground truth (no loss, no wrong count, no duplicate), every raw observation has exactly one kec.events
// message (same msg-ids), every incident version one message, redeliveries happened, nothing on kec.enriched, every
// public message valid against schemas/, and clean drains. Then `kec run all` with the key (the correlator service
// runs beside the fused enricher in one process) on the same kube-sim: the store equals the same ground truth, and
// /metrics names each metric once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type GroundTruth, runScenarios } from '@kec/kube-sim';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  ContractTap,
  cleanup,
  type Isolation,
  kecEnv,
  metricSum,
  NATS_URL,
  newIsolation,
  ready,
  type SimProc,
  scrape,
  startKec,
  startSimProcess,
  waitFor,
} from '../src/index.ts';
import { Pipeline } from '../src/pipeline.ts';
import { compareStore, summary, waitForStore } from '../src/verify.ts';

let iso: Isolation;
let sim: SimProc;
let pipe: Pipeline;
let tap: ContractTap;
let gt: GroundTruth | undefined;

before(async () => {
  iso = newIsolation();
  tap = await ContractTap.start(iso.root);
  sim = await startSimProcess(['--scenario', 'none']);
  // the enrichers start in the test, on a backlog
  pipe = new Pipeline(iso, sim.kubeconfig, { fused: true, watchers: 1, enrichers: 0, writers: 1 });
  await pipe.startAll();
});

after(async () => {
  await pipe?.stopAll().catch(() => undefined);
  await sim?.stop('SIGTERM');
  await tap?.stop();
  await cleanup(iso);
});

/** The Nats-Msg-Id of every message of a stream (none when the stream does not exist). */
async function msgIds(stream: string): Promise<string[]> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    const total = await jsm.streams
      .info(stream)
      .then((i) => i.state.messages)
      .catch(() => 0);
    const ids: string[] = [];
    if (total === 0) return ids;
    const c = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const it = await c.consume({ max_messages: 2000 });
    for await (const m of it) {
      ids.push(m.headers?.get('Nats-Msg-Id') ?? '');
      if (ids.length >= total || m.info.pending === 0) break;
    }
    await it.close();
    return ids;
  } finally {
    await nc.close();
  }
}

test('fused - SIGKILL of a fused enricher mid-batch loses and doubles nothing; store equals the ground truth', async (t) => {
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close()); // also when an assertion fails: an open connection would keep the file running
  const jsm = await jetstreamManager(nc);
  const raw = `${iso.prefix}KEC_RAW`;
  const { groundTruth } = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: 5,
    durationMs: 10 * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 11,
    repeat: false,
    concurrency: 8,
  });
  gt = groundTruth;
  // The victim alone first: whatever the consumer holds un-acked is then the victim's (pulled ahead, in flight).
  const victim = await pipe.start('enricher', 0);
  await waitFor(`${victim.name} ready`, () => ready(victim.metricsPort), 90_000);
  let processedBefore = 0;
  await waitFor(
    'the victim at work with batches in flight',
    async () => {
      processedBefore = metricSum(await scrape(victim.metricsPort), 'kec_bus_messages_processed_total');
      const i = await jsm.consumers.info(raw, 'enricher');
      return processedBefore > 0 && i.num_ack_pending > 0 && i.num_pending + i.num_ack_pending >= 500;
    },
    120_000,
    50,
  );
  victim.kill('SIGKILL');
  await victim.exited;
  t.diagnostic(`SIGKILL ${victim.name} after it had acked ${processedBefore} raw messages`);
  const other = await pipe.start('enricher', 1);
  await pipe.restart(victim);
  await waitFor(`${other.name} ready`, () => ready(other.metricsPort), 90_000);

  // ack_wait is 30 s: the victim's un-acked messages come back then.
  const waited = await waitForStore(pipe.writer.sqlPort, groundTruth, 240_000);
  await waitFor(
    'the raw consumer drained',
    async () => {
      const i = await jsm.consumers.info(raw, 'enricher');
      return i.num_pending === 0 && i.num_ack_pending === 0;
    },
    60_000,
  );
  const c = await compareStore(pipe.writer.sqlPort, groundTruth);
  const line = summary(c);
  t.diagnostic(`store complete ${waited} ms after the kill; ${line}`);
  assert.deepEqual(c.missing, [], line);
  assert.deepEqual(c.wrongCount.slice(0, 5), [], line);
  assert.equal(c.duplicates, 0, line);
  assert.equal(c.extra, 0, line);
  assert.equal(c.storedOccurrences, c.expectedOccurrences, line);
  assert.deepEqual(c.wrongOccurrences.slice(0, 5), [], line);
  assert.equal(c.gaps, 0, line);
  assert.ok(c.incidents.rootCauseMatched >= Math.ceil(c.incidents.expected * 0.75), line);

  // On the bus: exactly one kec.events message per raw observation, the same ids; one message per incident version.
  const rawIds = await msgIds(raw);
  const eventIds = await msgIds(`${iso.prefix}KEC_EVENTS`);
  t.diagnostic(`${rawIds.length} raw observations, ${eventIds.length} kec.events messages`);
  assert.equal(new Set(rawIds).size, rawIds.length, 'raw ids unique');
  assert.equal(eventIds.length, rawIds.length, `${eventIds.length} kec.events messages for ${rawIds.length} raw`);
  assert.deepEqual([...eventIds].sort(), [...rawIds].sort(), 'the same msg-ids');
  const incidentIds = await msgIds(`${iso.prefix}KEC_INCIDENTS`);
  assert.ok(incidentIds.length > 10, `${incidentIds.length} incident versions`);
  assert.equal(new Set(incidentIds).size, incidentIds.length, 'one message per incident version');
  assert.ok((await msgIds(`${iso.prefix}KEC_PATTERNS`)).length > 0, 'patterns published');
  assert.equal((await msgIds(`${iso.prefix}KEC_ENRICHED`)).length, 0, 'nothing on kec.enriched');

  // The victim's batches were redelivered to a live replica and published again, dropped as duplicates by msg-id.
  let redelivered = 0;
  let duplicates = 0;
  let dead = 0;
  for (const p of pipe.byService('enricher')) {
    const m = await scrape(p.metricsPort);
    redelivered += metricSum(m, 'kec_bus_messages_redelivered_total');
    duplicates += metricSum(m, 'kec_bus_publish_duplicates_total');
    dead += metricSum(m, 'kec_bus_messages_dead_lettered_total');
  }
  t.diagnostic(`redelivered ${redelivered}, publishes dropped as duplicates ${duplicates}, dead letters ${dead}`);
  assert.ok(redelivered > 0, 'the killed replica had raw messages in flight, redelivered');
  assert.equal(dead, 0);
  t.diagnostic(tap.summary());
  assert.deepEqual(tap.violations.slice(0, 3), [], tap.summary());
  assert.ok(tap.seen.events > 0 && tap.seen.incidents > 0 && tap.seen.patterns > 0, tap.summary());
  const codes = await pipe.stopAll();
  for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} drained with exit ${code}`);
});

test('fused - kec run all with KEC_ENRICHER_CORRELATE: the store equals the ground truth, each metric exported once', async (t) => {
  assert.ok(gt, 'needs the scenarios the first test played');
  const iso2 = newIsolation();
  const all = await startKec('all', ['all'], kecEnv(iso2, sim.kubeconfig, { KEC_ENRICHER_CORRELATE: 'true' }));
  let code: number | null = null;
  try {
    await waitFor('kec run all ready', () => ready(all.metricsPort), 90_000);
    // The watcher lists every Event object kube-sim holds: the first test's scenarios, one observation each.
    const waited = await waitForStore(all.sqlPort, gt, 120_000);
    const c = await compareStore(all.sqlPort, gt);
    const line = summary(c);
    t.diagnostic(`store complete after ${waited} ms; ${line}`);
    assert.deepEqual(c.missing, [], line);
    assert.equal(c.duplicates + c.extra + c.wrongCount.length + c.wrongOccurrences.length, 0, line);
    const text = await (await fetch(`http://127.0.0.1:${all.metricsPort}/metrics`)).text();
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    const twice = types.filter((l, i) => types.indexOf(l) !== i);
    assert.deepEqual(twice, [], 'every metric family once');
    const m = await scrape(all.metricsPort);
    assert.ok(metricSum(m, 'kec_correlator_events_total') >= c.expectedEvents, 'correlated in the process');
    assert.equal((await msgIds(`${iso2.prefix}KEC_ENRICHED`)).length, 0, 'nothing on kec.enriched');
    assert.ok((await msgIds(`${iso2.prefix}KEC_INCIDENTS`)).length > 0, 'incidents published');
  } finally {
    code = await all.stop('SIGTERM', 20_000);
    await cleanup(iso2);
  }
  assert.equal(code, 0, 'kec run all drained with exit 0');
});
