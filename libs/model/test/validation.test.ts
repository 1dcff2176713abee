import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GAP_SCHEMA,
  type GapRecord,
  GapRecordValidator,
  gapMsgId,
  isCoreV1Event,
  isKecEvent,
  isStatus,
  isWatchErrorFrame,
  isWatchFrame,
  type KecEvent,
  ModelValidationError,
  normalizeCoreV1,
  normalizeEvent,
  normalizeEventsV1,
  parseKecEvent,
} from '../src/index.ts';
import { clock, fixture } from './fixtures.ts';

type Obj = Record<string, unknown>;
const env = { cluster: 'prod-eu1', watchType: 'ADDED' as const, clock };

function validEvent(): KecEvent {
  return normalizeEvent(fixture('events-v1-failedscheduling.json'), env);
}

function assertModelError(fn: () => unknown, path: string, reason?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelValidationError, `expected ModelValidationError, got ${String(e)}`);
    assert.equal(e.name, 'ModelValidationError');
    assert.equal(e.retryable, false);
    assert.equal(e.path, path, `path of: ${e.message}`);
    if (reason) assert.match(e.reason, reason);
    return true;
  });
}

describe('bad Kubernetes input', () => {
  test('validation - an Event without metadata.uid is rejected with its path', () => {
    const obj = fixture('core-v1-sandboxchanged.json') as Obj;
    delete (obj['metadata'] as Obj)['uid'];
    assertModelError(() => normalizeEvent(obj, env), '/metadata/uid', /required/);
    assertModelError(() => normalizeCoreV1(obj, env), '/metadata/uid', /required/);
  });

  test('validation - wrong types are rejected with the path of the bad field', () => {
    const a = fixture('core-v1-sandboxchanged.json') as Obj;
    a['count'] = '7';
    assertModelError(() => normalizeEvent(a, env), '/count');
    const b = fixture('events-v1-failedscheduling.json') as Obj;
    (b['regarding'] as Obj)['name'] = 42;
    assertModelError(() => normalizeEventsV1(b, env), '/regarding/name', /string/);
    const c = fixture('events-v1-failedscheduling.json') as Obj;
    (c['series'] as Obj)['lastObservedTime'] = 'yesterday';
    assertModelError(() => normalizeEvent(c, env), '/series/lastObservedTime');
    const d = fixture('core-v1-sandboxchanged.json') as Obj;
    (d['metadata'] as Obj)['labels'] = { app: 1 };
    assertModelError(() => normalizeEvent(d, env), '/metadata/labels/app');
    const e = fixture('core-v1-sandboxchanged.json') as Obj;
    e['firstTimestamp'] = new Date(Number.NaN);
    assertModelError(() => normalizeEvent(e, env), '/firstTimestamp');
  });

  test('validation - non-objects are rejected', () => {
    for (const v of [null, 42, 'event', [], [fixture('core-v1-sandboxchanged.json')]]) {
      assertModelError(() => normalizeEvent(v, env), '');
      assertModelError(() => normalizeCoreV1(v, env), '');
    }
  });

  test('validation - a BOOKMARK object is not an Event (no uid)', () => {
    const frame = fixture('bookmark.frame.json') as { object: Obj };
    assert.ok(isWatchFrame(frame));
    assert.equal(isCoreV1Event(frame.object), false);
    assertModelError(() => normalizeEvent(frame.object, env), '/metadata/name', /required/);
  });

  test('validation - a Status (ERROR 410 frame) is not an Event', () => {
    const frame = fixture('error-410.frame.json') as { object: Obj };
    assertModelError(() => normalizeEvent(frame.object, env), '/metadata/name');
    const withMeta = { ...frame.object, metadata: { name: 'x', uid: 'u', resourceVersion: '1' } };
    assertModelError(() => normalizeEvent(withMeta, env), '/kind', /not an Event/);
  });

  test('validation - unknown extra fields from newer servers are accepted', () => {
    const obj = fixture('core-v1-sandboxchanged.json') as Obj;
    obj['someFutureField'] = { a: 1 };
    (obj['metadata'] as Obj)['generation'] = 3;
    (obj['involvedObject'] as Obj)['extra'] = 'x';
    const ev = normalizeEvent(obj, env);
    assert.ok(isKecEvent(ev));
  });
});

describe('watch frames', () => {
  test('watch frames - MODIFIED, BOOKMARK and ERROR frames validate; ERROR carries a 410 Status', () => {
    assert.ok(isWatchFrame(fixture('core-v1-backoff-modified.frame.json')));
    const bookmark = fixture('bookmark.frame.json') as {
      type: string;
      object: { metadata: { resourceVersion: string } };
    };
    assert.ok(isWatchFrame(bookmark));
    assert.equal(bookmark.object.metadata.resourceVersion, '12746');
    const err = fixture('error-410.frame.json') as { object: Obj };
    assert.ok(isWatchFrame(err));
    assert.ok(isWatchErrorFrame(err));
    assert.ok(isStatus(err.object));
    assert.equal(err.object['code'], 410);
    assert.equal(isWatchErrorFrame(fixture('bookmark.frame.json')), false);
    assert.equal(isWatchFrame({ type: 'SYNC', object: {} }), false);
    assert.equal(isWatchFrame({ type: 'ADDED' }), false);
  });
});

describe('parseKecEvent', () => {
  test('parseKecEvent - accepts a KecEvent as value, JSON string and UTF-8 bytes', () => {
    const ev = validEvent();
    assert.deepEqual(parseKecEvent(ev), ev);
    assert.deepEqual(parseKecEvent(JSON.stringify(ev)), ev);
    assert.deepEqual(parseKecEvent(new TextEncoder().encode(JSON.stringify(ev))), ev);
    assert.ok(isKecEvent(ev));
  });

  test('parseKecEvent - a 3-digit MicroTime is rejected', () => {
    const ev = { ...validEvent(), eventTime: '2026-05-01T12:00:00.123Z' };
    assert.equal(isKecEvent(ev), false);
    assertModelError(() => parseKecEvent(ev), '/eventTime');
    const obs = { ...validEvent(), observedAt: '2026-05-01T12:00:00.123Z' };
    assertModelError(() => parseKecEvent(JSON.stringify(obs)), '/observedAt');
    const ser = { ...validEvent(), series: { count: 3, lastObservedTime: '2026-05-01T12:04:00Z' } };
    assertModelError(() => parseKecEvent(ser), '/series/lastObservedTime');
  });

  test('parseKecEvent - Time fields must be second precision UTC', () => {
    const ev = { ...validEvent(), creationTimestamp: '2026-05-01T14:00:00+02:00' };
    assertModelError(() => parseKecEvent(ev), '/creationTimestamp');
  });

  test('parseKecEvent - missing uid, wrong types, unknown fields and wrong schema id are rejected', () => {
    const { uid: _uid, ...noUid } = validEvent();
    assertModelError(() => parseKecEvent(noUid), '/uid', /required/);
    assertModelError(() => parseKecEvent({ ...validEvent(), count: '3' }), '/count');
    assertModelError(() => parseKecEvent({ ...validEvent(), count: 0 }), '/count');
    assertModelError(() => parseKecEvent({ ...validEvent(), labels: { a: 1 } }), '/labels/a');
    assertModelError(() => parseKecEvent({ ...validEvent(), extra: true }), '', /unknown property "extra"/);
    assertModelError(
      () => parseKecEvent({ ...validEvent(), regarding: { ...validEvent().regarding, extra: 'x' } }),
      '/regarding',
      /unknown property/,
    );
    assertModelError(() => parseKecEvent({ ...validEvent(), schema: 'kec.event/v2' }), '/schema');
    assertModelError(() => parseKecEvent({ ...validEvent(), watchType: 'BOOKMARK' }), '/watchType');
    assertModelError(() => parseKecEvent({ ...validEvent(), cluster: 'a.b' }), '/cluster');
  });

  test('parseKecEvent - non-object JSON, invalid JSON and invalid UTF-8 are rejected', () => {
    for (const text of ['42', '"x"', 'null', '[]', 'true']) assertModelError(() => parseKecEvent(text), '');
    assertModelError(() => parseKecEvent('{"schema":'), '', /not JSON/);
    assertModelError(() => parseKecEvent(new Uint8Array([0x7b, 0xff, 0x7d])), '', /UTF-8/);
    assertModelError(() => parseKecEvent(undefined), '');
  });

  test('parseKecEvent - the error message names the path and the error keeps the cause', () => {
    try {
      parseKecEvent({ ...validEvent(), count: 'x' });
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof ModelValidationError);
      assert.match(e.message, /at \/count$/);
    }
    try {
      parseKecEvent('{');
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof ModelValidationError);
      assert.ok(e.cause instanceof SyntaxError);
    }
  });
});

test('gap - kec.gap/v1 records validate, and the dedup id names cluster and window', () => {
  const g: GapRecord = {
    schema: GAP_SCHEMA,
    cluster: 'prod',
    fromResourceVersion: '10',
    toResourceVersion: '42',
    fromTime: '2026-01-01T00:00:00.000Z',
    toTime: '2026-01-01T00:05:00.000Z',
    reason: 'expired',
    detectedBy: 'watcher-0',
  };
  assert.equal(GAP_SCHEMA, 'kec.gap/v1');
  assert.ok(GapRecordValidator.Check(g));
  assert.ok(!GapRecordValidator.Check({ ...g, reason: 'other' }));
  assert.ok(!GapRecordValidator.Check({ ...g, extra: 1 }));
  assert.equal(gapMsgId(g), 'prod/gap/10-42');
});
