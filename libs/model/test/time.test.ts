import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatMicroTime,
  formatTime,
  isMicroTime,
  isTime,
  ModelValidationError,
  timestampMicros,
} from '../src/index.ts';

describe('timestamps', () => {
  test('time - formatMicroTime always gives exactly 6 fraction digits in UTC', () => {
    assert.equal(formatMicroTime('2026-05-01T12:00:00.123456Z'), '2026-05-01T12:00:00.123456Z');
    assert.equal(formatMicroTime('2026-05-01T12:00:00Z'), '2026-05-01T12:00:00.000000Z');
    assert.equal(formatMicroTime('2026-05-01T12:00:00.1Z'), '2026-05-01T12:00:00.100000Z');
    assert.equal(formatMicroTime('2026-05-01T12:00:00.123456789Z'), '2026-05-01T12:00:00.123456Z');
    assert.equal(formatMicroTime('2026-05-01T00:30:00.5-01:00'), '2026-05-01T01:30:00.500000Z');
    assert.equal(formatMicroTime('2026-01-01T00:30:00.000001+05:45'), '2025-12-31T18:45:00.000001Z');
    assert.equal(formatMicroTime('2026-05-01t12:00:00z'), '2026-05-01T12:00:00.000000Z');
    assert.equal(formatMicroTime(new Date('2026-05-01T12:00:00.123Z')), '2026-05-01T12:00:00.123000Z');
    assert.ok(isMicroTime(formatMicroTime(new Date())));
  });

  test('time - formatTime gives second precision UTC (fractions truncated like metav1.Time)', () => {
    assert.equal(formatTime('2026-05-01T12:00:00Z'), '2026-05-01T12:00:00Z');
    assert.equal(formatTime('2026-05-01T12:00:00.999Z'), '2026-05-01T12:00:00Z');
    assert.equal(formatTime('2026-05-01T14:00:00+02:00'), '2026-05-01T12:00:00Z');
    assert.equal(formatTime(new Date('2026-05-01T12:00:00.999Z')), '2026-05-01T12:00:00Z');
    assert.ok(isTime(formatTime(new Date())));
    assert.equal(isTime('2026-05-01T12:00:00.000000Z'), false);
    assert.equal(isMicroTime('2026-05-01T12:00:00.000Z'), false);
  });

  test('time - canonical strings are returned as the same string', () => {
    const s = '2026-05-01T12:00:00.123456Z';
    assert.equal(formatMicroTime(s), s);
  });

  test('time - invalid input throws ModelValidationError with the given path', () => {
    for (const bad of ['', 'yesterday', '2026-13-01T00:00:00Z', '2026-05-01 12:00:00', '2026-05-01T25:00:00Z']) {
      assert.throws(
        () => formatMicroTime(bad, '/eventTime'),
        (e: unknown) => e instanceof ModelValidationError && e.path === '/eventTime' && e.retryable === false,
        bad,
      );
    }
    assert.throws(() => formatTime(new Date(Number.NaN)), ModelValidationError);
    assert.throws(() => formatTime(42 as unknown as string), ModelValidationError);
  });

  test('time - timestampMicros orders mixed precisions correctly', () => {
    assert.equal(timestampMicros('1970-01-01T00:00:01.000002Z'), 1_000_002);
    assert.ok(timestampMicros('2026-05-01T12:00:00Z') < timestampMicros('2026-05-01T12:00:00.000001Z'));
    assert.equal(timestampMicros('2026-05-01T14:00:00+02:00'), timestampMicros('2026-05-01T12:00:00.000000Z'));
    assert.ok(Number.isNaN(timestampMicros('nope')));
  });
});
