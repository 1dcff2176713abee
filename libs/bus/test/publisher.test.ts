import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { encodePayload, PublishError, Publisher } from '../src/index.ts';
import { testBus } from './helpers.ts';
import { installTestOtel } from './otel.ts';

installTestOtel();

test('publisher - same msgId twice stores one message and the second ack says duplicate', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const spec = await tb.stream('KEC_RAW');
  const p = new Publisher(tb.bus);
  const subject = tb.bus.subjects.raw('c1', 'default', 'Pod');
  const a = await p.publish(subject, { uid: 'u1', rv: '7' }, { msgId: 'c1/u1/7' });
  const b = await p.publish(subject, { uid: 'u1', rv: '7' }, { msgId: 'c1/u1/7' });
  const c = await p.publish(subject, { uid: 'u1', rv: '8' }, { msgId: 'c1/u1/8' });
  assert.equal(a.duplicate, false);
  assert.equal(b.duplicate, true);
  assert.equal(b.seq, a.seq);
  assert.equal(c.duplicate, false);
  assert.equal((await tb.bus.jsm.streams.info(spec.name)).state.messages, 2);
});

test('publisher - the window bounds publishes in flight and flush waits for all of them', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const spec = await tb.stream('KEC_RAW');
  const p = new Publisher(tb.bus, { window: 8 });
  const subject = tb.bus.subjects.raw('c1', 'default', 'Pod');
  let maxSeen = 0;
  const all: Array<Promise<unknown>> = [];
  for (let i = 0; i < 200; i++) {
    all.push(p.publish(subject, { i }));
    maxSeen = Math.max(maxSeen, p.inFlight);
  }
  assert.ok(maxSeen <= 8, `in flight ${maxSeen} exceeded the window`);
  assert.equal(maxSeen, 8, 'the window was used');
  await p.flush();
  assert.equal(p.inFlight, 0);
  await Promise.all(all);
  assert.equal((await tb.bus.jsm.streams.info(spec.name)).state.messages, 200);
});

test('publisher - injects the active trace context and keeps caller headers', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const spec = await tb.stream('KEC_RAW');
  const p = new Publisher(tb.bus);
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  });
  const ack = await context.with(parent, () =>
    p.publish(tb.bus.subjects.raw('c1', 'ns', 'Pod'), 'x', { headers: { 'Kec-Source': 'test' } }),
  );
  const stored = await tb.bus.jsm.streams.getMessage(spec.name, { seq: ack.seq });
  assert.ok(stored);
  assert.match(stored.header.get('traceparent'), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  assert.equal(stored.header.get('Kec-Source'), 'test');
  assert.equal(new TextDecoder().decode(stored.data), 'x');
});

test('publisher - failures are typed: no stream is retryable, too large is not', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  await tb.stream('KEC_RAW');
  const p = new Publisher(tb.bus);
  await assert.rejects(
    p.publish(`${tb.bus.root}.nostream.x`, 'x', { timeoutMs: 2000 }),
    (e: unknown) => e instanceof PublishError && e.retryable && e.subject.endsWith('nostream.x'),
  );
  await assert.rejects(
    p.publish(tb.bus.subjects.raw('c', 'n', 'k'), new Uint8Array(2 * 1024 * 1024)),
    (e: unknown) => e instanceof PublishError && !e.retryable,
  );
  // A server-side rejection (the stream's max_msg_size) is a 4xx API error: not retryable.
  await tb.stream('KEC_GAPS', { max_msg_size: 1024 });
  await assert.rejects(
    p.publish(tb.bus.subjects.gaps('c'), new Uint8Array(4096)),
    (e: unknown) => e instanceof PublishError && !e.retryable && /maximum|size/i.test(e.message),
  );
  assert.equal(p.inFlight, 0, 'failed publishes free their slot');
});

test('publisher - encodePayload passes bytes, encodes strings and JSON', () => {
  const bytes = new Uint8Array([1, 2]);
  assert.equal(encodePayload(bytes), bytes);
  assert.deepEqual(encodePayload('é'), new TextEncoder().encode('é'));
  assert.equal(new TextDecoder().decode(encodePayload({ a: [1] })), '{"a":[1]}');
});
