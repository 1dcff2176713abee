// The enrichment stage: a batch of KecEvents in, kec.enriched/v1 out. Reads the cache level by level (the regarding
// objects and namespaces, then their controllers and nodes, then the controllers' controllers...), one MGET per
// level for the whole batch. A miss is answered without the API when the kind's informer was current after the
// event (the object did not exist), waits briefly when the informer is just behind, and otherwise costs one
// single-flight, rate-limited GET whose answer (object or 404) is cached.
import {
  type CacheEntry,
  type CacheRecord,
  type CacheStore,
  CacheUnavailableError,
  type CompactOptions,
  compactObject,
  controllerOf,
  type EnrichedEvent,
  type EnrichedNode,
  type Enrichment,
  type EnrichmentStatus,
  isNotFound,
  KEC_ENRICHED_SCHEMA,
  kindInfo,
  type SyncState,
  type WorkloadRef,
} from '@kec/cache';
import { formatMicroTime, type KecEvent, timestampMicros, WORKLOAD_KINDS } from '@kec/model';
import type { Logger } from 'pino';
import type { Fetcher } from './fetcher.ts';
import { type InferredChain, inferOwners, pickChain } from './infer.ts';
import type { EnricherMetrics } from './metrics.ts';

export interface EnricherOptions {
  store: CacheStore;
  /** undefined: never GET (no API access); misses stay misses. */
  fetcher: Fetcher | undefined;
  /** Kinds the filler keeps warm; only these can be vouched for by an informer. */
  informerKinds: ReadonlySet<string>;
  compact: CompactOptions;
  notFoundTtlMs: number;
  fetchedTtlMs: number;
  informerGraceMs: number;
  coverWaitMs: number;
  metrics: EnricherMetrics;
  logger: Logger;
  now?: () => number;
}

/** Kinds that are workloads when they have no controller above them. */
const MAX_CHAIN = 5;

interface Req {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  /** Event time (ms): the object existed then. */
  t: number;
}

export type Lookup =
  | { status: 'hit' | 'tombstone' | 'fetched'; rec: CacheRecord }
  | { status: 'miss'; detail: string; rec?: undefined };

const reqId = (key: string, uid: string) => `${key}#${uid}`;

export class Enricher {
  readonly #o: EnricherOptions;
  readonly #now: () => number;
  #sync: Record<string, SyncState> = {};
  #syncAt = 0;
  #syncLoading: Promise<void> | undefined;

  constructor(opts: EnricherOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Enriches a batch. Never throws for Redis trouble: the events come back with status `unavailable`. */
  async enrichBatch(events: readonly KecEvent[]): Promise<EnrichedEvent[]> {
    const o = this.#o;
    const enrichedAt = formatMicroTime(new Date(this.#now()));
    if (!o.store.available) return events.map((e) => unavailable(e, enrichedAt, 'redis-down'));
    try {
      return await this.#enrich(events, enrichedAt);
    } catch (err) {
      if (!(err instanceof CacheUnavailableError)) throw err;
      o.metrics.redisErrors.add(1);
      o.logger.debug({ err: err.message }, 'redis read failed; batch passes through unenriched');
      return events.map((e) => unavailable(e, enrichedAt, 'redis-error'));
    }
  }

  async #enrich(events: readonly KecEvent[], enrichedAt: string): Promise<EnrichedEvent[]> {
    const keys = this.#o.store.keys;
    const n = events.length;
    const times = events.map(eventTime);
    // Level 0: the regarding objects and the namespaces.
    const level0: Req[] = [];
    const objReq: (Req | undefined)[] = new Array(n);
    const nsName: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const e = events[i] as KecEvent;
      const r = e.regarding;
      if (r.kind && r.name && kindInfo(r.kind)) {
        const req = {
          kind: r.kind,
          namespace: r.namespace || e.namespace,
          name: r.name,
          uid: r.uid,
          t: times[i] as number,
        };
        objReq[i] = req;
        level0.push(req);
      }
      const ns = (r.kind && kindInfo(r.kind)?.namespaced === false ? '' : r.namespace) || e.namespace;
      nsName[i] = ns;
      if (ns) level0.push({ kind: 'Namespace', namespace: '', name: ns, uid: '', t: times[i] as number });
    }
    const res0 = await this.resolve(level0);
    const get = (res: Map<string, Lookup>, q: Req) => res.get(reqId(keys.object(q.kind, q.namespace, q.name), q.uid));

    const objects: (Lookup | undefined)[] = objReq.map((q) => (q ? get(res0, q) : undefined));
    const chains: WorkloadRef[][] = events.map(() => []);
    const nodes: (CacheRecord | undefined)[] = new Array(n);
    // Walk the controllers up, one MGET per level for the whole batch; nodes join the first level.
    let cursor: (CacheRecord | undefined)[] = objects.map((l) => l?.rec);
    for (let depth = 0; depth < MAX_CHAIN; depth++) {
      const reqs: Req[] = [];
      const next: (Req | undefined)[] = new Array(n);
      const nodeReq: (Req | undefined)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const rec = cursor[i];
        if (!rec) continue;
        const ctrl = controllerOf(rec);
        if (ctrl) {
          chains[i]?.push({ kind: ctrl.kind, name: ctrl.name, uid: ctrl.uid });
          if (kindInfo(ctrl.kind)) {
            const q = {
              kind: ctrl.kind,
              namespace: rec.namespace,
              name: ctrl.name,
              uid: ctrl.uid,
              t: times[i] as number,
            };
            next[i] = q;
            reqs.push(q);
          }
        }
        if (depth === 0) {
          if (rec.kind === 'Node') nodes[i] = rec;
          else if (rec.pod?.nodeName) {
            const q = { kind: 'Node', namespace: '', name: rec.pod.nodeName, uid: '', t: times[i] as number };
            nodeReq[i] = q;
            reqs.push(q);
          }
        }
      }
      if (reqs.length === 0) break;
      const res = await this.resolve(reqs);
      cursor = next.map((q) => (q ? get(res, q)?.rec : undefined));
      if (depth === 0) for (let i = 0; i < n; i++) if (nodeReq[i]) nodes[i] = get(res, nodeReq[i] as Req)?.rec;
    }

    const inferred = await this.#infer(events, objReq, objects);

    const out: EnrichedEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const e = events[i] as KecEvent;
      const look = objects[i];
      const rec = look?.rec;
      const nsRec = nsName[i]
        ? get(res0, { kind: 'Namespace', namespace: '', name: nsName[i] as string, uid: '', t: 0 })?.rec
        : undefined;
      const guess = inferred[i];
      const chain = guess ? guess.owners : (chains[i] as WorkloadRef[]);
      let status: EnrichmentStatus;
      let detail = '';
      if (look) {
        status = look.status;
        if (look.status === 'miss') detail = look.detail;
        if (guess) status = 'inferred';
      } else {
        status = 'miss';
        detail = e.regarding.kind && e.regarding.name ? 'unsupported-kind' : 'no-object';
      }
      const workload: WorkloadRef | null =
        chain.length > 0
          ? (chain[chain.length - 1] as WorkloadRef)
          : rec && WORKLOAD_KINDS.has(rec.kind)
            ? { kind: rec.kind, name: rec.name, uid: rec.uid }
            : null;
      const node = nodes[i];
      const enrichment: Enrichment = {
        status,
        detail,
        object: rec
          ? {
              kind: rec.kind,
              namespace: rec.namespace,
              name: rec.name,
              uid: rec.uid,
              labels: rec.labels,
              annotations: rec.annotations,
              deleted: rec.deletedAt !== undefined,
              deletedAt: rec.deletedAt !== undefined ? formatMicroTime(new Date(rec.deletedAt)) : null,
            }
          : null,
        pod: rec?.pod ?? null,
        owners: chain,
        workload,
        node: node ? nodeOf(node) : null,
        namespaceLabels: nsRec?.labels ?? {},
        enrichedAt,
      };
      out[i] = { ...e, schema: KEC_ENRICHED_SCHEMA, enrichment };
    }
    return out;
  }

  /**
   * Owner chains read from the names of the objects the cache could not find (see infer.ts). One MGET for the
   * candidates' top owners: a cached owner confirms an ambiguous name and gives the workload its uid. No GET.
   */
  async #infer(
    events: readonly KecEvent[],
    objReq: readonly (Req | undefined)[],
    objects: readonly (Lookup | undefined)[],
  ): Promise<(InferredChain | undefined)[]> {
    const keys = this.#o.store.keys;
    const cands: (InferredChain[] | undefined)[] = new Array(events.length);
    const wanted = new Set<string>();
    for (let i = 0; i < events.length; i++) {
      const q = objReq[i];
      if (!q || objects[i]?.status !== 'miss') continue;
      const c = inferOwners(q.kind, q.name);
      if (c.length === 0) continue;
      cands[i] = c;
      for (const x of c) {
        const top = x.owners[x.owners.length - 1] as WorkloadRef;
        wanted.add(keys.object(top.kind, q.namespace, top.name));
      }
    }
    if (wanted.size === 0) return cands.map(() => undefined);
    const list = [...wanted];
    const entries = await this.#o.store.mget(list);
    const uids = new Map<string, string>();
    list.forEach((k, j) => {
      const e = entries[j];
      if (e && !isNotFound(e)) uids.set(k, e.uid);
    });
    return cands.map((c, i) => {
      const q = objReq[i];
      if (!c || !q) return undefined;
      return pickChain(c, (kind, name) => uids.get(keys.object(kind, q.namespace, name)));
    });
  }

  /** Looks objects up: cache first, then (for what is missing) informer coverage, a short wait, a GET. */
  async resolve(reqs: readonly Req[]): Promise<Map<string, Lookup>> {
    const o = this.#o;
    const keys = o.store.keys;
    const out = new Map<string, Lookup>();
    // Distinct keys; per key the latest event time (coverage must reach the newest event about it).
    const byKey = new Map<string, { q: Req; t: number; uids: Set<string> }>();
    for (const q of reqs) {
      const k = keys.object(q.kind, q.namespace, q.name);
      const cur = byKey.get(k);
      if (cur) {
        cur.t = Math.max(cur.t, q.t);
        cur.uids.add(q.uid);
      } else byKey.set(k, { q, t: q.t, uids: new Set([q.uid]) });
    }
    const keyList = [...byKey.keys()];
    const entries = await o.store.mget(keyList);
    const found = new Map<string, CacheEntry | undefined>();
    keyList.forEach((k, i) => {
      found.set(k, entries[i]);
    });

    // Misses: wait for the informer when it is just behind, then re-read.
    let missing = keyList.filter((k) => found.get(k) === undefined);
    if (missing.length > 0 && o.coverWaitMs > 0) {
      const sync = await this.#syncState(false);
      const waitable = missing.filter((k) => {
        const e = byKey.get(k)!;
        return !this.#covered(sync, e.q.kind, e.t) && this.#fillerAlive(sync, e.q.kind);
      });
      if (waitable.length > 0) {
        o.metrics.coverWaits.add(1);
        const deadline = this.#now() + o.coverWaitMs;
        for (;;) {
          await new Promise((r) => setTimeout(r, 100));
          const s = await this.#syncState(true);
          const still = waitable.filter((k) => !this.#covered(s, byKey.get(k)!.q.kind, byKey.get(k)!.t));
          if (still.length === 0 || this.#now() >= deadline) break;
        }
        const again = await o.store.mget(missing);
        missing.forEach((k, i) => {
          found.set(k, again[i]);
        });
        missing = missing.filter((k) => found.get(k) === undefined);
      }
    }

    // What is still missing: vouched for by a current informer (no GET), or fetched.
    if (missing.length > 0) {
      const sync = await this.#syncState(false);
      await Promise.all(
        missing.map(async (k) => {
          const e = byKey.get(k)!;
          if (this.#covered(sync, e.q.kind, e.t)) {
            o.metrics.misses.add(1, { kind: e.q.kind, reason: 'informer-current' });
            for (const uid of e.uids) out.set(reqId(k, uid), { status: 'miss', detail: 'informer-current' });
            // Remembered like a 404, so the next events about this object neither wait for the informer again
            // (a fresh event is never covered without a wait) nor GET; the filler's record replaces the marker.
            // Best effort: the answer above stands whether or not Redis takes the marker.
            if (o.notFoundTtlMs > 0)
              await o.store
                .putIfAbsent(k, { v: 1, notFound: true, checkedAt: this.#now(), by: 'informer' }, o.notFoundTtlMs)
                .catch(() => undefined);
            return;
          }
          const l = await this.#fetch(k, e.q);
          for (const uid of e.uids) out.set(reqId(k, uid), l);
        }),
      );
    }

    // Found entries; a live record of another uid means the name was reused: look for the uid's tombstone.
    const uidReqs: { k: string; uid: string }[] = [];
    for (const [k, e] of byKey) {
      const entry = found.get(k);
      if (entry === undefined) continue;
      for (const uid of e.uids) {
        if (out.has(reqId(k, uid))) continue;
        if (isNotFound(entry)) {
          const detail = entry.by === 'informer' ? 'informer-current' : 'not-found';
          o.metrics.misses.add(1, { kind: e.q.kind, reason: detail });
          out.set(reqId(k, uid), { status: 'miss', detail });
          continue;
        }
        if (uid && entry.uid && uid !== entry.uid && uid !== entry.name) uidReqs.push({ k, uid });
        else out.set(reqId(k, uid), this.#hit(entry));
      }
    }
    if (uidReqs.length > 0) {
      const tombs = await o.store.mget(uidReqs.map((r) => keys.uid(r.uid)));
      uidReqs.forEach((r, i) => {
        const t = tombs[i];
        const entry = found.get(r.k) as CacheRecord;
        out.set(reqId(r.k, r.uid), this.#hit(t && !isNotFound(t) ? t : entry));
      });
    }
    return out;
  }

  #hit(rec: CacheRecord): Lookup {
    const source = rec.deletedAt !== undefined ? 'tombstone' : rec.source === 'fetch' ? 'fetched' : 'live';
    this.#o.metrics.hits.add(1, { kind: rec.kind, source });
    return { status: rec.deletedAt !== undefined ? 'tombstone' : 'hit', rec };
  }

  async #fetch(key: string, q: Req): Promise<Lookup> {
    const o = this.#o;
    if (!o.fetcher) {
      o.metrics.misses.add(1, { kind: q.kind, reason: 'not-cached' });
      return { status: 'miss', detail: 'not-cached' };
    }
    const r = await o.fetcher.fetch(q.kind, q.namespace, q.name);
    const now = this.#now();
    switch (r.result) {
      case 'found': {
        const rec = compactObject(q.kind, r.object, { ...o.compact, source: 'fetch', now });
        await o.store.putIfAbsent(key, rec, o.fetchedTtlMs);
        return { status: 'fetched', rec };
      }
      case 'not-found':
        o.metrics.misses.add(1, { kind: q.kind, reason: 'not-found' });
        if (o.notFoundTtlMs > 0)
          await o.store.putIfAbsent(key, { v: 1, notFound: true, checkedAt: now }, o.notFoundTtlMs);
        return { status: 'miss', detail: 'not-found' };
      case 'rate-limited':
        o.metrics.misses.add(1, { kind: q.kind, reason: 'rate-limited' });
        return { status: 'miss', detail: 'rate-limited' };
      default:
        o.metrics.misses.add(1, { kind: q.kind, reason: 'fetch-failed' });
        return { status: 'miss', detail: 'fetch-failed' };
    }
  }

  /** The informer of `kind` was current at least `grace` after time t: an object that existed at t is cached. */
  #covered(sync: Record<string, SyncState>, kind: string, t: number): boolean {
    if (!this.#o.informerKinds.has(kind) || !Number.isFinite(t)) return false;
    const s = sync[kind];
    return s !== undefined && s.asOf >= t + this.#o.informerGraceMs;
  }

  /** The filler has published progress for the kind recently: waiting for it can help. */
  #fillerAlive(sync: Record<string, SyncState>, kind: string): boolean {
    if (!this.#o.informerKinds.has(kind)) return false;
    const s = sync[kind];
    return s !== undefined && this.#now() - s.asOf < Math.max(5000, this.#o.coverWaitMs);
  }

  async #syncState(fresh: boolean): Promise<Record<string, SyncState>> {
    const maxAge = fresh ? 80 : 250;
    if (this.#now() - this.#syncAt > maxAge) {
      this.#syncLoading ??= this.#o.store
        .getSync()
        .then((s) => {
          this.#sync = s;
          this.#syncAt = this.#now();
        })
        .finally(() => {
          this.#syncLoading = undefined;
        });
      await this.#syncLoading;
    }
    return this.#sync;
  }
}

/**
 * The time the event says its object existed (ms): its first timestamp, or when the watcher observed it when that is
 * earlier. A writer whose clock runs ahead (a skewed node, kube-sim's fast virtual clock) stamps events in the future,
 * which no informer could ever cover: every miss about them would wait for the informer, then GET.
 */
export function eventTime(e: KecEvent): number {
  const first = timestampMicros(e.firstTimestamp);
  const seen = timestampMicros(e.observedAt);
  const us = Number.isFinite(first) && Number.isFinite(seen) ? Math.min(first, seen) : first;
  return Number.isFinite(us) ? us / 1000 : Number.NaN;
}

function nodeOf(rec: CacheRecord): EnrichedNode {
  return {
    name: rec.name,
    zone: rec.node?.zone ?? '',
    region: rec.node?.region ?? '',
    instanceType: rec.node?.instanceType ?? '',
    labels: rec.labels,
    ready: rec.node?.ready ?? '',
    problems: rec.node?.problems ?? [],
  };
}

/** Redis could not be read: the event passes with what it carries, and the owners its name shows (infer.ts). */
export function unavailable(e: KecEvent, enrichedAt: string, detail: string): EnrichedEvent {
  const r = e.regarding;
  const owners = (r.kind && r.name && pickChain(inferOwners(r.kind, r.name), () => undefined)?.owners) || [];
  return {
    ...e,
    schema: KEC_ENRICHED_SCHEMA,
    enrichment: {
      status: 'unavailable',
      detail,
      object: null,
      pod: null,
      owners,
      workload: owners[owners.length - 1] ?? null,
      node: null,
      namespaceLabels: {},
      enrichedAt,
    },
  };
}
