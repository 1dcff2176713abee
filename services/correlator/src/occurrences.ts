// Occurrence counting: how many new occurrences one observation of an Event represents. The pure rule here and the
// Redis script in scripts.ts implement the same thing (tests run both on the same sequences).
import { compareObservations, type Observation } from '@kec/model';

export interface OccurrenceState {
  /** The newest observation seen (by the replay rule). */
  last: Observation;
  /** Answers already given per resourceVersion: the same (uid, rv) always gets the same answer. */
  answers: Map<string, number>;
}

export interface ObservationIn extends Observation {
  deleted: boolean;
}

/**
 * New occurrences of `next` given the state of its uid (mutated). 1st observation: its count (1 for a new event;
 * N when kec first sees an event that already counted N, e.g. after a restart or at install). Newer observation: the
 * increase of count (never negative). Older observation (reordering), DELETED, or anything not newer: 0. The same
 * resourceVersion again: the answer it got the first time (so a redelivered message is republished identically and
 * the output msg-id dedups it).
 */
export function countOccurrences(state: OccurrenceState | undefined, next: ObservationIn): [number, OccurrenceState] {
  if (state) {
    const seen = state.answers.get(next.resourceVersion);
    if (seen !== undefined) return [seen, state];
  }
  let delta = 0;
  let s = state;
  if (!s) {
    delta = next.deleted ? 0 : next.count;
    s = { last: { ...next }, answers: new Map() };
  } else if (compareObservations(next, s.last) > 0) {
    delta = next.deleted ? 0 : Math.max(0, next.count - s.last.count);
    s.last = { ...next, count: Math.max(next.count, s.last.count) };
  }
  s.answers.set(next.resourceVersion, delta);
  return [delta, s];
}

/** In-memory counter over many uids (tests, benchmarks, a single-process mode). */
export class MemoryOccurrences {
  private readonly states = new Map<string, OccurrenceState>();
  observe(uid: string, o: ObservationIn): number {
    const [d, s] = countOccurrences(this.states.get(uid), o);
    this.states.set(uid, s);
    return d;
  }
}
