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
 * Event names are `<name>.<hex(UnixNano)>` (client-go GenerateEventName). Two events about the same object in the same
 * nanosecond would collide; real clocks rarely do that, the virtual one does, so the nanos are bumped to stay unique.
 */
export class EventNamer {
  #last = 0n;
  name(objectName: string, ms: number): string {
    let nanos = BigInt(Math.floor(ms * 1e6));
    if (nanos <= this.#last) nanos = this.#last + 1n;
    this.#last = nanos;
    const name = `${objectName}.${nanos.toString(16)}`;
    return isDns1123Subdomain(name) ? name : crypto.randomUUID();
  }
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
