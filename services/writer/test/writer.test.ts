// Writer integration: real NATS, embedded chdb in this process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KecEventsPayload } from '../src/contract.ts';
import type { Writer } from '../src/writer.ts';
import { counts, type Harness, harness, waitFor } from './harness.ts';
import { eventPayload } from './helpers.ts';

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

describe('writer with NATS and chdb', () => {
  let h: Harness;
  let w: Writer;
  before(async () => {
    h = await harness();
    w = await h.startWriter({ KEC_WRITER_BATCH_SIZE: '300' });
  });
  after(async () => {
    await h.cleanup();
  });

  test('writer - N events published give N rows in events and the right occurrence sums', async () => {
    const now = Date.now();
    const evs: KecEventsPayload[] = [];
    let expected = 0;
    // 400 Event objects, each observed 1..5 times with growing counts; the last one of every 10th is DELETED
    for (let u = 0; u < 400; u++) {
      const n = 1 + (u % 5);
      let prev = 0;
      for (let i = 1; i <= n; i++) {
        const count = i * 2 - 1;
        evs.push(
          eventPayload({
            uid: `u${u}`,
            rv: 1_000_000 + u * 10 + i,
            count,
            at: iso(now - 3_600_000 + u * 1000 + i * 100_000),
            first: iso(now - 3_600_000 + u * 1000),
            occurrences: count - prev,
            namespace: `ns${u % 7}`,
            object: `pod-${u}`,
          }),
        );
        expected += count - prev;
        prev = count;
      }
      if (u % 10 === 0) {
        evs.push(
          eventPayload({
            uid: `u${u}`,
            rv: 1_000_000 + u * 10 + 9,
            count: prev,
            at: iso(now - 3_600_000 + u * 1000 + 600_000),
            watchType: 'DELETED',
            namespace: `ns${u % 7}`,
            object: `pod-${u}`,
          }),
        );
      }
    }
    await h.publishEvents(evs);
    const store = w.store;
    assert.ok(store);
    await waitFor('every message acked', async () => (await h.unacked()) === 0);
    const c = await counts(store);
    assert.equal(c.events, 400);
    assert.equal(c.occ_final, evs.length);
    assert.equal(c.sum_final, expected);
    assert.equal(c.rollup, expected);
    const deleted = await store.query<{ n: number }>('SELECT countIf(deleted) AS n FROM kec.events FINAL');
    assert.equal(deleted[0]?.n, 40);
  });

  test('writer - incidents (latest version wins), gaps and patterns are stored; invalid payloads are dead-lettered', async () => {
    const base = {
      schema: 'kec.incident/v1',
      id: 'inc-1',
      cluster: 'test',
      namespace: 'web',
      title: 'BackOff in web',
      severity: 'error',
      category: 'health',
      rootCause: {
        eventUid: 'u1',
        reason: 'BackOff',
        object: { kind: 'Pod', namespace: 'web', name: 'pod-a' },
        why: 'first event',
      },
      affected: ['Pod/web/pod-a', { kind: 'Deployment', namespace: 'web', name: 'web' }],
      firstSeen: '2026-11-01T00:00:00Z',
      lastSeen: new Date().toISOString(),
      eventCount: 3,
      occurrenceCount: 10,
      state: 'open',
      version: 1,
    };
    const pub = (subject: string, data: object, msgId: string) => h.publisher.publish(subject, data, { msgId });
    await pub(h.bus.subjects.incidents('test', 'web'), { ...base, version: 3, state: 'resolved', eventCount: 5 }, 'i3');
    await pub(h.bus.subjects.incidents('test', 'web'), base, 'i1');
    await pub(
      h.bus.subjects.gaps('test'),
      {
        schema: 'kec.gap/v1',
        cluster: 'test',
        fromResourceVersion: '10',
        toResourceVersion: '20',
        fromTime: new Date(Date.now() - 60_000).toISOString(),
        toTime: new Date().toISOString(),
        reason: 'expired',
        detectedBy: 'w-1',
      },
      'g1',
    );
    await pub(
      h.bus.subjects.patterns('test', 'web'),
      {
        schema: 'kec.pattern/v1',
        kind: 'storm',
        cluster: 'test',
        namespace: 'web',
        workload: 'Deployment/web',
        fingerprint: 'fp1',
        reason: 'BackOff',
        window: '5m',
        rate: 40,
        baseline: 2,
        at: new Date().toISOString(),
      },
      'p1',
    );
    await pub(
      h.bus.subjects.events('test', 'web', 'Pod', 'Warning', 'BackOff'),
      { schema: 'kec.events/v1', uid: 'broken' },
      'bad1',
    );
    await h.publisher.flush();
    const store = w.store;
    assert.ok(store);
    await waitFor(
      'incidents, gaps, patterns acked',
      async () =>
        (await h.unacked('KEC_INCIDENTS')) +
          (await h.unacked('KEC_GAPS')) +
          (await h.unacked('KEC_PATTERNS')) +
          (await h.unacked('KEC_EVENTS')) ===
        0,
    );
    const inc = await store.query<{
      state: string;
      version: number;
      event_count: number;
      affected_objects: string[];
      root_cause_object: string;
    }>(
      "SELECT state, version, event_count, affected_objects, root_cause_object FROM kec.incidents FINAL WHERE id = 'inc-1'",
    );
    assert.deepEqual(inc, [
      {
        state: 'resolved',
        version: 3,
        event_count: 5,
        affected_objects: ['Pod/web/pod-a', 'Deployment/web/web'],
        root_cause_object: 'Pod/web/pod-a',
      },
    ]);
    const gaps = await store.query('SELECT cluster, from_resource_version, reason FROM kec.gaps');
    assert.deepEqual(gaps, [{ cluster: 'test', from_resource_version: '10', reason: 'expired' }]);
    const pats = await store.query('SELECT kind, window_seconds, rate FROM kec.patterns');
    assert.deepEqual(pats, [{ kind: 'storm', window_seconds: 300, rate: 40 }]);
    const dlq = await h.bus.jsm.streams.info(`${h.prefix}KEC_DLQ`);
    assert.equal(dlq.state.messages, 1);
  });
});

describe('writer replicas', () => {
  let h: Harness;
  after(async () => {
    await h.cleanup();
  });

  test('writer - two replicas share the durable: every observation stored once, sums exact', async () => {
    h = await harness();
    // Two writers in one process on the same embedded directory (chdb shares one directory between sessions of
    // a process), both bound to the same durable consumers: JetStream spreads the batches between them.
    const a = await h.startWriter({ KEC_WRITER_BATCH_SIZE: '100' });
    const b = await h.startWriter({ KEC_WRITER_BATCH_SIZE: '100' });
    const now = Date.now();
    const evs: KecEventsPayload[] = [];
    let expected = 0;
    for (let u = 0; u < 300; u++) {
      let prev = 0;
      for (let i = 1; i <= 4; i++) {
        const count = prev + i;
        evs.push(
          eventPayload({
            uid: `r${u}`,
            rv: 3_000_000 + u * 10 + i,
            count,
            at: iso(now - 1_800_000 + u * 1000 + i * 30_000),
            occurrences: count - prev,
            namespace: `rep${u % 3}`,
            object: `pod-${u}`,
          }),
        );
        expected += count - prev;
        prev = count;
      }
    }
    await h.publishEvents(evs);
    await waitFor('every message acked', async () => (await h.unacked()) === 0);
    const store = a.store;
    assert.ok(store && b.store);
    const c = await counts(store);
    assert.equal(c.events, 300);
    assert.equal(c.occ_final, evs.length);
    assert.equal(c.sum_final, expected);
    assert.equal(c.rollup, expected);
    const [raw] = await store.query<{ n: number }>('SELECT count() AS n FROM kec.occurrences');
    assert.equal(raw?.n, evs.length, 'no observation was written twice');
    assert.ok(a.batches > 0 && b.batches > 0, `both replicas stored batches (${a.batches}, ${b.batches})`);
  });
});
