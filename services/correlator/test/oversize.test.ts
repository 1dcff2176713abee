// A permanent publish failure (an event over KEC_EVENTS' max_msg_size) dead-letters only the input message whose
// output it was; the rest of its batch is published and acked.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { DLQ_HEADERS } from '@kec/bus';
import { parseEnrichedEvent } from '@kec/cache';
import { CorrelatorState, correlatorService } from '../src/index.ts';
import { ev, REDIS_URL, STATE_DEFAULTS } from './helpers.ts';
import { correlatorEnv, type Space, space, startService, streamCount, waitFor } from './pipeline.ts';

/** JetStream reserves max_bytes per stream on the shared server: keep these small. */
const SMALL = 8 * 1024 * 1024;
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

test('oversize - an event over max_msg_size dead-letters its own input message, not its batch', async () => {
  const sp: Space = await space(false, SMALL);
  cleanup.push(() => sp.cleanup());
  const redisPrefix = `t${randomBytes(4).toString('hex')}:`;
  const stop = await startService(
    correlatorService,
    correlatorEnv(sp, redisPrefix, {
      KEC_CORRELATOR_STREAM_MAX_BYTES: String(SMALL),
      KEC_CORRELATOR_DURABLE: 'correlator-oversize',
      // One batch for the three events below.
      KEC_CORRELATOR_BATCH_WAIT_MS: '1000',
    }),
  );
  cleanup.push(async () => {
    await stop();
    const s = CorrelatorState.connect(REDIS_URL, redisPrefix, STATE_DEFAULTS);
    await s.purge();
    await s.close();
  });
  const events = `${sp.prefix}KEC_EVENTS`;
  const dlq = `${sp.prefix}KEC_DLQ`;
  // After the start (which ensures the catalogue's 1 MiB): too small for the big event only.
  const info = await sp.bus.jsm.streams.info(events);
  await sp.bus.jsm.streams.update(events, { ...info.config, max_msg_size: 8 * 1024 });
  const input = [0, 1, 2].map((i) =>
    ev({ reason: 'BackOff', name: `web-${i}`, note: i === 1 ? 'x'.repeat(16 * 1024) : 'Back-off restarting' }),
  );
  await Promise.all(
    input.map((e) =>
      sp.bus.js.publish(sp.bus.subjects.enriched(e.cluster, e.namespace, e.regarding.kind), JSON.stringify(e)),
    ),
  );
  await waitFor(
    '2 events and 1 dead letter',
    async () => (await streamCount(sp.bus, events)) === 2 && (await streamCount(sp.bus, dlq)) >= 1,
  );
  await waitFor(
    'all acked',
    async () =>
      (await sp.bus.jsm.consumers.info(`${sp.prefix}KEC_ENRICHED`, 'correlator-oversize')).num_ack_pending === 0,
  );
  assert.equal(await streamCount(sp.bus, dlq), 1, 'only the oversized event is dead-lettered');
  const m = await sp.bus.jsm.streams.getMessage(dlq, { seq: (await sp.bus.jsm.streams.info(dlq)).state.first_seq });
  assert.ok(m);
  assert.equal(parseEnrichedEvent(m.json()).uid, input[1]?.uid);
  assert.equal(m.header.get(DLQ_HEADERS.reason), 'rejected');
});
