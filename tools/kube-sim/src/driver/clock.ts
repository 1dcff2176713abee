// Time for the driver. Scenarios read a virtual clock; the player maps virtual time onto wall time (speed 1 = real
// time, Infinity = as fast as the server accepts writes). Recorders take the clock so tests can compress hours.

export interface Clock {
  /** Milliseconds since the epoch (may carry a fractional part for sub-millisecond precision). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock the scenario player advances. */
export class VirtualClock implements Clock {
  #t: number;
  constructor(startMs: number) {
    this.#t = startMs;
  }
  now(): number {
    return this.#t;
  }
  set(ms: number): void {
    if (ms > this.#t) this.#t = ms;
  }
  advance(ms: number): void {
    this.#t += ms;
  }
}

/** metav1.Time: RFC 3339, UTC, whole seconds. */
export function k8sTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.floor((ms - Math.floor(ms / 1000) * 1000) * 1000);
  const base = new Date(whole).toISOString().slice(0, 19);
  return `${base}.${String(micros).padStart(6, '0')}Z`;
}

/**
 * Event names are `<name>.<hex(UnixNano)>` (client-go GenerateEventName): the creation's nanoseconds, so names created
 * one after the other are in creation order. The virtual clock has millisecond steps and many events share a step, so
 * the sub-millisecond part is the rank of the name within its millisecond (microseconds), plus nanoseconds from a hash
 * of the object name; a per-object sequence keeps names unique per object. Deterministic and realistic-looking.
 */
export class EventNamer {
  #last = new Map<string, bigint>();
  #ms = -1;
  #rank = 0;
  name(objectName: string, ms: number): string {
    const m = Math.floor(ms);
    if (m === this.#ms) this.#rank++;
    else {
      this.#ms = m;
      this.#rank = 0;
    }
    let nanos = BigInt(m) * 1_000_000n + BigInt(Math.min(999, this.#rank) * 1000 + (fnv(objectName) % 1000));
    const last = this.#last.get(objectName);
    if (last !== undefined && nanos <= last) nanos = last + BigInt(1 + (fnv(`${objectName}${last}`) % 997));
    if (this.#last.size > 200_000) this.#last.clear();
    this.#last.set(objectName, nanos);
    const name = `${objectName}.${nanos.toString(16)}`;
    return isDns1123Subdomain(name) ? name : crypto.randomUUID();
  }
}

function fnv(s: string): number {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** Parses `30s`, `10m`, `2h`, `1500ms`, `0` into milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new RangeError(`invalid duration "${s}" (use e.g. 30s, 10m, 2h, 0)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const f = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
  return n * f;
}
