// Occurrence counting under replays and reordering: the pure rule, and the Redis script with concurrent callers.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { countOccurrences, MemoryOccurrences, type ObservationIn, type OccurrenceState } from '../src/index.ts';
import { newState, rng, shuffle } from './helpers.ts';

const obs = (rv: number, count: number, deleted = false): ObservationIn => ({
  resourceVersion: String(rv),
  count,
  lastTimestamp: null,
  deleted,
});

function run(seq: ObservationIn[]): number[] {
  let s: OccurrenceState | undefined;
  return seq.map((o) => {
    const [d, n] = countOccurrences(s, o);
    s = n;
    return d;
  });
}

test('occurrences - new event 1, count bumps, replay 0, DELETED 0', () => {
  assert.deepEqual(run([obs(10, 1), obs(11, 2), obs(11, 2), obs(15, 5), obs(16, 5, true)]), [1, 1, 1, 3, 0]);
});

test('occurrences - the same (uid, rv) always gets the same answer; an older observation gets 0', () => {
  // 11 arrives first (2 occurrences so far), then the older 10: 0; 10 again: 0; 11 again: 2 (its first answer)
  assert.deepEqual(run([obs(11, 2), obs(10, 1), obs(10, 1), obs(11, 2), obs(12, 3)]), [2, 0, 0, 2, 1]);
});

test('occurrences - first observation of an old event counts its history; non-numeric RVs use count', () => {
  assert.deepEqual(run([obs(500, 20_000), obs(501, 20_001)]), [20_000, 1]);
  const nn = (rv: string, c: number): ObservationIn => ({
    resourceVersion: rv,
    count: c,
    lastTimestamp: null,
    deleted: false,
  });
  assert.deepEqual(run([nn('b', 3), nn('a', 2), nn('c', 4)]), [3, 0, 1]);
});

test('occurrences - any order of distinct observations sums to the last count (pure)', () => {
  const r = rng(7);
  const seq = Array.from({ length: 30 }, (_, i) => obs(100 + i, i + 1));
  for (let k = 0; k < 50; k++) {
    const withReplays = shuffle([...seq, ...seq.filter(() => r() < 0.3)], r);
    const m = new MemoryOccurrences();
    let distinct = 0;
    const first = new Map<string, number>();
    for (const o of withReplays) {
      const d = m.observe('u', o);
      if (!first.has(o.resourceVersion)) {
        first.set(o.resourceVersion, d);
        distinct += d;
      } else assert.equal(d, first.get(o.resourceVersion));
    }
    assert.equal(distinct, 30);
  }
});

const state = newState();
after(async () => {
  await state.purge();
  await state.close();
});

async function redisObserve(uid: string, o: ObservationIn): Promise<number> {
  const r = await state.observe({
    uid,
    resourceVersion: o.resourceVersion,
    count: o.count,
    lastMicros: undefined,
    deleted: o.deleted,
    mode: 'none',
    eventMs: 0,
    firstMs: 0,
    keys: [],
    candidateId: 'x',
    rank: 0,
    reason: 'R',
    object: 'Pod/ns/p',
    why: '',
    severity: 0,
    category: 'other',
    namespace: 'ns',
    cluster: 'c',
    eventUid: uid,
    firstMicros: 0,
    order: '',
  });
  return r.occurrences;
}

test('occurrences - the Redis script gives the pure rule answers on the same sequences', async () => {
  const r = rng(11);
  for (let k = 0; k < 20; k++) {
    const base = Array.from({ length: 12 }, (_, i) => obs(1000 + i * 3, 1 + i * 2, i === 11));
    const seq = shuffle([...base, ...base.filter(() => r() < 0.4)], r);
    const uid = `pure-${k}`;
    const got: number[] = [];
    for (const o of seq) got.push(await redisObserve(uid, o));
    assert.deepEqual(got, run(seq), `sequence ${k}`);
  }
});

test('occurrences - three concurrent replicas with redelivery and reordering count each occurrence once', async () => {
  const replicas = [newState(), newState(), newState()].map((s) => s);
  // share one prefix: three connections to the same state
  const shared = replicas.map((s) => Object.assign(s, { prefix: state.prefix }));
  try {
    const r = rng(3);
    const uids = Array.from({ length: 40 }, (_, i) => `conc-${i}`);
    const all: { uid: string; o: ObservationIn }[] = [];
    const lastCount = new Map<string, number>();
    for (const uid of uids) {
      const n = 2 + Math.floor(r() * 10);
      for (let i = 0; i < n; i++) all.push({ uid, o: obs(5000 + i, i + 1 + Math.floor(i / 3)) });
      lastCount.set(uid, n + Math.floor((n - 1) / 3));
    }
    // every observation is delivered 1-3 times, to random replicas, in random order
    const deliveries = shuffle(
      all.flatMap((x) => Array.from({ length: 1 + Math.floor(r() * 3) }, () => x)),
      r,
    );
    const answers = new Map<string, number>();
    await Promise.all(
      deliveries.map(async ({ uid, o }) => {
        const s = shared[Math.floor(r() * 3)] as typeof state;
        const d = await s.observe({
          uid,
          resourceVersion: o.resourceVersion,
          count: o.count,
          lastMicros: undefined,
          deleted: false,
          mode: 'none',
          eventMs: 0,
          firstMs: 0,
          keys: [],
          candidateId: 'x',
          rank: 0,
          reason: 'R',
          object: 'Pod/ns/p',
          why: '',
          severity: 0,
          category: 'other',
          namespace: 'ns',
          cluster: 'c',
          eventUid: uid,
          firstMicros: 0,
          order: '',
        });
        const k = `${uid}/${o.resourceVersion}`;
        const prev = answers.get(k);
        if (prev !== undefined) assert.equal(d.occurrences, prev, `same answer for ${k}`);
        answers.set(k, d.occurrences);
      }),
    );
    for (const uid of uids) {
      let sum = 0;
      for (const [k, v] of answers) if (k.startsWith(`${uid}/`)) sum += v;
      assert.equal(sum, lastCount.get(uid), uid);
    }
  } finally {
    for (const s of shared) await s.close();
  }
});
