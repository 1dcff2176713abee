// The incident sweep against the real Redis and NATS: a resolution whose publish failed is published by the next sweep.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { connectBus, ensureStream, Publisher, streamSpec } from '@kec/bus';
import { RuleSet } from '@kec/rules';
import { pino } from 'pino';
import { Correlator, type IncidentPayload, sweep } from '../src/index.ts';
import { ev, NATS_URL, newState } from './helpers.ts';

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

test('sweep - a resolution whose publish failed is published by the next sweep, once', async () => {
  const state = newState();
  cleanup.push(async () => {
    await state.purge();
    await state.close();
  });
  const root = `t${randomBytes(4).toString('hex')}`;
  const prefix = `${root.toUpperCase()}_`;
  const bus = await connectBus({ url: NATS_URL, name: 'kec-correlator-test', logger: pino({ level: 'silent' }), root });
  cleanup.push(() => bus.close());
  const pub = new Publisher(bus, { window: 8, timeoutMs: 2000 });
  const c = new Correlator({
    rules: RuleSet.load(),
    state,
    stormMin: 5,
    stormFactor: 3,
    baselineMinutes: 10,
    firstSeenTtlSec: 600,
  });
  const out = await c.process(
    ev({
      reason: 'FailedGetResourceMetric',
      kind: 'HorizontalPodAutoscaler',
      name: 'web',
      component: 'horizontal-pod-autoscaler',
      note: 'failed to get cpu utilization',
      at: '2026-11-22T06:00:00Z',
    }),
  );
  const id = out.event.incidentId;
  assert.ok(id);
  const now = Date.parse('2026-11-22T06:20:00Z');

  // No KEC_INCIDENTS stream yet: the publish of the resolution fails.
  await assert.rejects(sweep(bus, pub, state, 600_000, now));
  assert.deepEqual(await state.quiet(now), [], 'resolved in Redis');
  assert.deepEqual(
    (await state.unpublished()).map((s) => s.id),
    [id],
    'kept until published',
  );

  const stream = `${prefix}KEC_INCIDENTS`;
  await ensureStream(
    bus.jsm,
    streamSpec('KEC_INCIDENTS', root, prefix, { overrides: { KEC_INCIDENTS: { max_bytes: 8 * 1024 * 1024 } } }),
  );
  cleanup.push(() => bus.jsm.streams.delete(stream));
  assert.equal(await sweep(bus, pub, state, 600_000, now), 1);
  assert.equal(await sweep(bus, pub, state, 600_000, now), 0);
  assert.deepEqual(await state.unpublished(), []);
  const info = await bus.jsm.streams.info(stream);
  assert.equal(info.state.messages, 1);
  const msg = await bus.jsm.streams.getMessage(stream, { seq: info.state.last_seq });
  assert.ok(msg);
  const inc = msg.json<IncidentPayload>();
  assert.equal(inc.id, id);
  assert.equal(inc.state, 'resolved');
});
