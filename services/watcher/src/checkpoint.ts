// The resume point in NATS KV: key rv.<cluster> = { resourceVersion, time, identity }. Written only with an RV below
// which every observation has been acked by JetStream, and only forwards (compare-and-set on the entry revision), so
// a deposed leader finishing late can never move it back.
import type { KV } from '@kec/bus';
import { compareResourceVersion } from '@kec/k8s';
import type { Logger } from 'pino';

export interface Checkpoint {
  resourceVersion: string;
  /** Epoch ms when it was written. */
  time: number;
  identity: string;
}

export function checkpointKey(cluster: string): string {
  return `rv.${cluster}`;
}

export class CheckpointStore {
  readonly #kv: KV;
  readonly #key: string;
  readonly #identity: string;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #pending: string | undefined;
  #written: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** Epoch ms of the last successful write. */
  lastWriteAt = 0;

  constructor(kv: KV, cluster: string, identity: string, logger: Logger, intervalMs: number) {
    this.#kv = kv;
    this.#key = checkpointKey(cluster);
    this.#identity = identity;
    this.#log = logger;
    this.#intervalMs = intervalMs;
  }

  async read(): Promise<Checkpoint | undefined> {
    const e = await this.#kv.get(this.#key);
    if (e?.operation !== 'PUT' || e.length === 0) return undefined;
    try {
      const c = e.json<Checkpoint>();
      if (typeof c.resourceVersion !== 'string' || c.resourceVersion === '') return undefined;
      this.#written = c.resourceVersion;
      return c;
    } catch {
      this.#log.warn({ key: this.#key }, 'unreadable checkpoint; ignoring it');
      return undefined;
    }
  }

  /** The last RV this store wrote or read. */
  get written(): string | undefined {
    return this.#written;
  }

  /** Offers a new safe RV; it is written within intervalMs. */
  offer(rv: string): void {
    if (this.#pending !== undefined && compareResourceVersion(rv, this.#pending) <= 0) return;
    this.#pending = rv;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#writing.then(() => this.#write());
    }, this.#intervalMs);
  }

  /** Writes what is pending now. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#writing = this.#writing.then(() => this.#write());
    await this.#writing;
  }

  /** Drops what is pending (without writing). */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  async #write(): Promise<void> {
    const rv = this.#pending;
    if (rv === undefined) return;
    this.#pending = undefined;
    const value = JSON.stringify({ resourceVersion: rv, time: Date.now(), identity: this.#identity });
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const cur = await this.#kv.get(this.#key);
        if (cur && cur.operation === 'PUT' && cur.length > 0) {
          const old = cur.json<Checkpoint>().resourceVersion;
          if (typeof old === 'string' && compareResourceVersion(old, rv) >= 0) {
            this.#written = old;
            return; // someone (a later leader) is already further
          }
          await this.#kv.update(this.#key, value, cur.revision);
        } else if (cur) {
          await this.#kv.update(this.#key, value, cur.revision);
        } else {
          await this.#kv.create(this.#key, value);
        }
        this.#written = rv;
        this.lastWriteAt = Date.now();
        return;
      } catch (err) {
        this.#log.debug({ err: (err as Error).message, attempt }, 'checkpoint write raced or failed; retrying');
      }
    }
    // Not written: keep it pending for the next offer/flush (a newer offer replaces it).
    if (this.#pending === undefined) this.#pending = rv;
    this.#log.warn({ resourceVersion: rv }, 'checkpoint write failed; will retry');
  }
}
