// Unit tests of the contract and the pure row mapping.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeEvent } from '@kec/model';
import { IncidentPayloadValidator, KecEventsPayloadValidator, PatternPayloadValidator } from '../src/contract.ts';
import {
  eventBatchRows,
  eventRow,
  fnv1a64,
  incidentRow,
  observationVersion,
  occurrenceKey,
  occurrenceRow,
  occurrencesOf,
  patternRow,
  windowSeconds,
} from '../src/rows.ts';
import { batchToken } from '../src/writer.ts';
import { eventPayload } from './helpers.ts';

const coreEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: {
    name: 'web-1.17f',
    namespace: 'web',
    uid: 'e-1',
    resourceVersion: '42',
    creationTimestamp: '2026-11-22T06:00:00Z',
  },
  involvedObject: {
    kind: 'Pod',
    namespace: 'web',
    name: 'web-1',
    uid: 'p-1',
    apiVersion: 'v1',
    fieldPath: 'spec.containers{app}',
  },
  reason: 'BackOff',
  message: 'Back-off restarting failed container',
  source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2026-11-22T06:00:00Z',
  lastTimestamp: '2026-11-22T06:10:00Z',
  count: 7,
  type: 'Warning',
};

describe('contract and rows', () => {
  test('contract - a plain KecEvent from the watcher is accepted and stored with defaults', () => {
    const ev = normalizeEvent(coreEvent, {
      cluster: 'prod',
      watchType: 'MODIFIED',
      clock: () => new Date('2026-11-22T06:10:01Z'),
    });
    assert.ok(KecEventsPayloadValidator.Check(ev));
    const r = eventRow(ev);
    assert.equal(r.enrichment_status, 'none');
    assert.equal(r.severity, 'warning');
    assert.equal(r.category, 'other');
    assert.equal(r.incident_id, '');
    assert.equal(r.regarding_field_path, 'spec.containers{app}');
    assert.equal(r.count, 7);
    assert.equal(r.version, '42');
    // without the correlator's accounting a MODIFIED counts nothing and an ADDED its count
    assert.equal(occurrencesOf(ev), 0);
    assert.equal(occurrencesOf({ ...ev, watchType: 'ADDED' }), 7);
    assert.equal(occurrencesOf({ ...ev, watchType: 'DELETED', occurrences: 3 }), 0);
  });

  test('contract - the full kec.events/v1 payload maps every enrichment and classification field', () => {
    const p = eventPayload({
      uid: 'u',
      rv: 9,
      count: 3,
      at: '2026-11-22T06:00:00Z',
      occurrences: 2,
      severity: 'critical',
      workload: 'api',
    });
    assert.ok(KecEventsPayloadValidator.Check(p));
    const r = eventRow({ ...p, incidentId: 'inc-9' });
    assert.deepEqual(
      [
        r.workload_kind,
        r.workload_name,
        r.node_name,
        r.node_zone,
        r.severity,
        r.rule_id,
        r.fingerprint_id,
        r.incident_id,
      ],
      ['Deployment', 'api', 'node-1', 'z1', 'critical', 'backoff', 'fp1', 'inc-9'],
    );
    assert.deepEqual(r.object_labels, { app: 'api' });
    assert.deepEqual(r.namespace_labels, { team: 'a' });
    assert.deepEqual(r.fields, { container: 'app' });
    const o = occurrenceRow(p);
    assert.equal(o.occurrences, 2);
    assert.equal(o.time, '2026-11-22T06:00:00Z');
    // wrong shapes are rejected (dead-lettered by the writer)
    assert.equal(KecEventsPayloadValidator.Check({ ...p, occurrences: -1 }), false);
    assert.equal(KecEventsPayloadValidator.Check({ ...p, classification: { severity: 'fatal' } }), false);
    // tolerant of fields a newer producer adds
    assert.ok(KecEventsPayloadValidator.Check({ ...p, correlation: { something: 1 } }));
  });

  test('rows - versions and keys for numeric and opaque resourceVersions', () => {
    assert.equal(
      observationVersion({ resourceVersion: '18446744073709551615', lastTimestamp: '2026-01-01T00:00:00Z' }),
      '18446744073709551615',
    );
    assert.equal(
      observationVersion({ resourceVersion: 'abc', lastTimestamp: '2026-01-01T00:00:01.5Z' }),
      String(1767225601n * 1_000_000n + 500_000n),
    );
    assert.equal(occurrenceKey('0042'), '42');
    assert.equal(occurrenceKey('v-17'), fnv1a64('v-17'));
    assert.notEqual(fnv1a64('a'), fnv1a64('b'));
    assert.equal(fnv1a64(''), '14695981039346656037');
  });

  test('rows - a batch keeps the newest state per uid and every observation', () => {
    const b = [
      eventPayload({ uid: 'a', rv: 5, count: 2, at: '2026-11-22T06:00:00Z' }),
      eventPayload({ uid: 'a', rv: 9, count: 4, at: '2026-11-22T06:01:00Z' }),
      eventPayload({ uid: 'a', rv: 7, count: 3, at: '2026-11-22T06:00:30Z' }),
      eventPayload({ uid: 'b', rv: 1, count: 1, at: '2026-11-22T06:00:00Z' }),
    ];
    const { events, occurrences } = eventBatchRows(b);
    assert.deepEqual(events.map((e) => [e.uid, e.version]).sort(), [
      ['a', '9'],
      ['b', '1'],
    ]);
    assert.equal(occurrences.length, 4);
  });

  test('rows - incidents, patterns and windows', () => {
    const inc = {
      schema: 'kec.incident/v1' as const,
      id: 'i',
      cluster: 'c',
      namespace: '',
      title: 't',
      severity: 'error' as const,
      category: 'node',
      rootCause: { eventUid: 'e', reason: 'NodeNotReady', object: { kind: 'Node', name: 'n1' }, why: 'first' },
      affected: ['Pod/a/b'],
      firstSeen: '2026-11-22T06:00:00Z',
      lastSeen: '2026-11-22T06:05:00Z',
      eventCount: 1,
      occurrenceCount: 1,
      state: 'open' as const,
      version: 2,
    };
    assert.ok(IncidentPayloadValidator.Check(inc));
    assert.equal(incidentRow(inc).root_cause_object, 'Node/n1');
    const pat = {
      schema: 'kec.pattern/v1' as const,
      kind: 'first-seen' as const,
      cluster: 'c',
      namespace: 'a',
      workload: '',
      fingerprint: 'f',
      reason: 'R',
      window: 3600,
      rate: 1,
      baseline: 0,
      at: '2026-11-22T06:00:00Z',
    };
    assert.ok(PatternPayloadValidator.Check(pat));
    assert.equal(patternRow(pat).window_seconds, 3600);
    assert.equal(windowSeconds('90s'), 90);
    assert.equal(windowSeconds('2h'), 7200);
    assert.equal(PatternPayloadValidator.Check({ ...pat, window: '5 minutes' }), false);
  });

  test('token - depends on the set of messages, not their order', () => {
    assert.equal(batchToken('S', 'events', [3, 1, 2]), batchToken('S', 'events', [1, 2, 3]));
    assert.notEqual(batchToken('S', 'events', [1, 2]), batchToken('S', 'events', [1, 2, 3]));
    assert.notEqual(batchToken('S', 'events', [1]), batchToken('S', 'occurrences', [1]));
  });
});

describe('kec migrate', () => {
  test('migrate command - applies the schema with the configured retention, then is a no-op', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runMigrate } = await import('../src/migrate-command.ts');
    const dir = mkdtempSync(join(tmpdir(), 'kec-migrate-'));
    const lines: string[] = [];
    try {
      const env = { KEC_DATA_DIR: dir, KEC_WRITER_ROLLUP_DAYS: '500' };
      const first = await runMigrate({ env, out: (t) => lines.push(t) });
      assert.deepEqual(first.applied, [1]);
      const second = await runMigrate({ env, out: (t) => lines.push(t) });
      assert.deepEqual(second.applied, []);
      const third = await runMigrate({ env: { ...env, KEC_WRITER_ROLLUP_DAYS: '30' }, out: (t) => lines.push(t) });
      assert.deepEqual(third.ttlChanged, ['events_per_minute_state']);
      assert.match(lines[1] ?? '', /^schema kec at version 1 \(chdb\); applied: none; retention changed: none/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
