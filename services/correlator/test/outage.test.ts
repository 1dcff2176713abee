// A JetStream outage on the output side (KEC_EVENTS gone): the batch is retried for as long as it takes, never
// dead-lettered as max-deliveries, and the event is published once the stream is back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { ensureStream, streamSpec } from '@kec/bus';
import { CorrelatorState, correlatorService } from '../src/index.ts';
import { ev, REDIS_URL, STATE_DEFAULTS } from './helpers.ts';
import { correlatorEnv, type Space, space, startService, streamCount, waitFor } from './pipeline.ts';

/** JetStream reserves max_bytes per stream on the shared server: keep these small. */
const SMALL = 8 * 1024 * 1024;
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

test('outage - publish failures are redelivered past 10 deliveries without a dead letter, then published', async () => {
  const sp: Space = await space(false, SMALL);
  cleanup.push(() => sp.cleanup());
  const redisPrefix = `t${randomBytes(4).toString('hex')}:`;
  const stop = await startService(
    correlatorService,
    correlatorEnv(sp, redisPrefix, {
      KEC_CORRELATOR_STREAM_MAX_BYTES: String(SMALL),
      KEC_CORRELATOR_DURABLE: 'correlator-outage',
      KEC_CORRELATOR_NAK_DELAY_MS: '5',
      KEC_CORRELATOR_MAX_NAK_DELAY_MS: '20',
    }),
  );
  cleanup.push(async () => {
    await stop();
    const s = CorrelatorState.connect(REDIS_URL, redisPrefix, STATE_DEFAULTS);
    await s.purge();
    await s.close();
  });
  const events = `${sp.prefix}KEC_EVENTS`;
  const input = `${sp.prefix}KEC_ENRICHED`;
  await sp.bus.jsm.streams.delete(events);
  const e = ev({ reason: 'BackOff', name: 'web-0', note: 'Back-off restarting failed container web' });
  await sp.bus.js.publish(sp.bus.subjects.enriched(e.cluster, e.namespace, e.regarding.kind), JSON.stringify(e));
  // One message, delivered well past the old max_deliver of 10.
  await waitFor(
    '15 deliveries',
    async () => (await sp.bus.jsm.consumers.info(input, 'correlator-outage')).delivered.consumer_seq >= 15,
    20_000,
  );
  assert.equal(await streamCount(sp.bus, `${sp.prefix}KEC_DLQ`), 0, 'nothing dead-lettered');
  await ensureStream(
    sp.bus.jsm,
    streamSpec('KEC_EVENTS', sp.root, sp.prefix, { overrides: { KEC_EVENTS: { max_bytes: SMALL } } }),
  );
  await waitFor('the event', async () => (await streamCount(sp.bus, events)) === 1, 20_000);
  await waitFor(
    'all acked',
    async () => (await sp.bus.jsm.consumers.info(input, 'correlator-outage')).num_ack_pending === 0,
  );
  assert.equal(await streamCount(sp.bus, `${sp.prefix}KEC_DLQ`), 0, 'nothing dead-lettered');
});
