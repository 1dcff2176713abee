import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, compareResourceVersion, microTime, ResourceVersionTracker } from '../src/index.ts';

test('rv - compares decimal resourceVersions numerically', () => {
  assert.equal(compareResourceVersion('9', '10'), -1);
  assert.equal(compareResourceVersion('100', '99'), 1);
  assert.equal(compareResourceVersion('0042', '42'), 0);
  assert.equal(compareResourceVersion('abc', '1'), -1);
});

test('tracker - checkpoint is the contiguous acked prefix, not the highest ack', () => {
  const t = new ResourceVersionTracker();
  const a = t.add('10');
  const b = t.add('11');
  const c = t.add('12');
  assert.equal(t.done(c), undefined); // 10 and 11 still pending
  assert.equal(t.done(b), undefined);
  assert.equal(t.checkpoint, undefined);
  assert.equal(t.done(a), '11'); // 12 is the newest: a later item at 12 could still come
  assert.equal(t.checkpoint, '11');
  assert.equal(t.complete('12'), '12'); // a bookmark proves 12 complete
});

test('tracker - a half-published batch of one RV is not a resume point', () => {
  const t = new ResourceVersionTracker('5');
  const d1 = t.add('20');
  const d2 = t.add('20'); // two DELETEDs of one lease revocation share RV 20
  t.done(d1);
  const n = t.add('21');
  t.done(n);
  assert.equal(t.checkpoint, '5'); // d2 pending: resuming from 20 would skip it
  assert.equal(t.done(d2), '20');
});

test('tracker - a LIST is complete only at its end, even when a pass restarts with a newer RV', () => {
  const t = new ResourceVersionTracker();
  t.beginList();
  const p1 = [t.add('100'), t.add('100')];
  const p2 = [t.add('130'), t.add('130')]; // restarted pass after an expired continue token
  for (const x of [...p1, ...p2]) t.done(x);
  assert.equal(t.checkpoint, undefined);
  assert.equal(t.complete('130'), '130');
});

test('tracker - the checkpoint never moves backwards and memory is released', () => {
  const t = new ResourceVersionTracker('50');
  for (let i = 0; i < 5000; i++) t.done(t.add(String(51 + i)));
  t.complete(String(50 + 5000));
  assert.equal(t.checkpoint, '5050');
  assert.equal(t.size, 0);
  t.done(t.add('10')); // an older RV folds into nothing and cannot lower the checkpoint
  t.complete('10');
  assert.equal(t.checkpoint, '5050');
});

test('clock - backoff is jittered and capped', () => {
  assert.equal(
    backoffDelay(0, { initialMs: 100, maxMs: 1000 }, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(0, { initialMs: 100, maxMs: 1000 }, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(20, { initialMs: 100, maxMs: 1000 }, () => 1),
    1000,
  );
});

test('leader - MicroTime has exactly six fractional digits', () => {
  assert.equal(microTime(Date.UTC(2026, 4, 1, 12, 0, 0, 123)), '2026-05-01T12:00:00.123000Z');
});
