// The object store: one global resourceVersion (L4), tables in key order, change history for watches and
// consistent snapshots (MVCC over a bounded history, L3/L8/L9/L10/L11), and event TTL leases (E6).
import { errors } from './errors.ts';
import { SortedChunks } from './sorted.ts';

export interface Rec {
  key: string; // `${namespace}/${name}` or `${name}`
  ns: string;
  name: string;
  rv: number;
  /** The stored object (core/v1 schema for events), without kind/apiVersion. */
  json: string;
  labels: Record<string, string> | undefined;
  uid: string;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  storage: string;
  type: ChangeType;
  key: string;
  ns: string;
  /** New state; for DELETED the last state with resourceVersion set to the deletion revision. */
  obj: Rec;
  /** State before this change (undefined for ADDED). */
  prev: Rec | undefined;
  at: number;
  /** Per-rendering frame cache, filled by watchers. */
  frames?: Map<string, string>;
}

export interface WatchSink {
  storage: string;
  onChange(c: Change): void;
}

interface Table {
  map: Map<string, Rec>;
  sorted: SortedChunks<Rec>;
}

interface TtlLease {
  grantedAt: number;
  expiresAt: number;
  keys: Set<string>;
}

export interface Clock {
  now(): number;
}

export interface StoreOptions {
  clock: Clock;
  historyWindowSeconds: number;
  historyMaxEvents: number;
  eventTtlSeconds: number;
  initialResourceVersion: number;
}

const LEASE_MAX_OBJECTS = 1000; // etcd3/lease_manager.go leaseMaxAttachedObjectCount

export class Store {
  rv: number;
  /** Watches and exact lists from a resourceVersion below this one are too old (410). */
  compactedRv: number;
  private history: Change[] = [];
  private head = 0;
  private tables = new Map<string, Table>();
  private sinks = new Map<string, Set<WatchSink>>();
  private leases: TtlLease[] = [];
  private leaseOf = new Map<string, TtlLease>();
  readonly opts: StoreOptions;

  constructor(opts: StoreOptions) {
    this.opts = opts;
    this.rv = opts.initialResourceVersion;
    this.compactedRv = opts.initialResourceVersion;
  }

  table(storage: string): Table {
    let t = this.tables.get(storage);
    if (!t) {
      t = { map: new Map(), sorted: new SortedChunks<Rec>() };
      this.tables.set(storage, t);
    }
    return t;
  }

  get(storage: string, key: string): Rec | undefined {
    return this.tables.get(storage)?.map.get(key);
  }

  storages(): string[] {
    return [...this.tables.keys()];
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, t] of this.tables) out[k] = t.map.size;
    return out;
  }

  nextRv(): number {
    this.rv += 1;
    return this.rv;
  }

  /** Writes a new state (create or update) at rec.rv, records history and notifies watchers. */
  put(storage: string, rec: Rec): Change {
    const t = this.table(storage);
    const prev = t.map.get(rec.key);
    t.map.set(rec.key, rec);
    t.sorted.set(rec);
    if (storage === 'events') this.attachLease(rec.key);
    const c: Change = {
      rv: rec.rv,
      storage,
      type: prev ? 'MODIFIED' : 'ADDED',
      key: rec.key,
      ns: rec.ns,
      obj: rec,
      prev,
      at: this.opts.clock.now(),
    };
    this.record(c);
    return c;
  }

  /** Deletes at `rv`; `tomb` is the last state stamped with the deletion revision. */
  remove(storage: string, tomb: Rec): Change | undefined {
    const t = this.table(storage);
    const prev = t.map.get(tomb.key);
    if (!prev) return undefined;
    t.map.delete(tomb.key);
    t.sorted.delete(tomb.key);
    if (storage === 'events') this.detachLease(tomb.key);
    const c: Change = {
      rv: tomb.rv,
      storage,
      type: 'DELETED',
      key: tomb.key,
      ns: tomb.ns,
      obj: tomb,
      prev,
      at: this.opts.clock.now(),
    };
    this.record(c);
    return c;
  }

  private record(c: Change): void {
    this.history.push(c);
    this.compact(false);
    const s = this.sinks.get(c.storage);
    if (s) for (const w of [...s]) w.onChange(c);
    c.frames = undefined; // rendered frames are shared by the watchers of one write only; history keeps no copies
  }

  /** Drops history older than the window or beyond the size cap; `all` drops everything (the silent-gap fault). */
  compact(all: boolean): void {
    const now = this.opts.clock.now();
    const minAt = now - this.opts.historyWindowSeconds * 1000;
    const h = this.history;
    let i = this.head;
    const max = this.opts.historyMaxEvents;
    while (i < h.length && (all || h.length - i > max || h[i]!.at < minAt)) {
      const rv = h[i]!.rv;
      while (i < h.length && h[i]!.rv === rv) i++; // a revision is compacted as a whole
      this.compactedRv = Math.max(this.compactedRv, rv);
    }
    if (all) this.compactedRv = this.rv;
    if (i === this.head) return;
    for (let j = this.head; j < i; j++) h[j] = undefined as never;
    this.head = i;
    if (this.head > 4096 && this.head * 2 > h.length) {
      this.history = h.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The silent-gap fault: forget all history and move past it by one (otherwise idle) revision, so that no
   * resourceVersion a client has seen can be resumed from.
   */
  compactAll(): void {
    this.compact(true);
    this.rv += 1;
    this.compactedRv = this.rv;
  }

  /** Changes with rv > after, for a storage, in order; throws the L9 message if history no longer covers it. */
  changesSince(after: number): Change[] {
    this.compact(false);
    const h = this.history;
    let lo = this.head;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.rv <= after) lo = mid + 1;
      else hi = mid;
    }
    return h.slice(lo);
  }

  isTooOld(rv: number): boolean {
    this.compact(false);
    return rv < this.compactedRv;
  }

  /** The records of a table (with key prefix) as of revision `at`, in key order (MVCC over history). */
  snapshotAt(storage: string, prefix: string, at: number): Rec[] {
    const t = this.table(storage);
    const current = t.sorted.snapshot(prefix);
    if (at >= this.rv) return current;
    if (this.isTooOld(at)) throw errors.gone('The resourceVersion for the provided list is too old.');
    const overlay = new Map<string, Rec | undefined>();
    for (const c of this.changesSince(at)) {
      if (c.storage !== storage || !c.key.startsWith(prefix) || overlay.has(c.key)) continue;
      overlay.set(c.key, c.prev);
    }
    if (overlay.size === 0) return current;
    const restored = [...overlay.values()].filter((r): r is Rec => r !== undefined).sort((a, b) => cmp(a.key, b.key));
    const out: Rec[] = [];
    let j = 0;
    for (const r of current) {
      if (overlay.has(r.key)) continue;
      while (j < restored.length && restored[j]!.key < r.key) out.push(restored[j++]!);
      out.push(r);
    }
    while (j < restored.length) out.push(restored[j++]!);
    return out;
  }

  addSink(s: WatchSink): void {
    let set = this.sinks.get(s.storage);
    if (!set) {
      set = new Set();
      this.sinks.set(s.storage, set);
    }
    set.add(s);
  }

  removeSink(s: WatchSink): void {
    this.sinks.get(s.storage)?.delete(s);
  }

  // --- event TTL (E6): etcd leases reused for a window, up to 1000 objects each, revoked in one transaction ---

  private attachLease(key: string): void {
    this.detachLease(key);
    const now = this.opts.clock.now();
    const ttlMs = this.opts.eventTtlSeconds * 1000;
    // lease_manager.go: reuse duration = min(5% of ttl, 60 s), in whole seconds; lease ttl = ttl + reuse duration.
    const reuseMs = Math.min(Math.floor(this.opts.eventTtlSeconds * 0.05), 60) * 1000;
    let l = this.leases[this.leases.length - 1];
    if (!l || now >= l.grantedAt + reuseMs || l.keys.size >= LEASE_MAX_OBJECTS) {
      l = { grantedAt: now, expiresAt: now + ttlMs + reuseMs, keys: new Set() };
      this.leases.push(l);
    }
    l.keys.add(key);
    this.leaseOf.set(key, l);
  }

  private detachLease(key: string): void {
    const l = this.leaseOf.get(key);
    if (l) {
      l.keys.delete(key);
      this.leaseOf.delete(key);
    }
  }

  /** Revokes expired leases: each lease's events are deleted in one transaction (one shared resourceVersion). */
  sweepExpiredEvents(all = false): number {
    const now = this.opts.clock.now();
    let deleted = 0;
    while (this.leases.length > 0 && (all || this.leases[0]!.expiresAt <= now)) {
      const l = this.leases.shift()!;
      if (l.keys.size === 0) continue;
      const rv = this.nextRv();
      for (const key of [...l.keys].sort(cmp)) {
        const cur = this.get('events', key);
        if (!cur) continue;
        if (this.remove('events', stampRv(cur, rv))) deleted++;
      }
    }
    return deleted;
  }
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy of a record whose JSON carries another resourceVersion. */
export function stampRv(r: Rec, rv: number): Rec {
  const o = JSON.parse(r.json);
  o.metadata.resourceVersion = String(rv);
  return { ...r, rv, json: JSON.stringify(o) };
}
