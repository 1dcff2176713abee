import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { type BusMessage, consume, Publisher } from '../src/index.ts';
import { testBus, waitFor } from './helpers.ts';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function points(reader: TestReader, name: string): Promise<Array<DataPoint<unknown>>> {
  const { resourceMetrics } = await reader.collect();
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const md of sm.metrics) {
      if (md.descriptor.name === name) return md.dataPoints as Array<DataPoint<unknown>>;
    }
  }
  return [];
}

test('metrics - publish and consume counters carry only stream and consumer labels', async (t) => {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const tb = await testBus('bus-metrics', { meter: provider.getMeter('kec-bus') });
  t.after(async () => {
    await tb.cleanup();
    await provider.shutdown();
  });
  const raw = (await tb.stream('KEC_RAW')).name;
  const dlq = (await tb.stream('KEC_DLQ')).name;
  await tb.durable(raw, 'worker', { maxDeliver: 2 });
  const p = new Publisher(tb.bus);
  const subject = tb.bus.subjects.raw('c', 'ns', 'Pod');
  for (let i = 0; i < 10; i++) await p.publish(subject, { i }, { msgId: `id${i}` });
  await p.publish(subject, { i: 0 }, { msgId: 'id0' }); // duplicate
  await p.publish(subject, 'not json');
  let handled = 0;
  const h = tb.track(
    await consume({
      bus: tb.bus,
      stream: raw,
      durable: 'worker',
      dlq: { stage: 'test' },
      nakDelayMs: 10,
      pendingPollMs: 0,
      handler: (m: BusMessage) => {
        const v = m.json<{ i: number }>();
        if (v.i === 3 && m.deliveryCount === 1) throw new Error('once');
        handled++;
      },
    }),
  );
  await waitFor(() => handled === 10, 10_000, '10 handled');
  await waitFor(async () => (await tb.bus.jsm.streams.info(dlq)).state.messages === 1, 5_000, 'dead letter');
  await h.stop();
  const labels = { stream: raw, consumer: 'worker' };
  const value = async (name: string) => (await points(reader, name)).map((d) => ({ a: d.attributes, v: d.value }));
  assert.deepEqual(await value('kec_bus_messages_published_total'), [
    { a: { stream: raw }, v: 12 },
    { a: { stream: dlq }, v: 1 },
  ]);
  assert.deepEqual(await value('kec_bus_publish_duplicates_total'), [{ a: { stream: raw }, v: 1 }]);
  assert.deepEqual(await value('kec_bus_messages_processed_total'), [{ a: labels, v: 10 }]);
  assert.deepEqual(await value('kec_bus_messages_failed_total'), [{ a: labels, v: 2 }]);
  assert.deepEqual(await value('kec_bus_messages_redelivered_total'), [{ a: labels, v: 1 }]);
  assert.deepEqual(await value('kec_bus_messages_dead_lettered_total'), [{ a: labels, v: 1 }]);
  const hist = await points(reader, 'kec_bus_publish_duration_seconds');
  assert.equal((hist[0]!.value as { count: number }).count, 13, 'includes the dead-letter publish');
});

test('metrics - the pending gauge reports the consumer backlog', async (t) => {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const tb = await testBus('bus-metrics', { meter: provider.getMeter('kec-bus') });
  t.after(async () => {
    await tb.cleanup();
    await provider.shutdown();
  });
  const raw = (await tb.stream('KEC_RAW')).name;
  await tb.stream('KEC_DLQ');
  await tb.durable(raw, 'worker');
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const h = tb.track(
    await consume({
      bus: tb.bus,
      stream: raw,
      durable: 'worker',
      dlq: { stage: 'test' },
      pendingPollMs: 0,
      pullAhead: 32,
      handler: () => gate,
    }),
  );
  const p = new Publisher(tb.bus);
  for (let i = 0; i < 100; i++) void p.publish(tb.bus.subjects.raw('c', 'ns', 'Pod'), { i });
  await p.flush();
  // One handler holds its message; the client pulled up to 32; the rest is pending in the stream.
  await waitFor(
    async () => {
      const [pt] = await points(reader, 'kec_bus_consumer_pending');
      return pt?.value === 100 - 32;
    },
    5_000,
    'pending gauge at 68',
  );
  const [ack] = await points(reader, 'kec_bus_consumer_ack_pending');
  assert.equal(ack?.value, 32);
  assert.deepEqual(ack?.attributes, { stream: raw, consumer: 'worker' });
  release();
  await h.stop();
});
