// Alert state in one NATS KV bucket, shared by every replica: `a.<id>` alerts, `g.<id>` groups (last notification
// per receiver and group), `s.<id>` silences. Each replica keeps a local view fed by a KV watch; every change is a
// compare-and-set on the key's revision (`previousSeq`), so two replicas never both win a transition.
import { type Bus, openKv } from '@kec/bus';
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { StateConflictError } from './errors.ts';
import type { AlertState, GroupState, Silence } from './schema.ts';

export type Kind = 'a' | 'g' | 's';
type Value<K extends Kind> = K extends 'a' ? AlertState : K extends 'g' ? GroupState : Silence;

interface Entry<T> {
  value: T | undefined; // undefined: deleted (rev is the delete marker's)
  rev: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function isConflict(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  const code = e?.api_error?.err_code ?? e?.code;
  return code === 10071 || code === 10164 || /wrong last sequence/i.test(String(e?.message ?? ''));
}

export interface StoreOptions {
  bucket: string;
  replicas?: number;
  maxBytes?: number;
  logger: Logger;
}

export class AlertStore {
  readonly kv: KV;
  readonly bucket: string;
  readonly #views: Record<Kind, Map<string, Entry<unknown>>> = { a: new Map(), g: new Map(), s: new Map() };
  readonly #log: Logger;
  #synced = false;
  #syncedWaiters: Array<() => void> = [];
  #watch: { stop(): void } | undefined;
  #loop: Promise<void> | undefined;
  conflicts = 0;

  private constructor(kv: KV, bucket: string, log: Logger) {
    this.kv = kv;
    this.bucket = bucket;
    this.#log = log;
  }

  /** Opens (creating) the bucket and starts the watch; resolves once the local view holds every key. */
  static async open(bus: Bus, o: StoreOptions): Promise<AlertStore> {
    const kv = await openKv(bus, o.bucket, {
      history: 1,
      ...(o.replicas ? { replicas: o.replicas } : {}),
      ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
    });
    const store = new AlertStore(kv, o.bucket, o.logger);
    await store.#start();
    return store;
  }

  async #start(): Promise<void> {
    const status = await this.kv.status();
    const lastSeq = status.streamInfo.state.last_seq;
    if (lastSeq === 0) this.#markSynced();
    const iter = await this.kv.watch({ key: '>' });
    this.#watch = iter;
    this.#loop = (async () => {
      for await (const e of iter) {
        const kind = e.key.slice(0, 1) as Kind;
        const id = e.key.slice(2);
        const view = this.#views[kind];
        if (view) {
          const have = view.get(id);
          if (!have || have.rev < e.revision) {
            if (e.operation === 'PUT') {
              try {
                view.set(id, { value: JSON.parse(dec.decode(e.value)), rev: e.revision });
              } catch (err) {
                this.#log.warn({ err, key: e.key }, 'unreadable alerter state entry ignored');
              }
            } else view.set(id, { value: undefined, rev: e.revision });
          }
        }
        if (!this.#synced && e.revision >= lastSeq) this.#markSynced();
      }
    })().catch((err: unknown) => this.#log.error({ err }, 'alerter state watch ended'));
    await this.synced();
  }

  #markSynced(): void {
    this.#synced = true;
    for (const w of this.#syncedWaiters.splice(0)) w();
  }

  get isSynced(): boolean {
    return this.#synced;
  }

  synced(): Promise<void> {
    return this.#synced ? Promise.resolve() : new Promise((r) => this.#syncedWaiters.push(r));
  }

  /** Current values of a kind (the local view). */
  values<K extends Kind>(kind: K): Value<K>[] {
    const out: Value<K>[] = [];
    for (const e of this.#views[kind].values()) if (e.value !== undefined) out.push(e.value as Value<K>);
    return out;
  }

  get<K extends Kind>(kind: K, id: string): Value<K> | undefined {
    return this.#views[kind].get(id)?.value as Value<K> | undefined;
  }

  async #fetch(kind: Kind, id: string): Promise<Entry<unknown>> {
    const e = await this.kv.get(`${kind}.${id}`);
    if (!e) return { value: undefined, rev: 0 };
    const entry: Entry<unknown> =
      e.operation === 'PUT'
        ? { value: JSON.parse(dec.decode(e.value)), rev: e.revision }
        : { value: undefined, rev: e.revision };
    const have = this.#views[kind].get(id);
    if (!have || have.rev < entry.rev) this.#views[kind].set(id, entry);
    return entry;
  }

  /**
   * Compare-and-set: `fn` gets the current value and returns the next one, `'delete'`, or undefined (no change).
   * On a lost race the current value is read again and `fn` runs again. Resolves with what was written (undefined
   * when nothing was).
   */
  async update<K extends Kind>(
    kind: K,
    id: string,
    fn: (prev: Value<K> | undefined) => Value<K> | 'delete' | undefined,
    attempts = 10,
  ): Promise<Value<K> | 'delete' | undefined> {
    let entry: Entry<unknown> = this.#views[kind].get(id) ?? { value: undefined, rev: 0 };
    for (let i = 0; i < attempts; i++) {
      const next = fn(entry.value as Value<K> | undefined);
      if (next === undefined) return undefined;
      if (next === 'delete' && entry.value === undefined) return undefined;
      try {
        const key = `${kind}.${id}`;
        if (next === 'delete') {
          await this.kv.delete(key, { previousSeq: entry.rev });
          // The marker's revision is unknown here; the watch brings it. A later write reads it on conflict.
          this.#views[kind].set(id, { value: undefined, rev: entry.rev });
          return 'delete';
        }
        const rev = await this.kv.put(key, enc.encode(JSON.stringify(next)), { previousSeq: entry.rev });
        const have = this.#views[kind].get(id);
        if (!have || have.rev < rev) this.#views[kind].set(id, { value: next, rev });
        return next;
      } catch (err) {
        if (!isConflict(err)) throw err;
        this.conflicts++;
        entry = await this.#fetch(kind, id);
      }
    }
    throw new StateConflictError(`${kind}.${id}: lost ${attempts} compare-and-set races in a row`);
  }

  async close(): Promise<void> {
    this.#watch?.stop();
    await this.#loop;
  }
}
