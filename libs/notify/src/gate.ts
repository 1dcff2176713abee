// The per-receiver gate every request passes: at most `concurrency` requests in flight, at most `messages` request
// starts in any sliding window of `perMs`, and nothing while the receiver is paused (Retry-After, backoff after
// failures). Waiters queue in FIFO order (a retry can go to the front): a busy or slow receiver makes its own
// notifications wait, never drops them, and never holds up another receiver (each has its own gate).

interface Waiter {
  resolve(release: () => void): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface GateOptions {
  concurrency: number;
  rateLimit?: { messages: number; perMs: number } | undefined;
  now?: () => number;
}

export class ReceiverGate {
  readonly #concurrency: number;
  readonly #rate: { messages: number; perMs: number } | undefined;
  readonly #now: () => number;
  readonly #queue: Waiter[] = [];
  /** Start times of the last `rate.messages` requests, oldest first. */
  readonly #starts: number[] = [];
  #inFlight = 0;
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #waits = 0;

  constructor(opts: GateOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer: ${opts.concurrency}`);
    }
    this.#concurrency = opts.concurrency;
    this.#rate = opts.rateLimit;
    this.#now = opts.now ?? Date.now;
  }

  /** Requests waiting for the gate. */
  get queued(): number {
    return this.#queue.length;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  /** How many acquisitions had to wait for the rate limit or a pause (not for concurrency). */
  get delayed(): number {
    return this.#waits;
  }
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /** No request starts before `untilMs` (extends, never shortens, a pause). */
  pauseUntil(untilMs: number): void {
    if (untilMs <= this.#pausedUntil) return;
    this.#pausedUntil = untilMs;
    this.#pump();
  }

  /** Lifts a pause early (after a success). */
  resume(): void {
    if (this.#pausedUntil === 0) return;
    this.#pausedUntil = 0;
    this.#pump();
  }

  /**
   * Waits for a slot; resolves with the function that frees it. `front` queues ahead of the others (a retry of a
   * notification that already waited its turn). Rejects with the signal's reason when `signal` aborts first.
   */
  acquire(opts: { signal?: AbortSignal; front?: boolean } = {}): Promise<() => void> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.#queue.indexOf(w);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
          this.#pump();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      if (opts.front) this.#queue.unshift(w);
      else this.#queue.push(w);
      this.#pump();
    });
  }

  /** Earliest time the next request may start, ignoring concurrency (now when nothing holds it back). */
  #nextStart(now: number): number {
    let t = Math.max(now, this.#pausedUntil);
    const rate = this.#rate;
    if (rate && this.#starts.length >= rate.messages) t = Math.max(t, (this.#starts[0] as number) + rate.perMs);
    return t;
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#concurrency) {
      const now = this.#now();
      const at = this.#nextStart(now);
      if (at > now) {
        this.#arm(at - now, at);
        return;
      }
      const w = this.#queue.shift() as Waiter;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.#inFlight++;
      const rate = this.#rate;
      if (rate) {
        this.#starts.push(now);
        while (this.#starts.length > rate.messages) this.#starts.shift();
      }
      let released = false;
      w.resolve(() => {
        if (released) return;
        released = true;
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  #arm(delayMs: number, at: number): void {
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#waits++;
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, delayMs);
  }

  /** Rejects every waiter with `reason` and stops the timer. */
  close(reason: unknown): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#queue.splice(0)) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(reason);
    }
  }
}
