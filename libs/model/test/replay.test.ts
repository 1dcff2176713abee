import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareObservations, eventMsgId, isNewerObservation, normalizeEvent } from '../src/index.ts';
import { clock, fixture } from './fixtures.ts';

type Obj = Record<string, unknown>;

describe('replay rule', () => {
  test('replay - a higher numeric resourceVersion is newer, the same one is a replay', () => {
    assert.equal(isNewerObservation(undefined, { resourceVersion: '1', count: 1 }), true);
    assert.equal(
      isNewerObservation({ resourceVersion: '48190', count: 7 }, { resourceVersion: '48213', count: 7 }),
      true,
    );
    assert.equal(
      isNewerObservation({ resourceVersion: '48213', count: 7 }, { resourceVersion: '48213', count: 7 }),
      false,
    );
    assert.equal(
      isNewerObservation({ resourceVersion: '48213', count: 8 }, { resourceVersion: '48190', count: 9 }),
      false,
    );
  });

  test('replay - resourceVersions compare as numbers, not strings, at any length', () => {
    assert.ok(compareObservations({ resourceVersion: '9', count: 1 }, { resourceVersion: '10', count: 1 }) < 0);
    assert.ok(compareObservations({ resourceVersion: '100', count: 1 }, { resourceVersion: '99', count: 1 }) > 0);
    assert.equal(compareObservations({ resourceVersion: '007', count: 1 }, { resourceVersion: '7', count: 5 }), 0);
    const big = '18446744073709551615'; // max uint64, beyond Number precision
    assert.ok(
      compareObservations({ resourceVersion: big, count: 1 }, { resourceVersion: '18446744073709551614', count: 1 }) >
        0,
    );
  });

  test('replay - non-numeric resourceVersions fall back to count, then lastTimestamp', () => {
    const a = { resourceVersion: 'abc', count: 2, lastTimestamp: '2026-05-01T12:00:00Z' };
    assert.ok(compareObservations(a, { ...a, count: 3 }) < 0);
    assert.ok(compareObservations({ ...a, lastTimestamp: '2026-05-01T12:00:00.000001Z' }, a) > 0);
    assert.equal(compareObservations(a, { ...a, resourceVersion: 'xyz' }), 0);
    assert.ok(compareObservations(a, { ...a, resourceVersion: '5', lastTimestamp: null }) > 0);
    assert.equal(isNewerObservation(a, { resourceVersion: '12', count: 2 }), false);
  });

  test('replay - BackOff bumped in place: ADDED count 1, MODIFIED count 2, then a replay of the first', () => {
    const base = (fixture('core-v1-backoff-modified.frame.json') as { object: Obj }).object;
    const at = (rv: string, count: number, last: string, watchType: 'ADDED' | 'MODIFIED' | 'LISTED') =>
      normalizeEvent(
        { ...base, metadata: { ...(base['metadata'] as Obj), resourceVersion: rv }, count, lastTimestamp: last },
        { cluster: 'prod', watchType, clock },
      );
    const first = at('48150', 1, '2026-05-01T12:00:00Z', 'ADDED');
    const second = at('48213', 2, '2026-05-01T12:05:10Z', 'MODIFIED');
    const replay = at('48150', 1, '2026-05-01T12:00:00Z', 'LISTED');
    assert.equal(isNewerObservation(undefined, first), true);
    assert.equal(isNewerObservation(first, second), true);
    assert.equal(isNewerObservation(second, replay), false);
    assert.equal(isNewerObservation(second, second), false);
    const sorted = [second, replay, first].sort(compareObservations).map((e) => e.resourceVersion);
    assert.deepEqual(sorted, ['48150', '48150', '48213']);
  });

  test('replay - a TTL DELETED frame (higher RV, same content) counts as newer', () => {
    const obj = fixture('core-v1-sandboxchanged.json') as Obj;
    const live = normalizeEvent(obj, { cluster: 'c', watchType: 'ADDED', clock });
    const deleted = normalizeEvent(
      { ...obj, metadata: { ...(obj['metadata'] as Obj), resourceVersion: '9999' } },
      { cluster: 'c', watchType: 'DELETED', clock },
    );
    assert.equal(isNewerObservation(live, deleted), true);
  });
});

describe('dedup id', () => {
  test('dedup id - is <cluster>/<uid>/<resourceVersion>, same for a replay, different per version', () => {
    assert.equal(eventMsgId('prod', 'u-1', '48213'), 'prod/u-1/48213');
    const obj = fixture('core-v1-sandboxchanged.json') as Obj;
    const a = normalizeEvent(obj, { cluster: 'prod', watchType: 'ADDED', clock });
    const b = normalizeEvent(obj, { cluster: 'prod', watchType: 'LISTED', clock: () => new Date() });
    assert.equal(eventMsgId(a.cluster, a.uid, a.resourceVersion), eventMsgId(b.cluster, b.uid, b.resourceVersion));
    assert.equal(eventMsgId(a.cluster, a.uid, a.resourceVersion), 'prod/332f8e32-f917-4949-9c18-55823f18d569/1873');
  });
});
