import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nanos } from '@nats-io/transport-node';
import {
  configDiff,
  consumerSpec,
  ensureConsumer,
  ensureStream,
  MAX_MSG_SIZE,
  ProvisionError,
  STREAM_CATALOGUE,
  streamSpecs,
} from '../src/index.ts';
import { testBus } from './helpers.ts';

test('streams - catalogue covers every stage with explicit limits and 2.9-safe fields', () => {
  const specs = streamSpecs('kec', 'X_');
  assert.deepEqual(
    specs.map((s) => s.name),
    ['X_KEC_RAW', 'X_KEC_ENRICHED', 'X_KEC_EVENTS', 'X_KEC_INCIDENTS', 'X_KEC_PATTERNS', 'X_KEC_GAPS', 'X_KEC_DLQ'],
  );
  assert.deepEqual(specs[0]!.subjects, ['kec.raw.>']);
  assert.deepEqual(specs[6]!.subjects, ['kec.dlq.>']);
  for (const s of specs) {
    assert.equal(s.retention, 'limits');
    assert.equal(s.storage, 'file');
    assert.equal(s.discard, 'old');
    assert.ok(s.max_age > 0 && s.max_bytes > 0, s.name);
    assert.equal(s.max_msg_size, MAX_MSG_SIZE);
    assert.ok(s.duplicate_window > 0 && s.duplicate_window <= s.max_age, s.name);
    for (const f of ['subject_transform', 'metadata', 'compression', 'allow_msg_ttl', 'first_seq']) {
      assert.ok(!(f in s), `${s.name} must not use 2.10+ field ${f}`);
    }
  }
  assert.equal(specs[0]!.duplicate_window, nanos(15 * 60_000));
  assert.equal(STREAM_CATALOGUE.length, specs.length);
  const o = streamSpecs('kec', '', { replicas: 3, overrides: { KEC_RAW: { max_bytes: 1024 } } });
  assert.equal(o[0]!.max_bytes, 1024);
  assert.equal(o[1]!.num_replicas, 3);
});

test('streams - configDiff reports only managed fields that differ', () => {
  assert.deepEqual(configDiff({ a: 1, s: ['x', 'y'] }, { a: 1, s: ['y', 'x'], other: 3 }), []);
  assert.deepEqual(configDiff({ a: 1, b: 2 }, { a: 2 }), ['a', 'b']);
});

test('streams - ensureStream creates, leaves alone, updates in place without losing data', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const spec = await tb.stream('KEC_RAW'); // created by the helper
  assert.equal((await ensureStream(tb.bus.jsm, spec)).result, 'unchanged');
  await tb.bus.js.publish(tb.bus.subjects.raw('c', 'ns', 'Pod'), 'kept');
  const longer = { ...spec, max_age: spec.max_age * 2, duplicate_window: nanos(60_000) };
  const updated = await ensureStream(tb.bus.jsm, longer);
  assert.equal(updated.result, 'updated');
  assert.equal(updated.info.config.max_age, longer.max_age);
  assert.equal(updated.info.config.duplicate_window, nanos(60_000));
  assert.equal(updated.info.state.messages, 1, 'the update kept the stored message');
  assert.equal((await ensureStream(tb.bus.jsm, longer)).result, 'unchanged');
  await assert.rejects(ensureStream(tb.bus.jsm, { ...longer, storage: 'memory' as never }), ProvisionError);
  assert.equal((await tb.bus.jsm.streams.info(spec.name)).state.messages, 1);
});

test('streams - ensureConsumer creates a durable pull consumer and updates it idempotently', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const spec = await tb.stream('KEC_EVENTS');
  const c = consumerSpec('writer', { filterSubject: tb.bus.subjects.all('events'), ackWaitMs: 10_000, maxDeliver: 4 });
  const created = await ensureConsumer(tb.bus.jsm, spec.name, c);
  assert.equal(created.result, 'created');
  assert.equal(created.info.config.ack_policy, 'explicit');
  assert.equal(created.info.config.durable_name, 'writer');
  assert.equal(created.info.config.deliver_subject, undefined, 'pull consumer');
  assert.equal((await ensureConsumer(tb.bus.jsm, spec.name, c)).result, 'unchanged');
  const changed = await ensureConsumer(tb.bus.jsm, spec.name, { ...c, max_deliver: 7, max_ack_pending: 50 });
  assert.equal(changed.result, 'updated');
  assert.equal(changed.info.config.max_deliver, 7);
  assert.equal(changed.info.config.max_ack_pending, 50);
  // Two replicas provisioning at once both succeed.
  const both = await Promise.all([
    ensureConsumer(tb.bus.jsm, spec.name, consumerSpec('alerter')),
    ensureConsumer(tb.bus.jsm, spec.name, consumerSpec('alerter')),
  ]);
  assert.ok(both.every((r) => r.info.name === 'alerter'));
  await assert.rejects(
    ensureConsumer(tb.bus.jsm, 'NO_SUCH_STREAM_' + tb.prefix, consumerSpec('x')),
    (e: unknown) => e instanceof ProvisionError && e.retryable === false,
  );
});
