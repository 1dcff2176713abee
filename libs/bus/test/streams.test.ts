import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nanos } from '@nats-io/transport-node';
import { pino } from 'pino';
import {
  configDiff,
  consumerSpec,
  ensureConsumer,
  ensureStream,
  MAX_MSG_SIZE,
  ProvisionError,
  STREAM_CATALOGUE,
  streamSpecs,
  subjectsCollide,
  withoutShrinks,
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

test('streams - ensureStream never lowers a limit of an existing stream, so a smaller configured max_bytes cannot delete a backlog', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const spec = await tb.stream('KEC_RAW', { max_bytes: 1024 * 1024 });
  const subject = tb.bus.subjects.raw('c', 'ns', 'Pod');
  const body = 'x'.repeat(10_000);
  for (let i = 0; i < 20; i++) await tb.bus.js.publish(subject, body);
  assert.equal((await tb.bus.jsm.streams.info(spec.name)).state.messages, 20);
  const warnings: unknown[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  // Another service starts with smaller limits: 64 KiB would discard most of the 200 KB backlog.
  const smaller = { ...spec, max_bytes: 64 * 1024, max_age: spec.max_age / 2, max_msgs: 5, max_msg_size: 4096 };
  const r = await ensureStream(tb.bus.jsm, smaller, { logger });
  assert.equal(r.result, 'unchanged');
  const info = await tb.bus.jsm.streams.info(spec.name);
  assert.equal(info.config.max_bytes, 1024 * 1024);
  assert.equal(info.config.max_age, spec.max_age);
  assert.equal(info.config.max_msgs, -1);
  assert.equal(info.config.max_msg_size, spec.max_msg_size);
  assert.equal(info.state.messages, 20, 'the backlog survived');
  assert.equal(warnings.length, 4, 'one warning per kept field');
  assert.match(JSON.stringify(warnings), /nats stream edit/);
  // Logged once: the same configuration again warns no more.
  await ensureStream(tb.bus.jsm, smaller, { logger });
  assert.equal(warnings.length, 4);
  // A larger value is still applied, alongside a kept smaller one.
  const grown = await ensureStream(tb.bus.jsm, { ...smaller, max_bytes: 2 * 1024 * 1024 }, { logger });
  assert.equal(grown.result, 'updated');
  assert.equal(grown.info.config.max_bytes, 2 * 1024 * 1024);
  assert.equal(grown.info.config.max_msgs, -1);
  assert.equal(grown.info.state.messages, 20);
});

test('streams - a stream whose subjects another stream holds fails naming that stream and what to do', async (t) => {
  const tb = await testBus();
  t.after(() => tb.cleanup());
  const held = await tb.stream('KEC_RAW'); // what a demo left behind: its own prefix, the same subjects
  const mine = { ...held, name: `${tb.prefix}OTHER_KEC_RAW` };
  await assert.rejects(
    ensureStream(tb.bus.jsm, mine),
    (e: unknown) =>
      e instanceof ProvisionError &&
      e.message.includes(`are held by stream ${held.name} (${held.subjects![0]})`) &&
      e.message.includes(`nats stream rm ${held.name}`) &&
      e.message.includes('KEC_<SERVICE>_SUBJECT_ROOT'),
  );
});

test('streams - subjectsCollide follows NATS wildcards', () => {
  assert.ok(subjectsCollide('kec.raw.>', 'kec.raw.>'));
  assert.ok(subjectsCollide('kec.raw.>', 'kec.raw.c.ns.Pod'));
  assert.ok(subjectsCollide('kec.*.c', 'kec.raw.>'));
  assert.ok(subjectsCollide('>', 'a'));
  assert.ok(!subjectsCollide('kec.raw.>', 'kec.raw'));
  assert.ok(!subjectsCollide('kec.raw.>', 'kecdemo.raw.>'));
  assert.ok(!subjectsCollide('a.b', 'a.b.c'));
  assert.ok(!subjectsCollide('a.*', 'a.b.c'));
});

test('streams - withoutShrinks treats -1 and max_age 0 as unlimited', () => {
  const { spec, kept } = withoutShrinks(
    { max_bytes: 10, max_age: 5, max_msgs: 100, max_msg_size: -1 },
    { max_bytes: -1, max_age: 0, max_msgs: 50, max_msg_size: 1000 },
  );
  assert.deepEqual(spec, { max_bytes: -1, max_age: 0, max_msgs: 100, max_msg_size: -1 });
  assert.deepEqual(
    kept.map((k) => k.field),
    ['max_bytes', 'max_age'],
  );
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
