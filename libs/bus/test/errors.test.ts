import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError, TimeoutError } from '@nats-io/transport-node';
import {
  BusError,
  backoffDelay,
  isRetryableError,
  PoisonMessageError,
  PublishError,
  toPublishError,
} from '../src/index.ts';

test('errors - bus errors carry name, cause and retryable', () => {
  const cause = new Error('root');
  const e = new PublishError('x', { subject: 's', cause, retryable: true });
  assert.equal(e.name, 'PublishError');
  assert.equal(e.cause, cause);
  assert.ok(e instanceof BusError);
  assert.equal(new PoisonMessageError('bad').retryable, false);
});

test('errors - isRetryableError trusts the retryable flag, rejects syntax errors, retries the rest', () => {
  assert.equal(isRetryableError(new PoisonMessageError('bad')), false);
  assert.equal(isRetryableError({ retryable: false }), false);
  assert.equal(isRetryableError(Object.assign(new Error('validation'), { retryable: false })), false);
  assert.equal(isRetryableError(new SyntaxError('Unexpected token')), false);
  assert.equal(isRetryableError(new Error('ECONNRESET')), true);
  assert.equal(isRetryableError('string thrown'), true);
});

test('errors - toPublishError classifies client errors', () => {
  assert.equal(toPublishError('s', new TimeoutError()).retryable, true);
  assert.equal(toPublishError('s', new Error('unknown')).retryable, true);
  assert.equal(toPublishError('s', new InvalidArgumentError('max_payload')).retryable, false);
  const pe = new PublishError('p', { subject: 's', retryable: true });
  assert.equal(toPublishError('s', pe), pe);
});

test('errors - nak backoff doubles per delivery and is capped', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((d) => backoffDelay(d, 1000, 10_000)),
    [1000, 2000, 4000, 8000, 10_000, 10_000],
  );
  assert.equal(backoffDelay(0, 500, 10_000), 500);
  assert.equal(backoffDelay(1000, 500, 60_000), 60_000);
});
