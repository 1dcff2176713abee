// Bounded-concurrency write queue with per-key ordering. A recorder writes one event object serially (create, then
// PATCHes in count order), like client-go's broadcaster goroutine, while different event objects go out in parallel
// over the keep-alive agent. Producers never await a write; the player awaits room() between steps (backpressure).

export type Job = () => Promise<void>;
/** A dependency to wait for before the job may start (e.g. the creation of the object an event is about). */
export type WaitFor = () => Promise<unknown> | undefined;

interface Entry {
  job: Job;
  waitFor: WaitFor | undefined;
}

interface KeyChain {
  jobs: Entry[];
  /** A job of this key is running, or the head job waits for its dependency (without holding a slot). */
  running: boolean;
}

export class WriteQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  #chains = new Map<string, KeyChain>();
  #ready: string[] = [];
  #readyHead = 0;
  #running = 0;
  #queued = 0;
  #roomWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  /** Errors thrown by jobs (jobs are expected to handle HTTP statuses themselves). */
  errors: unknown[] = [];

  constructor(opts: { concurrency?: number; maxQueued?: number } = {}) {
    this.concurrency = opts.concurrency ?? 64;
    this.maxQueued = opts.maxQueued ?? 20_000;
  }

  get queued(): number {
    return this.#queued;
  }

  submit(key: string, job: Job, waitFor?: WaitFor): void {
    this.#queued++;
    let chain = this.#chains.get(key);
    if (!chain) {
      chain = { jobs: [], running: false };
      this.#chains.set(key, chain);
    }
    chain.jobs.push({ job, waitFor });
    if (!chain.running && chain.jobs.length === 1) this.#ready.push(key);
    this.#pump();
  }

  /** Resolves when fewer than maxQueued jobs wait. */
  room(): Promise<void> {
    if (this.#queued < this.maxQueued) return Promise.resolve();
    return new Promise((r) => this.#roomWaiters.push(r));
  }

  /** Resolves when every submitted job has finished. */
  drain(): Promise<void> {
    if (this.#queued === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#readyHead < this.#ready.length) {
      const key = this.#ready[this.#readyHead++] as string;
      if (this.#readyHead > 4096 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#readyHead);
        this.#readyHead = 0;
      }
      const chain = this.#chains.get(key);
      const head = chain?.jobs[0];
      if (!chain || !head) continue;
      const dep = head.waitFor?.();
      head.waitFor = undefined;
      if (dep) {
        // Park the key until the dependency settles; the slot stays free for the job it waits for.
        chain.running = true;
        const resume = () => {
          chain.running = false;
          this.#ready.push(key);
          this.#pump();
        };
        dep.then(resume, resume);
        continue;
      }
      chain.jobs.shift();
      const job = head.job;
      chain.running = true;
      this.#running++;
      job()
        .catch((err: unknown) => {
          if (this.errors.length < 100) this.errors.push(err);
        })
        .finally(() => {
          this.#running--;
          this.#queued--;
          chain.running = false;
          if (chain.jobs.length > 0) this.#ready.push(key);
          else this.#chains.delete(key);
          if (this.#queued < this.maxQueued && this.#roomWaiters.length > 0) {
            const ws = this.#roomWaiters;
            this.#roomWaiters = [];
            for (const w of ws) w();
          }
          if (this.#queued === 0 && this.#idleWaiters.length > 0) {
            const ws = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const w of ws) w();
          }
          this.#pump();
        });
    }
  }
}
