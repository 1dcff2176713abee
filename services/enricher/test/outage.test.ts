// A JetStream outage on the output side (KEC_ENRICHED gone): the batch is retried for as long as it takes, never
// dead-lettered as max-deliveries, and the events are published once the stream is back.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ensureStream, streamSpec } from '@kec/bus';
import { type Env, kecEvent, publishRaw, type Running, setup, startEnricher, streamCount, waitFor } from './helpers.ts';

let e: Env | undefined;
let enr: Running | undefined;
after(async () => {
  await enr?.stop();
  await e?.cleanup();
});

test('outage - publish failures are redelivered past 10 deliveries without a dead letter, then published', async () => {
  e = await setup({
    enricherEnv: {
      KEC_ENRICHER_DURABLE: 'enricher-outage',
      KEC_ENRICHER_NAK_DELAY_MS: '5',
      KEC_ENRICHER_MAX_NAK_DELAY_MS: '20',
      KEC_ENRICHER_STARTUP_SYNC_WAIT_MS: '0',
    },
  });
  const env = e;
  enr = await startEnricher(env.env);
  await env.bus.jsm.streams.delete(env.enrichedStream);
  await publishRaw(env, [kecEvent(env.cluster, { kind: 'Pod', namespace: 'shop', name: 'web-0' })]);
  // One message, delivered well past the old max_deliver of 10.
  await waitFor(
    '15 deliveries',
    async () => (await env.bus.jsm.consumers.info(env.rawStream, 'enricher-outage')).delivered.consumer_seq >= 15,
    20_000,
  );
  assert.equal(await streamCount(env.bus, `${env.prefix}KEC_DLQ`), 0, 'nothing dead-lettered');
  await ensureStream(
    env.bus.jsm,
    streamSpec('KEC_ENRICHED', env.root, env.prefix, { overrides: { KEC_ENRICHED: { max_bytes: 64 * 1024 * 1024 } } }),
  );
  await waitFor('the enriched event', async () => (await streamCount(env.bus, env.enrichedStream)) === 1, 20_000);
  await waitFor(
    'all acked',
    async () => (await env.bus.jsm.consumers.info(env.rawStream, 'enricher-outage')).num_ack_pending === 0,
  );
  assert.equal(await streamCount(env.bus, `${env.prefix}KEC_DLQ`), 0, 'nothing dead-lettered');
});
