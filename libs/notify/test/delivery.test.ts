// The outbox guarantee: ack only after a 2xx, retries through an outage, none lost, none duplicated, order kept per
// group, permanent rejections dead-lettered, one receiver's trouble never holds up another, a restart loses nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DLQ_HEADERS } from '@kec/bus';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { deliveredKey, NOTIFY_DLQ_HEADERS, type Notification } from '../src/index.ts';
import {
  FULL,
  type HttpReceiver,
  httpReceiver,
  notification,
  type TestOutbox,
  testOutbox,
  waitFor,
} from './helpers.ts';

/** Asserts every group got versions 1..perGroup exactly once and in order. */
function assertExactlyOnceInOrder(
  got: Array<{ groupKey: string; version: number }>,
  groups: string[],
  perGroup: number,
) {
  for (const g of groups) {
    const versions = got.filter((x) => x.groupKey === g).map((x) => x.version);
    assert.deepEqual(
      versions,
      Array.from({ length: perGroup }, (_, i) => i + 1),
      `group ${g}: versions delivered ${versions.join(',')}`,
    );
  }
  assert.equal(got.length, groups.length * perGroup, 'no extra deliveries');
}

function hookReceiver(name: string, rx: HttpReceiver, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'webhook' as const,
    url: `${rx.url}/hook`,
    mode: 'binary' as const,
    retry: { initialBackoff: '200ms', maxBackoff: '2s' },
    timeout: '3s',
    ...extra,
  };
}

async function publishGroups(ob: TestOutbox, receiver: string, groups: string[], from: number, to: number) {
  for (let v = from; v <= to; v++) for (const g of groups) await ob.publish(notification(receiver, g, v));
}

const DOWN_MS = FULL ? 5 * 60_000 : 20_000;

test(`delivery - a receiver down for ${DOWN_MS / 1000} s: everything delivered after it returns, once, in order per group`, {
  timeout: DOWN_MS + 120_000,
}, async (t) => {
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  // Only 2xx answers count as delivered; during the second half of the outage the receiver is up but answers 503.
  const delivered: Array<{ groupKey: string; version: number }> = [];
  let unavailable = false;
  rx.reply = (r) => {
    if (unavailable) return { status: 503, headers: { 'retry-after': '1' }, body: 'maintenance' };
    const n = JSON.parse(r.body) as Notification;
    delivered.push({ groupKey: n.groupKey, version: n.version });
    return { status: 202 };
  };
  await rx.down();
  // A short ack_wait, so the outage outlasts it many times over: held messages must be kept alive by working().
  const sender = await ob.sender({ receivers: [hookReceiver('hook', rx)], ackWaitMs: 6_000 });
  const groups = Array.from({ length: 8 }, (_, i) => `{}:{namespace="ns-${i}"}`);
  const outageStart = Date.now();
  await publishGroups(ob, 'hook', groups, 1, 3);
  await waitFor(() => (sender.stats()[0]?.failedAttempts ?? 0) >= 2, 10_000, 'failed attempts while down');
  // Half way: the receiver listens again but answers 503 + Retry-After.
  await new Promise((r) => setTimeout(r, DOWN_MS / 2));
  unavailable = true;
  await rx.up();
  await publishGroups(ob, 'hook', groups, 4, 6);
  await new Promise((r) => setTimeout(r, Math.max(0, outageStart + DOWN_MS - Date.now())));
  assert.equal(delivered.length, 0, 'nothing delivered during the outage');
  assert.equal(sender.stats()[0]?.held, groups.length * 6, 'every notification held, none given up');
  const back = Date.now();
  unavailable = false;
  await waitFor(() => delivered.length >= groups.length * 6, 60_000, 'every notification after the return');
  const catchUpMs = Date.now() - back;
  // Wait for the acks, then make sure nothing is delivered again.
  await waitFor(
    async () => {
      const ci = await ob.bus.jsm.consumers.info(ob.stream, 'notify-hook');
      return ci.num_ack_pending === 0 && ci.num_pending === 0;
    },
    15_000,
    'all acked',
  );
  const ci = await ob.bus.jsm.consumers.info(ob.stream, 'notify-hook');
  assert.equal(ci.num_redelivered, 0, 'no message was redelivered (working() kept them)');
  assertExactlyOnceInOrder(delivered, groups, 6);
  const stats = sender.stats()[0];
  assert.equal(stats?.sent, groups.length * 6);
  assert.equal(stats?.deadLettered, 0);
  t.diagnostic(`outage ${DOWN_MS} ms, ${stats?.failedAttempts} failed attempts, caught up in ${catchUpMs} ms`);
});

test('delivery - a permanent 4xx is dead-lettered with the reason; the group goes on in order', async (t) => {
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  const delivered: Array<{ groupKey: string; version: number }> = [];
  rx.reply = (r) => {
    const n = JSON.parse(r.body) as Notification;
    if (n.groupKey === 'g1' && n.version === 2) return { status: 422, body: '{"error":"unknown field"}' };
    delivered.push({ groupKey: n.groupKey, version: n.version });
    return { status: 200 };
  };
  const sender = await ob.sender({ receivers: [hookReceiver('hook', rx)] });
  await publishGroups(ob, 'hook', ['g1', 'g2'], 1, 3);
  await waitFor(() => delivered.length >= 5, 15_000, 'five deliveries');
  assert.deepEqual(
    delivered.filter((d) => d.groupKey === 'g1').map((d) => d.version),
    [1, 3],
  );
  assert.deepEqual(
    delivered.filter((d) => d.groupKey === 'g2').map((d) => d.version),
    [1, 2, 3],
  );
  await waitFor(async () => (await ob.deadLetters()).length === 1, 10_000, 'one dead letter');
  const [dl] = await ob.deadLetters();
  assert.ok(dl);
  assert.equal(dl.headers[DLQ_HEADERS.reason], 'rejected');
  assert.equal(dl.headers[DLQ_HEADERS.retryable], 'false');
  assert.equal(dl.headers[DLQ_HEADERS.stream], ob.stream);
  assert.equal(dl.headers[DLQ_HEADERS.consumer], 'notify-hook');
  assert.equal(dl.headers[DLQ_HEADERS.msgId], 'hook/g1/2');
  assert.equal(dl.headers[DLQ_HEADERS.errorName], 'DeliveryError');
  assert.match(dl.headers[DLQ_HEADERS.error] ?? '', /HTTP 422/);
  assert.equal(dl.headers[NOTIFY_DLQ_HEADERS.receiver], 'hook');
  assert.equal(dl.headers[NOTIFY_DLQ_HEADERS.status], '422');
  assert.equal(dl.headers[NOTIFY_DLQ_HEADERS.response], '{"error":"unknown field"}');
  assert.deepEqual(dl.data, notification('hook', 'g1', 2), 'the dead letter holds the notification as published');
  assert.equal(rx.requests.length, 6, 'the rejected notification was tried once, not retried');
  assert.equal(sender.stats()[0]?.deadLettered, 1);

  // Poison: not a kec.notification/v1 → dead-lettered at once by the consumer loop.
  await ob.publisher.publish(`${ob.bus.root}.notifications.hook`, { schema: 'nope' });
  await waitFor(async () => (await ob.deadLetters()).length === 2, 10_000, 'the poison dead letter');
  const poison = (await ob.deadLetters())[1];
  assert.equal(poison?.headers[DLQ_HEADERS.reason], 'poison');
  assert.match(poison?.headers[DLQ_HEADERS.error] ?? '', /not a kec.notification\/v1/);
});

test('delivery - a slow, rate-limited or failing receiver never holds up another receiver', async (t) => {
  const ob = await testOutbox(t);
  const slow = await httpReceiver(t);
  const fast = await httpReceiver(t);
  const down = await httpReceiver(t);
  await down.down();
  slow.reply = () => new Promise((r) => setTimeout(() => r({ status: 200 }), 2_000));
  await ob.sender({
    receivers: [
      hookReceiver('slow', slow, { concurrency: 1, rateLimit: { messages: 1, per: '20s' } }),
      hookReceiver('down', down),
      hookReceiver('fast', fast),
    ],
  });
  const t0 = Date.now();
  for (let i = 1; i <= 5; i++) {
    await ob.publish(notification('slow', `g${i}`, 1));
    await ob.publish(notification('down', `g${i}`, 1));
    await ob.publish(notification('fast', `g${i}`, 1));
  }
  await waitFor(() => fast.requests.length === 5, 10_000, 'the fast receiver got all five');
  const fastMs = Date.now() - t0;
  assert.ok(fastMs < 10_000, `fast receiver done in ${fastMs} ms`);
  assert.ok(slow.requests.length <= 1, `slow receiver got ${slow.requests.length} (rate limit 1 per 20 s)`);
});

test('delivery - stop while notifications are held, start again: all delivered once, in order', async (t) => {
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  const delivered: Array<{ groupKey: string; version: number }> = [];
  rx.reply = (r) => {
    const n = JSON.parse(r.body) as Notification;
    delivered.push({ groupKey: n.groupKey, version: n.version });
    return { status: 200 };
  };
  await rx.down();
  const groups = ['a', 'b', 'c'];
  const first = await ob.sender({ receivers: [hookReceiver('hook', rx)] });
  await publishGroups(ob, 'hook', groups, 1, 4);
  await waitFor(() => first.stats()[0]?.held === 12, 10_000, 'all held by the first sender');
  await first.stop();
  await rx.up();
  const second = await ob.sender({ receivers: [hookReceiver('hook', rx)] });
  await waitFor(() => delivered.length >= 12, 30_000, 'all delivered by the second sender');
  await waitFor(
    async () => (await ob.bus.jsm.consumers.info(ob.stream, 'notify-hook')).num_ack_pending === 0,
    10_000,
    'acked',
  );
  assertExactlyOnceInOrder(delivered, groups, 4);
  assert.equal(second.stats()[0]?.skipped, 0, 'no version skipped as superseded');
});

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function points(reader: TestReader, name: string): Promise<Array<DataPoint<unknown>>> {
  const { resourceMetrics } = await reader.collect();
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const md of sm.metrics) if (md.descriptor.name === name) return md.dataPoints as Array<DataPoint<unknown>>;
  }
  return [];
}

test('metrics - sent, failed, retried, dead-lettered, latency and backlog per receiver', async (t) => {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  t.after(() => provider.shutdown());
  const meter = provider.getMeter('kec-notify');
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  let calls = 0;
  rx.reply = (r) => {
    calls++;
    if (calls === 1) return { status: 500 };
    if ((JSON.parse(r.body) as Notification).groupKey === 'bad') return { status: 400 };
    return { status: 200 };
  };
  await ob.sender({ receivers: [hookReceiver('hook', rx)], meter, backlogPollMs: 0 });
  await ob.publish(notification('hook', 'g', 1));
  await ob.publish(notification('hook', 'g', 2, { status: 'resolved' }));
  await ob.publish(notification('hook', 'bad', 1));
  await waitFor(async () => (await ob.deadLetters()).length === 1, 15_000, 'dead letter');
  await waitFor(() => rx.requests.length === 4, 10_000, 'four requests');
  const value = async (name: string) =>
    (await points(reader, name))
      .map((d) => ({ a: d.attributes, v: d.value }))
      .sort((x, y) => JSON.stringify(x.a).localeCompare(JSON.stringify(y.a)));
  assert.deepEqual(await value('kec_notify_notifications_sent_total'), [
    { a: { receiver: 'hook', type: 'webhook', status: 'firing' }, v: 1 },
    { a: { receiver: 'hook', type: 'webhook', status: 'resolved' }, v: 1 },
  ]);
  assert.deepEqual(await value('kec_notify_notifications_failed_total'), [
    { a: { receiver: 'hook', retryable: 'false' }, v: 1 },
    { a: { receiver: 'hook', retryable: 'true' }, v: 1 },
  ]);
  assert.deepEqual(await value('kec_notify_notifications_retried_total'), [{ a: { receiver: 'hook' }, v: 1 }]);
  assert.deepEqual(await value('kec_notify_notifications_dead_lettered_total'), [{ a: { receiver: 'hook' }, v: 1 }]);
  const latency = await points(reader, 'kec_notify_notification_latency_seconds');
  assert.equal((latency[0]?.value as { count: number } | undefined)?.count, 2);
  await waitFor(
    async () => (await value('kec_notify_outbox_backlog')).some((p) => p.v === 0),
    10_000,
    'backlog gauge back to 0',
  );
  assert.deepEqual(await value('kec_notify_notifications_held'), [{ a: { receiver: 'hook' }, v: 0 }]);
});

test('delivery - replicas share the delivered versions in KV: a version delivered before a crash is not sent again', async (t) => {
  const ob = await testOutbox(t);
  const kv = await ob.kv();
  const rx = await httpReceiver(t);
  const delivered: Array<{ groupKey: string; version: number }> = [];
  rx.reply = (r) => {
    const n = JSON.parse(r.body) as Notification;
    delivered.push({ groupKey: n.groupKey, version: n.version });
    return { status: 200 };
  };
  // A process delivered g/3 (stream sequence 5: g1 h1 g2 h2 g3 …; the receiver answered 2xx, the mark was recorded)
  // and died before its ack.
  await kv.create(deliveredKey('hook', 'g'), JSON.stringify({ version: 3, seq: 5 }));
  await publishGroups(ob, 'hook', ['g', 'h'], 1, 4);
  const a = await ob.sender({ receivers: [hookReceiver('hook', rx)], deliveredKv: kv });
  await waitFor(() => delivered.length >= 5, 15_000, 'g/4 and h/1..4');
  await waitFor(
    async () => (await ob.bus.jsm.consumers.info(ob.stream, 'notify-hook')).num_ack_pending === 0,
    10_000,
    'acked',
  );
  assert.deepEqual(
    delivered.filter((d) => d.groupKey === 'g').map((d) => d.version),
    [4],
  );
  assertExactlyOnceInOrder(
    delivered.filter((d) => d.groupKey === 'h'),
    ['h'],
    4,
  );
  assert.equal(a.stats()[0]?.skipped, 3);
  const stored = await kv.get(deliveredKey('hook', 'h'));
  const mark = stored?.json() as { version: number; seq: number; at: string } | undefined;
  assert.deepEqual({ version: mark?.version, seq: mark?.seq }, { version: 4, seq: 8 });

  // The alerter deleted idle group g and started it again: version 1, published later (the alerter keeps idle
  // records longer than the duplicate window, so its msg id is new to the stream; here a distinct id stands in).
  const again = notification('hook', 'g', 1, { commonAnnotations: { summary: 'again' } });
  await ob.publisher.publish(`${ob.bus.root}.notifications.hook`, again, { msgId: 'hook/g/1/again' });
  await waitFor(() => delivered.length >= 6, 10_000, 'the new incarnation of g');
  assert.deepEqual(delivered.at(-1), { groupKey: 'g', version: 1 });
});

test('delivery - two sender replicas through an outage: per group no duplicate, never out of order, the last version always delivered', async (t) => {
  const ob = await testOutbox(t);
  const kv = await ob.kv();
  const rx = await httpReceiver(t);
  const delivered: Array<{ groupKey: string; version: number }> = [];
  rx.reply = (r) => {
    const n = JSON.parse(r.body) as Notification;
    delivered.push({ groupKey: n.groupKey, version: n.version });
    return { status: 200 };
  };
  await rx.down();
  const s1 = await ob.sender({ receivers: [hookReceiver('hook', rx)], deliveredKv: kv });
  const s2 = await ob.sender({ receivers: [hookReceiver('hook', rx)], deliveredKv: kv });
  const groups = Array.from({ length: 6 }, (_, i) => `g${i}`);
  await publishGroups(ob, 'hook', groups, 1, 5);
  await waitFor(
    () => (s1.stats()[0]?.held ?? 0) + (s2.stats()[0]?.held ?? 0) === 30,
    15_000,
    'all held by the two replicas',
  );
  await rx.up();
  await waitFor(
    async () => {
      const ci = await ob.bus.jsm.consumers.info(ob.stream, 'notify-hook');
      return ci.num_ack_pending === 0 && ci.num_pending === 0;
    },
    30_000,
    'all acked',
  );
  const sent = (s1.stats()[0]?.sent ?? 0) + (s2.stats()[0]?.sent ?? 0);
  const skipped = (s1.stats()[0]?.skipped ?? 0) + (s2.stats()[0]?.skipped ?? 0);
  assert.equal(sent + skipped, 30, 'every notification either delivered or skipped as superseded');
  for (const g of groups) {
    const versions = delivered.filter((d) => d.groupKey === g).map((d) => d.version);
    for (let i = 1; i < versions.length; i++) {
      assert.ok((versions[i] as number) > (versions[i - 1] as number), `group ${g} in order: ${versions}`);
    }
    assert.equal(versions.at(-1), 5, `group ${g}: the last version is delivered (${versions})`);
  }
  t.diagnostic(`two replicas: ${sent} delivered, ${skipped} skipped as superseded`);
});
