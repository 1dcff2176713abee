// The replay rule and the dedup id: how every stage tells a new observation of an Event from a replayed one.
import { timestampMicros } from './time.ts';

/** The parts of an observation the replay rule reads (a KecEvent has them all). */
export interface Observation {
  resourceVersion: string;
  count: number;
  lastTimestamp?: string | null | undefined;
}

const DIGITS = /^[0-9]+$/;

/** Compares two decimal strings of any length without converting them (no BigInt allocation). */
function compareDecimal(a: string, b: string): number {
  let i = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 48) i++;
  let j = 0;
  while (j < b.length - 1 && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (; i < a.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/**
 * The replay rule, as a comparator of two observations of the same Event (same cluster and uid):
 * negative when `a` is older than `b`, positive when newer, 0 when neither is newer (a replay).
 * 1. Both resourceVersions numeric (etcd's mod_revision, as every kube-apiserver sends): compare them as numbers.
 * 2. Otherwise compare count (occurrences so far), then lastTimestamp (missing or unparsable sorts first).
 */
export function compareObservations(a: Observation, b: Observation): number {
  if (DIGITS.test(a.resourceVersion) && DIGITS.test(b.resourceVersion)) {
    return compareDecimal(a.resourceVersion, b.resourceVersion);
  }
  if (a.count !== b.count) return sign(a.count - b.count);
  const ta = a.lastTimestamp == null ? Number.NaN : timestampMicros(a.lastTimestamp);
  const tb = b.lastTimestamp == null ? Number.NaN : timestampMicros(b.lastTimestamp);
  const na = Number.isNaN(ta);
  const nb = Number.isNaN(tb);
  if (na || nb) return na === nb ? 0 : na ? -1 : 1;
  return sign(ta - tb);
}

/** True when `next` should replace `prev` (no previous observation means it is new). */
export function isNewerObservation(prev: Observation | undefined, next: Observation): boolean {
  return prev === undefined || compareObservations(next, prev) > 0;
}

/**
 * The JetStream dedup id (Nats-Msg-Id) of an observation: `<cluster>/<uid>/<resourceVersion>`.
 * A replay of the same object version gets the same id, so JetStream drops it inside the duplicate window.
 */
export function eventMsgId(cluster: string, uid: string, resourceVersion: string): string {
  return `${cluster}/${uid}/${resourceVersion}`;
}
