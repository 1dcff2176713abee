// C6: objects from a client-node LIST go through ObjectSerializer (class instances, `date-time` fields as Date,
// MicroTime left as strings, unknown fields dropped); watch objects are plain JSON. Both must normalize the same.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { isKecEvent, normalizeEvent, toCoreV1, toEventsV1 } from '../src/index.ts';
import { clock, fixture } from './fixtures.ts';

type Obj = Record<string, unknown>;

const cases: Array<[file: string, type: string, frame: boolean]> = [
  ['core-v1-backoff-modified.frame.json', 'CoreV1Event', true],
  ['core-v1-failedscheduling.json', 'CoreV1Event', false],
  ['core-v1-sandboxchanged.json', 'CoreV1Event', false],
  ['events-v1-failedscheduling.json', 'EventsV1Event', false],
  ['events-v1-preempted.json', 'EventsV1Event', false],
];

for (const [file, type, frame] of cases) {
  test(`client-node - ${type} from ObjectSerializer (${file}) normalizes like the raw JSON`, () => {
    const raw = (frame ? (fixture(file) as { object: Obj }).object : fixture(file)) as Obj;
    const deserialized = ObjectSerializer.deserialize(structuredClone(raw), type, '') as Obj;
    assert.ok((deserialized['metadata'] as Obj)['creationTimestamp'] instanceof Date, 'client-node made a Date');
    const env = { cluster: 'prod', watchType: 'LISTED' as const, clock };
    const fromClientNode = normalizeEvent(deserialized, env);
    assert.ok(isKecEvent(fromClientNode));
    assert.deepEqual(fromClientNode, normalizeEvent(raw, env));
    const render = type === 'CoreV1Event' ? toCoreV1 : toEventsV1;
    assert.deepEqual(render(fromClientNode), raw);
  });
}
