import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopFailure } from '../src/index.ts';

const PENDING = Symbol('pending');

async function settledOrPending(p: Promise<Error>): Promise<Error | typeof PENDING> {
  // Every continuation of an already-settled loop runs before a macrotask.
  return Promise.race([p, new Promise<typeof PENDING>((r) => setImmediate(() => r(PENDING)))]);
}

test('supervise - a rejected election loop surfaces as failed (the runtime exits 1 and the process restarts)', async () => {
  const ac = new AbortController();
  const r = await settledOrPending(loopFailure('leader election loop', Promise.reject(new Error('boom')), ac.signal));
  assert.ok(r instanceof Error);
  assert.match(r.message, /leader election loop failed: boom/);
});

test('supervise - a loop that returns before shutdown is a failure; after shutdown it is not', async () => {
  const running = new AbortController();
  const early = await settledOrPending(loopFailure('loop', Promise.resolve(), running.signal));
  assert.ok(early instanceof Error);
  assert.match(early.message, /ended unexpectedly/);
  const stopped = new AbortController();
  stopped.abort();
  assert.equal(await settledOrPending(loopFailure('loop', Promise.resolve(), stopped.signal)), PENDING);
});
