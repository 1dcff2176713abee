import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteQueue } from '../../src/index.ts';

test('write queue - jobs of one key run in order, other keys in parallel up to the limit', async () => {
  const q = new WriteQueue({ concurrency: 3 });
  const order: string[] = [];
  let running = 0;
  let peak = 0;
  const job = (name: string, ms: number) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, ms));
    order.push(name);
    running--;
  };
  for (let i = 0; i < 5; i++) q.submit('a', job(`a${i}`, 5 - i));
  for (let i = 0; i < 5; i++) q.submit(`k${i}`, job(`k${i}`, 3));
  await q.drain();
  assert.deepEqual(
    order.filter((n) => n.startsWith('a')),
    ['a0', 'a1', 'a2', 'a3', 'a4'],
  );
  assert.equal(peak, 3);
  assert.equal(q.queued, 0);
});

test('write queue - a job waiting for a dependency does not hold a slot (no deadlock at concurrency 1)', async () => {
  const q = new WriteQueue({ concurrency: 1 });
  const order: string[] = [];
  let created!: () => void;
  const podCreated = new Promise<void>((r) => {
    created = r;
  });
  // The event about the pod is submitted first but must wait for the pod, which is queued behind a delete of the
  // same path: with the waiting job holding the only slot, this would never finish.
  q.submit('pods/x', async () => {
    order.push('delete old x');
  });
  q.submit(
    'events/x.1',
    async () => {
      order.push('event about new x');
    },
    () => podCreated,
  );
  q.submit('pods/x', async () => {
    order.push('create new x');
    created();
  });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('queue deadlocked')), 2000));
  await Promise.race([q.drain(), timeout]);
  assert.deepEqual(order, ['delete old x', 'create new x', 'event about new x']);
});
