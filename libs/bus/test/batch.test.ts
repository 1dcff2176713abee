// parseBatch and settlePublishes: the per-message bookkeeping of transform stages (pure, no server needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BusMessage, PublishError, parseBatch, settlePublishes } from '../src/index.ts';

const msg = (text: string) => ({ data: new TextEncoder().encode(text), subject: text }) as unknown as BusMessage;
const fail = (retryable: boolean) =>
  Promise.reject(new PublishError(retryable ? 'no responders' : 'too large', { subject: 's', retryable }));

test('batch - parseBatch keeps message order and sends what does not parse to the dead letters', () => {
  const msgs = [msg('{"a":1}'), msg('nope'), msg('{"a":3}')];
  const r = parseBatch(msgs, (d) => JSON.parse(new TextDecoder().decode(d)) as { a: number });
  assert.deepEqual(
    r.items.map((x) => x.a),
    [1, 3],
  );
  assert.deepEqual(r.sources, [msgs[0], msgs[2]]);
  assert.equal(r.deadLetter.length, 1);
  assert.equal(r.deadLetter[0]!.message, msgs[1]);
  assert.ok(r.deadLetter[0]!.error instanceof SyntaxError);
});

test('batch - settlePublishes: permanent failures dead-letter their input message once, the rest succeed', async () => {
  const [a, b, c] = [msg('a'), msg('b'), msg('c')];
  const dead = await settlePublishes([
    { from: a, p: Promise.resolve() },
    { from: b, p: fail(false) },
    { from: b, p: fail(false) },
    { from: c, p: Promise.resolve() },
  ]);
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.message, b);
  assert.match(String(dead[0]!.error), /too large/);
});

test('batch - settlePublishes: a retryable failure anywhere throws so the whole batch is nak-ed', async () => {
  const [a, b] = [msg('a'), msg('b')];
  await assert.rejects(
    settlePublishes([
      { from: a, p: fail(false) },
      { from: b, p: fail(true) },
    ]),
    /no responders/,
  );
});
