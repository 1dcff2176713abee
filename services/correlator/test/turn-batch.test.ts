// The correlator's Redis calls of one turn go out as one script call each (observe, rates, claims): events processed
// concurrently (as a batch is) get the same answers as one by one, and a turn's observations are one EVALSHA.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnrichedEvent } from '@kec/cache';
import type { CorrelatorState, Output } from '../src/index.ts';
import { correlatorFactory, ev } from './helpers.ts';

const correlator = correlatorFactory();

/** Counts the commands this client sends, by name (EVALSHA for a script; EVAL once when Redis lacks it). */
function countCommands(state: CorrelatorState): Map<string, number> {
  const counts = new Map<string, number>();
  const send = state.redis.sendCommand.bind(state.redis);
  state.redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    counts.set(cmd.name, (counts.get(cmd.name) ?? 0) + 1);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof state.redis.sendCommand;
  return counts;
}

/**
 * Three pods of one Deployment crash-looping (BackOff count bumps, each bump a new resourceVersion of the same uid),
 * their healthy follow-ups, a redelivery of an observation already seen, and a storm of one reason.
 */
function events(): EnrichedEvent[] {
  const out: EnrichedEvent[] = [];
  const web = { kind: 'Deployment', name: 'web' };
  for (const [p, pod] of ['web-6d8f9c7b5-a1b2c', 'web-6d8f9c7b5-d3e4f', 'web-6d8f9c7b5-g5h6i'].entries()) {
    const uid = `backoff-${p}`;
    for (let c = 1; c <= 4; c++) {
      out.push(
        ev({
          uid,
          rv: 2000 + p * 10 + c,
          count: c,
          reason: 'BackOff',
          name: pod,
          note: 'Back-off restarting failed container app in pod',
          first: '2026-11-22T06:00:00Z',
          at: `2026-11-22T06:0${c}:00Z`,
          workload: web,
        }),
      );
      out.push(
        ev({
          reason: 'Pulled',
          type: 'Normal',
          name: pod,
          note: 'Container image "registry.example/web:2" already present on machine',
          at: `2026-11-22T06:0${c}:05Z`,
          workload: web,
        }),
      );
    }
  }
  out.push(out[3] as EnrichedEvent); // a redelivery
  for (let i = 0; i < 8; i++) {
    out.push(
      ev({
        reason: 'FailedMount',
        name: `db-${i}`,
        note: 'MountVolume.SetUp failed for volume "data" : secret "db-tls" not found',
        at: '2026-11-22T06:05:00Z',
        workload: { kind: 'StatefulSet', name: 'db' },
      }),
    );
  }
  return out;
}

const view = (o: Output) => ({
  reason: o.event.reason,
  occurrences: o.event.occurrences,
  severity: o.event.classification.severity,
  replay: o.replay,
  patterns: o.patterns.map((p) => p.msgId),
});

test('turn batch - events processed concurrently get the answers they get one by one, in one script call per turn', async () => {
  const input = events();
  const one = correlator();
  const seq: Output[] = [];
  for (const e of input) seq.push(await one.process(e));

  const batch = correlator();
  const counts = countCommands(batch.o.state);
  const con = await Promise.all(input.map((e) => batch.process(e)));

  assert.deepEqual(con.map(view), seq.map(view));
  // The same grouping: incident ids differ per state prefix only through their candidate ids, which are equal here.
  assert.deepEqual(
    con.map((o) => o.event.incidentId),
    seq.map((o) => o.event.incidentId),
  );
  assert.ok(
    seq.some((o) => o.patterns.length > 0),
    'the storm and first-seen patterns are part of the comparison',
  );
  // One observe call for the whole turn (EVAL instead of EVALSHA the first time Redis lacks the script).
  const scriptCalls = (counts.get('evalsha') ?? 0) + (counts.get('eval') ?? 0);
  assert.ok(scriptCalls <= 8, `script calls for ${input.length} events: ${JSON.stringify([...counts])}`);
  assert.equal(counts.get('set') ?? 0, 0, 'claims go through the batched script, not SET NX per event');

  // Only the newest snapshot of each incident is returned in a turn; it equals the one-by-one run's final state.
  const lastSeq = new Map<string, NonNullable<Output['incident']>>();
  for (const o of seq) if (o.incident) lastSeq.set(o.incident.id, o.incident);
  const snapshots = con.filter((o) => o.incident).map((o) => o.incident as NonNullable<Output['incident']>);
  assert.equal(new Set(snapshots.map((i) => i.id)).size, snapshots.length, 'one snapshot per incident per turn');
  assert.deepEqual(
    new Map(snapshots.map((i) => [i.id, i])),
    lastSeq,
    'the turn returns each incident as the last event of the sequence left it',
  );
});

test('turn batch - a Redis failure rejects every call of the turn, and the next turn works', async () => {
  const c = correlator();
  const input = events().slice(0, 6);
  let fail = true;
  const send = c.o.state.redis.sendCommand.bind(c.o.state.redis);
  c.o.state.redis.sendCommand = ((cmd: { name: string; reject: (e: Error) => void }, ...rest: unknown[]) => {
    if (fail && (cmd.name === 'evalsha' || cmd.name === 'eval')) {
      cmd.reject(new Error('injected: Redis refused the script'));
      return undefined;
    }
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof c.o.state.redis.sendCommand;
  const results = await Promise.allSettled(input.map((e) => c.process(e)));
  assert.ok(
    results.every((r) => r.status === 'rejected'),
    'every event of the failed turn fails (the batch is redelivered)',
  );
  fail = false;
  const again = await Promise.all(input.map((e) => c.process(e)));
  assert.equal(again.length, input.length);
  assert.ok(
    again.every((o) => !o.replay),
    'nothing of the failed turn was applied',
  );
});
