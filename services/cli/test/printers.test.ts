// Golden outputs of the history commands' printers (exact text, fixed clock), kubectl's age notation, time
// ordering, terminal-width truncation, and the -o json|yaml round trip. KEC_UPDATE_GOLDEN=1 rewrites the files
// under test/golden (review the diff).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse as yamlParse } from 'yaml';
import {
  humanDuration,
  lastSeenCell,
  printEventsTable,
  printIncidentDetail,
  printIncidentsTable,
  printStructured,
  printTimeline,
  printTop,
  sortEventsByTime,
  stripAnsi,
} from '../src/printers.ts';
import { EVENTS, INCIDENT, INCIDENT_DETAIL, NOW, TIMELINE, TOP } from './fixtures.ts';

const GOLDEN = new URL('./golden/', import.meta.url);

function golden(name: string, actual: string): void {
  const file = new URL(`${name}.txt`, GOLDEN);
  if (process.env['KEC_UPDATE_GOLDEN'] === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `golden ${name}.txt differs`);
}

const o = { now: NOW };

describe('printers', () => {
  test('printers - ages follow apimachinery HumanDuration exactly', () => {
    const s = 1000;
    const cases: Array<[number, string]> = [
      [-2 * s, '<invalid>'],
      [-1500, '0s'],
      [0, '0s'],
      [1999, '1s'],
      [119 * s, '119s'],
      [120 * s, '2m'],
      [125 * s, '2m5s'],
      [599 * s, '9m59s'],
      [600 * s, '10m'],
      [60 * 60 * s, '60m'],
      [179 * 60 * s, '179m'],
      [3 * 3600 * s, '3h'],
      [(3 * 3600 + 5 * 60) * s, '3h5m'],
      [8 * 3600 * s, '8h'],
      [47 * 3600 * s, '47h'],
      [48 * 3600 * s, '2d'],
      [50 * 3600 * s, '2d2h'],
      [8 * 86400 * s, '8d'],
      [729 * 86400 * s, '729d'],
      [730 * 86400 * s, '2y'],
      [731 * 86400 * s, '2y1d'],
      [8 * 365 * 86400 * s, '8y'],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
  });

  test('printers - LAST SEEN is kubectl events notation: "5m (x12 over 60m)", the first age for a single event', () => {
    const e = EVENTS[0];
    assert.ok(e);
    assert.equal(lastSeenCell(e, NOW), '5m (x12 over 60m)');
    assert.equal(lastSeenCell({ ...e, count: 1 }, NOW), '60m');
    assert.equal(lastSeenCell({ ...e, firstSeen: '' }, NOW), '5m (x12 over <unknown>)');
  });

  test('printers - events sort oldest first by last seen, then first seen, then uid', () => {
    assert.deepEqual(
      sortEventsByTime(EVENTS).map((e) => e.uid),
      ['e1', 'e2', 'e3'],
    );
    const tie = EVENTS.map((e) => ({ ...e, lastSeen: '2026-12-07T11:00:00.000000Z' }));
    assert.deepEqual(
      sortEventsByTime(tie).map((e) => e.uid),
      ['e3', 'e1', 'e2'],
    );
  });

  test('printers - get events table (default, -A, -o wide) golden', () => {
    golden('events', printEventsTable(EVENTS, o));
    golden('events-all-namespaces', printEventsTable(EVENTS, { ...o, allNamespaces: true }));
    golden('events-wide', printEventsTable(EVENTS, { ...o, wide: true }));
    golden('events-no-headers', printEventsTable(EVENTS, { ...o, noHeaders: true }));
  });

  test('printers - tables fit the terminal width, cut with an ellipsis; no colour unless asked', () => {
    for (const width of [60, 80, 120]) {
      const text = printEventsTable(EVENTS, { ...o, width });
      for (const line of text.trimEnd().split('\n')) assert.ok([...line].length <= width, `${width}: ${line}`);
      assert.match(text, /…/);
      assert.ok(!text.includes('\u001b['));
    }
    golden('events-80-columns', printEventsTable(EVENTS, { ...o, width: 80 }));
    const colored = printEventsTable(EVENTS, { ...o, width: 80, color: true });
    assert.ok(colored.includes('\u001b[31mWarning\u001b[0m'));
    for (const line of colored.trimEnd().split('\n')) assert.ok([...stripAnsi(line)].length <= 80, line);
    assert.equal(stripAnsi(colored), printEventsTable(EVENTS, { ...o, width: 80 }));
  });

  test('printers - a message is cut at its first line break with "..." and control characters are neutralised', () => {
    const text = printEventsTable([{ ...(EVENTS[0] as (typeof EVENTS)[0]), message: 'a\u001b[2Jb\nsecond line' }], o);
    assert.match(text, /a\^\[2Jb\.\.\.$/m);
  });

  test('printers - incidents, describe incident, timeline, top golden', () => {
    golden('incidents', printIncidentsTable([INCIDENT], { ...o, allNamespaces: true }));
    golden('describe-incident', printIncidentDetail(INCIDENT_DETAIL, o));
    golden('timeline', printTimeline(TIMELINE, { ...o, width: 100 }));
    golden('top-reasons', printTop(TOP, o));
  });

  test('printers - -o json, yaml and jsonl round-trip to the same items', () => {
    const doc = { kind: 'EventList', apiVersion: 'kec.io/v1', items: sortEventsByTime(EVENTS) };
    assert.deepEqual(JSON.parse(printStructured(doc, 'json')), doc);
    assert.deepEqual(yamlParse(printStructured(doc, 'yaml')), doc);
    const lines = printStructured(doc, 'jsonl').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      doc.items,
    );
    assert.deepEqual(yamlParse(printStructured(INCIDENT_DETAIL as never, 'yaml')), INCIDENT_DETAIL);
    assert.deepEqual(JSON.parse(printStructured(TIMELINE as never, 'json')), TIMELINE);
  });
});
