import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DLQ_HEADERS } from '@kec/bus';
import {
  coreEvent,
  type Env,
  readAll,
  readCheckpoint,
  setup,
  startInProcess,
  streamCount,
  waitFor,
} from './helpers.ts';

let e: Env;
before(async () => {
  e = await setup();
});
after(async () => {
  await e.cleanup();
});

interface Dlq {
  subject: string;
  reason: string | undefined;
  error: string | undefined;
  truncated: string | undefined;
  size: number;
}

async function readDlq(): Promise<Dlq[]> {
  const total = await streamCount(e.bus, e.dlqStream);
  const out: Dlq[] = [];
  if (total === 0) return out;
  const c = await e.bus.js.consumers.get(e.dlqStream);
  const it = await c.consume({ max_messages: 100 });
  for await (const m of it) {
    out.push({
      subject: m.subject,
      reason: m.headers?.get(DLQ_HEADERS.reason),
      error: m.headers?.get(DLQ_HEADERS.error),
      truncated: m.headers?.get('Kec-Dlq-Truncated'),
      size: m.data.length,
    });
    if (out.length >= total || m.info.pending === 0) break;
  }
  await it.close();
  return out;
}

test('dlq - an object that cannot be normalized and one the stream rejects are dead-lettered before the checkpoint passes them', async () => {
  const ns = 'dlq';
  // Fails normalization.
  await e.sim.store.create(`/api/v1/namespaces/${ns}/events`, {
    ...coreEvent(ns, 'bad', 0),
    count: -3, // the API server stores it, but kec's schema refuses it (count >= 0)
  });
  // Normalizes, but is larger than the stream's 1 MiB max_msg_size: the publish fails for good.
  await e.sim.store.create(`/api/v1/namespaces/${ns}/events`, {
    ...coreEvent(ns, 'huge', 3),
    message: 'm'.repeat(1100 * 1024),
  });
  const good = (await e.sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'good', 6))) as {
    metadata: { resourceVersion: string };
  };
  const w = await startInProcess(e.env);
  try {
    await waitFor('two dead letters', async () => (await streamCount(e.bus, e.dlqStream)) >= 2, 20_000);
    await waitFor('the good event', async () => (await streamCount(e.bus, e.rawStream)) >= 1, 20_000);
    const dlq = await readDlq();
    assert.equal(dlq.length, 2);
    for (const d of dlq) assert.equal(d.subject, e.bus.subjects.dlq('watcher'));
    const poison = dlq.find((d) => d.reason === 'poison');
    const rejected = dlq.find((d) => d.reason === 'rejected');
    assert.ok(poison, 'the normalization failure is dead-lettered as poison');
    assert.ok(poison.error && poison.error.length > 0);
    assert.equal(poison.truncated, 'false');
    assert.ok(rejected, 'the rejected publish is dead-lettered');
    assert.equal(rejected.truncated, 'true', 'the copy of an object that did not fit is truncated');
    assert.ok(rejected.size < 128 * 1024);
    const raw = await readAll(e.bus, e.rawStream);
    assert.deepEqual(
      raw.map((m) => m.data.name),
      ['good'],
    );
    // The checkpoint reaches past all three (they all went somewhere).
    await waitFor(
      'checkpoint past the dead letters',
      async () =>
        BigInt((await readCheckpoint(e.bus, e.bucket, e.cluster)) ?? '0') >= BigInt(good.metadata.resourceVersion),
      10_000,
    );
  } finally {
    w.abort.abort();
    await w.running.stop();
  }
});
