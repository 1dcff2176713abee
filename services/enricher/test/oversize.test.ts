// A permanent publish failure (an enriched event over KEC_ENRICHED's max_msg_size; in the fused mode, a kec.events
// output over KEC_EVENTS') dead-letters only the raw message it came from; the rest of its batch is published and
// acked.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DLQ_HEADERS } from '@kec/bus';
import { parseKecEvent } from '@kec/model';
import { type Env, kecEvent, publishRaw, type Running, setup, startEnricher, streamCount, waitFor } from './helpers.ts';

const envs: Env[] = [];
const running: Running[] = [];
after(async () => {
  for (const r of running) await r.stop();
  for (const e of envs) await e.cleanup();
});

async function oversize(fused: boolean): Promise<void> {
  const env = await setup({
    enricherEnv: {
      KEC_ENRICHER_DURABLE: 'enricher-oversize',
      KEC_ENRICHER_STARTUP_SYNC_WAIT_MS: '0',
      // One batch for the three events below.
      KEC_ENRICHER_BATCH_WAIT_MS: '1000',
      ...(fused ? { KEC_ENRICHER_CORRELATE: 'true' } : {}),
    },
  });
  envs.push(env);
  running.push(await startEnricher(env.env));
  const out = fused ? `${env.prefix}KEC_EVENTS` : env.enrichedStream;
  // After the start (which ensures the catalogue's 1 MiB): small enough for the big event, not for the others.
  const info = await env.bus.jsm.streams.info(out);
  await env.bus.jsm.streams.update(out, { ...info.config, max_msg_size: 8 * 1024 });
  const events = [0, 1, 2].map((i) => kecEvent(env.cluster, { kind: 'Pod', namespace: 'shop', name: `web-${i}` }));
  const big = { ...(events[1] as (typeof events)[number]), note: 'x'.repeat(16 * 1024) };
  events[1] = big;
  await publishRaw(env, events);
  const dlq = `${env.prefix}KEC_DLQ`;
  await waitFor('2 outputs and 1 dead letter', async () => {
    return (await streamCount(env.bus, out)) === 2 && (await streamCount(env.bus, dlq)) >= 1;
  });
  await waitFor(
    'all acked',
    async () => (await env.bus.jsm.consumers.info(env.rawStream, 'enricher-oversize')).num_ack_pending === 0,
  );
  assert.equal(await streamCount(env.bus, dlq), 1, 'only the oversized event is dead-lettered');
  const m = await env.bus.jsm.streams.getMessage(dlq, { seq: (await env.bus.jsm.streams.info(dlq)).state.first_seq });
  assert.ok(m);
  assert.equal(parseKecEvent(m.json()).uid, big.uid);
  assert.equal(m.header.get(DLQ_HEADERS.reason), 'rejected');
  assert.match(m.header.get(DLQ_HEADERS.error), /publish/);
  assert.ok(m.subject.endsWith('.dlq.enricher'), m.subject);
}

test('oversize - an enriched event over max_msg_size dead-letters its own message, not its batch', () =>
  oversize(false));

test('oversize - fused: a kec.events output over max_msg_size dead-letters its own raw message, not its batch', () =>
  oversize(true));
