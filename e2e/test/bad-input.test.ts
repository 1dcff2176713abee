// Bad input: malformed messages on the raw subject (and odd objects in kube-sim) while every scenario plays.
// No process crashes, good traffic is stored exactly (store equals the ground truth), every malformed raw message
// is in <root>.dlq.enricher with an error, and the dead letters are counted in the enricher's /metrics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { runScenarios } from '@kec/kube-sim';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { parse } from 'yaml';
import { badPayload, readDeadLetters, validRaw } from '../src/bad-input.ts';
import {
  cleanup,
  type Isolation,
  metricSum,
  NATS_URL,
  newIsolation,
  type SimProc,
  scrape,
  sql,
  startSimProcess,
  waitFor,
} from '../src/index.ts';
import { Pipeline } from '../src/pipeline.ts';
import { compareStore, summary, waitForStore } from '../src/verify.ts';

const FULL = process.env.KEC_TEST_FULL === '1';
const BAD = FULL ? 10_000 : 1_000;
const UNICODE = 50;
let iso: Isolation;
let sim: SimProc;
let pipe: Pipeline;

before(async () => {
  iso = newIsolation();
  sim = await startSimProcess(['--scenario', 'none']);
  pipe = new Pipeline(iso, sim.kubeconfig, { watchers: 1, enrichers: 1, correlators: 1 });
  await pipe.startAll();
});

after(async () => {
  await pipe?.stopAll().catch(() => undefined);
  await sim?.stop('SIGTERM');
  await cleanup(iso);
});

const ODD = [
  '\u202eevil\u202c',
  'e\u0301\u0301\u0301',
  '\u{1F525}\u{1F4A5}',
  'nul\u0000byte',
  '\uFEFFbom',
  '\u200b\u200d',
  'a'.repeat(2000),
];

test('bad input - malformed raw messages are dead-lettered with a reason and counted; good traffic is exact', async (t) => {
  const nc = await connect({ servers: NATS_URL });
  const js = jetstream(nc);
  const subject = `${iso.root}.raw.${iso.cluster}.bad.Pod`;
  const kinds = new Map<string, number>();
  const publishBad = (async () => {
    for (let i = 0; i < BAD; i++) {
      const { kind, data } = badPayload(iso.cluster, i, FULL ? 1000 : 200);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      await js.publish(subject, data, { msgID: `bad/${i}` });
    }
    // Valid events with odd unicode: good traffic that must be stored as is.
    for (let i = 0; i < UNICODE; i++) {
      const msg = validRaw(iso.cluster, `unicode-${i}`, { reason: `Odd${i}`, message: ODD[i % ODD.length]! });
      await js.publish(subject, new TextEncoder().encode(JSON.stringify(msg)), { msgID: `unicode/${i}` });
    }
  })();

  // Odd objects through kube-sim: what the API accepts must be stored or counted by the watcher, never crash it.
  const kc = parse(readFileSync(sim.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
  const token = kc.users[0]!.user.token;
  const oddObjects: [string, Record<string, unknown>][] = [
    ['unicode-message', { message: `${ODD.join(' ')} \u{10FFFF}` }],
    ['big-message', { message: 'm'.repeat(300_000) }],
    ['too-big-message', { message: 'M'.repeat(1_100_000) }],
    ['no-involved-object', { involvedObject: undefined }],
    ['negative-count', { count: -5 }],
  ];
  const accepted: string[] = [];
  for (const [name, patch] of oddObjects) {
    const body = {
      metadata: { name: `odd-${name}`, namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'odd', uid: 'odd-uid' },
      reason: 'Odd',
      message: 'odd',
      type: 'Warning',
      count: 1,
      source: { component: 'e2e' },
      firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      ...patch,
    };
    const r = await fetch(`${sim.url}/api/v1/namespaces/default/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (r.ok) accepted.push(`odd-${name}`);
  }

  const { groundTruth: gt } = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: 5,
    durationMs: 10 * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 5,
    repeat: false,
    concurrency: 8,
  });
  await publishBad;
  await nc.close();

  // Good traffic: the store equals the ground truth (plus the odd valid events).
  await waitForStore(pipe.writer.sqlPort, gt, 120_000, "startsWith(uid, 'unicode-') OR startsWith(name, 'odd-')");
  const c = await compareStore(pipe.writer.sqlPort, gt);
  assert.deepEqual(
    [c.missing.length, c.wrongCount.length, c.duplicates],
    [0, 0, 0],
    `${summary(c)} ${JSON.stringify(c.wrongCount.slice(0, 5).map((w) => ({ ...w, gt: gt.events[w.uid] })))}`,
  );
  assert.equal(c.storedOccurrences, c.expectedOccurrences, summary(c));

  // Every malformed message is a dead letter of the enricher, with its error.
  const dlqStream = `${iso.prefix}KEC_DLQ`;
  const dlqSubject = `${iso.root}.dlq.enricher`;
  const letters = await waitFor(
    `${BAD} dead letters`,
    async () => {
      const l = await readDeadLetters(NATS_URL, dlqStream, dlqSubject);
      return l.length >= BAD ? l : undefined;
    },
    120_000,
    1000,
  );
  const ids = new Set(letters.map((l) => l.msgId));
  const missingIds = Array.from({ length: BAD }, (_, i) => `bad/${i}`).filter((id) => !ids.has(id));
  assert.deepEqual(missingIds.slice(0, 10), [], `${missingIds.length} malformed messages not dead-lettered`);
  assert.equal(letters.length, BAD, 'nothing else was dead-lettered');
  assert.ok(
    letters.every((l) => l.error.length > 0 && (l.reason === 'poison' || l.reason === 'rejected')),
    `every dead letter has an error and reason: ${JSON.stringify(letters.slice(0, 3))}`,
  );
  assert.ok(
    letters.some((l) => l.size > 1_000_000),
    'the 1 MB messages are dead-lettered whole',
  );

  // The odd-unicode events are stored with their text.
  const [u] = await sql<{ n: number }>(
    pipe.writer.sqlPort,
    "SELECT count() AS n FROM kec.events FINAL WHERE uid LIKE 'unicode-%'",
  );
  assert.equal(Number(u?.n), UNICODE);
  const [fire] = await sql<{ note: string }>(
    pipe.writer.sqlPort,
    "SELECT note FROM kec.events FINAL WHERE uid = 'unicode-2'",
  );
  assert.equal(fire?.note, ODD[2]);

  // Counted in metrics.
  const enricher = pipe.byService('enricher')[0]!;
  const m = await waitFor(
    'dead letters counted',
    async () => {
      const mm = await scrape(enricher.metricsPort);
      return metricSum(mm, 'kec_bus_messages_dead_lettered_total') >= BAD ? mm : undefined;
    },
    30_000,
  );
  assert.equal(metricSum(m, 'kec_bus_messages_dead_lettered_total'), BAD);

  // Odd kube-sim objects: stored, or counted by the watcher as invalid / unpublishable.
  const watcher = pipe.byService('watcher')[0]!;
  const wm = await scrape(watcher.metricsPort);
  const counted =
    metricSum(wm, 'kec_watcher_events_invalid_total') +
    metricSum(wm, 'kec_watcher_publish_failures_total', 'retryable="false"');
  const storedOdd = await sql<{ name: string }>(
    pipe.writer.sqlPort,
    "SELECT name FROM kec.events FINAL WHERE name LIKE 'odd-%'",
  );
  t.diagnostic(
    `bad kinds ${JSON.stringify(Object.fromEntries(kinds))}; ${letters.length} dead letters; kube-sim accepted ` +
      `${accepted.join(', ')}; stored ${storedOdd.map((r) => r.name).join(', ')}; watcher counted ${counted}; ${summary(c)}`,
  );
  assert.equal(storedOdd.length + counted, accepted.length, 'every odd object the API accepted is stored or counted');

  for (const p of pipe.procs) assert.ok(p.alive, `${p.name} is alive`);
  const codes = await pipe.stopAll();
  for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} drained with exit ${code}`);
});
