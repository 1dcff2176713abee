// The scenario player: a discrete-event scheduler over a virtual clock. Scenarios are async functions that only ever
// await ctx.sleep(); recorders never block them (writes go to the WriteQueue). The player wakes one sleeper at a time in
// (time, sequence) order and waits until every coroutine is asleep again, so a seed replays identically whatever the
// server's latency. Virtual time maps onto wall time by `speed` (1 = real time; Infinity = as fast as writes drain).
import type { VirtualClock } from './clock.ts';
import type { WriteQueue } from './write-queue.ts';

interface Sleeper {
  t: number;
  seq: number;
  wake: () => void;
}

export class Player {
  readonly clock: VirtualClock;
  readonly speed: number;
  readonly endMs: number;
  readonly errors: unknown[] = [];
  #heap: Sleeper[] = [];
  #seq = 0;
  #running = 0;
  #settled: (() => void) | undefined;
  #stopped = false;

  constructor(clock: VirtualClock, opts: { speed: number; endMs: number }) {
    this.clock = clock;
    this.speed = opts.speed;
    this.endMs = opts.endMs;
  }

  /** True while the run has virtual time left and has not been stopped. */
  get alive(): boolean {
    return !this.#stopped && this.clock.now() < this.endMs;
  }

  /** Starts a coroutine now (it runs until its first sleep before the player moves on). */
  spawn(fn: () => Promise<void>): void {
    this.#running++;
    fn()
      .catch((err: unknown) => {
        if (this.errors.length < 50) this.errors.push(err);
      })
      .finally(() => this.#done());
  }

  /** Starts a coroutine at a later virtual time. */
  spawnAt(delayMs: number, fn: () => Promise<void>): void {
    this.spawn(async () => {
      await this.sleep(delayMs);
      await fn();
    });
  }

  sleep(ms: number): Promise<void> {
    return new Promise<void>((wake) => {
      this.#push({ t: this.clock.now() + Math.max(0, ms), seq: this.#seq++, wake });
      this.#done();
    });
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Plays until the heap is empty, virtual time passes endMs, or the signal aborts. */
  async run(queue: WriteQueue, signal?: AbortSignal): Promise<void> {
    const wallStart = performance.now();
    const virtStart = this.clock.now();
    await this.#settle();
    while (this.#heap.length > 0 && !this.#stopped && !signal?.aborted) {
      const next = this.#heap[0] as Sleeper;
      if (next.t >= this.endMs) break;
      if (Number.isFinite(this.speed)) {
        const dueWall = wallStart + (next.t - virtStart) / this.speed;
        const wait = dueWall - performance.now();
        if (wait > 1) await abortableDelay(wait, signal);
        if (signal?.aborted) break;
      }
      await queue.room();
      this.#pop();
      this.clock.set(next.t);
      this.#running++;
      next.wake();
      await this.#settle();
    }
    if (!signal?.aborted && !this.#stopped && Number.isFinite(this.endMs) && this.clock.now() < this.endMs) {
      this.clock.set(this.endMs);
    }
  }

  #done(): void {
    this.#running--;
    if (this.#running === 0 && this.#settled) {
      const s = this.#settled;
      this.#settled = undefined;
      s();
    }
  }

  #settle(): Promise<void> {
    if (this.#running <= 0) return Promise.resolve();
    return new Promise((r) => {
      this.#settled = r;
    });
  }

  #push(s: Sleeper): void {
    const h = this.#heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[i] as Sleeper, h[p] as Sleeper)) {
        [h[i], h[p]] = [h[p] as Sleeper, h[i] as Sleeper];
        i = p;
      } else break;
    }
  }

  #pop(): Sleeper | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l] as Sleeper, h[m] as Sleeper)) m = l;
        if (r < h.length && less(h[r] as Sleeper, h[m] as Sleeper)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Sleeper, h[i] as Sleeper];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Sleeper, b: Sleeper): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
