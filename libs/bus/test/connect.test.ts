import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { BusConnectError, connectBus } from '../src/index.ts';
import { NATS_URL, randomId } from './helpers.ts';

test('connect - an unreachable server fails the first connect with a retryable BusConnectError', async () => {
  await assert.rejects(
    connectBus({ url: 'nats://127.0.0.1:1', name: 'unreachable', logger: pino({ level: 'silent' }), timeoutMs: 1000 }),
    (e: unknown) => e instanceof BusConnectError && e.retryable,
  );
});

test('connect - a bus exposes JetStream, KV and subjects of its root; close drains once', async () => {
  const root = `t${randomId()}`;
  const bus = await connectBus({ url: NATS_URL, name: 'connect-test', root, logger: pino({ level: 'silent' }) });
  assert.equal(bus.root, root);
  assert.equal(bus.subjects.gaps('c1'), `${root}.gaps.c1`);
  assert.ok((await bus.jsm.getAccountInfo()).limits);
  assert.equal(bus.nc.isClosed(), false);
  await Promise.all([bus.close(), bus.close()]);
  assert.equal(bus.nc.isClosed(), true);
  await bus.close();
});
