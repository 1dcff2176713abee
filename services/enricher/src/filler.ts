// The cache filler: run by the one elected replica. One list+watch informer per kind (metadata-only where the kept
// fields allow) writes compact records to Redis; deletions become tombstones; a relist (first start, 410, Redis loss)
// tombstones what disappeared meanwhile. Every syncInterval it publishes how far each informer is current (readers
// trust a miss only when the informer was current after the event) and checks the Redis marker: a missing marker
// means Redis lost its data, and every informer relists.
import { randomUUID } from 'node:crypto';
import {
  type CacheRecord,
  type CacheStore,
  type CompactOptions,
  collectionPath,
  compactObject,
  isNotFound,
  type KindInfo,
  type SyncState,
} from '@kec/cache';
import { backoffDelay, type KubeClient, ListWatcher } from '@kec/k8s';
import type { Logger } from 'pino';
import type { EnricherMetrics } from './metrics.ts';

export interface FillerOptions {
  store: CacheStore;
  /** Client for full objects (pods, nodes). */
  client: KubeClient;
  /** Client for metadata-only informers (MetadataKubeClient). */
  metadataClient: KubeClient;
  kinds: readonly KindInfo[];
  identity: string;
  compact: CompactOptions;
  tombstoneTtlMs: number;
  syncIntervalMs: number;
  pageSize: number;
  watchTimeoutSeconds: number;
  logger: Logger;
  metrics: EnricherMetrics;
  now?: () => number;
}

interface KindState {
  info: KindInfo;
  lw: ListWatcher;
  /** The informer has completed a list and follows the watch. */
  synced: boolean;
  since: number;
  asOf: number;
  /** A cache write in progress: frames received before it may not be in Redis yet. */
  writing: boolean;
  live: number;
}

/** Redis failing this long (writes or the monitor's reads) is worth a warning; shorter blips are retried quietly. */
const REDIS_TROUBLE_WARN_MS = 5_000;

export class Filler {
  readonly #o: FillerOptions;
  readonly #now: () => number;
  #states: KindState[] = [];
  /** Full resyncs done (the first counts). */
  resyncs = 0;
  #leading = false;
  lastSyncWrite = 0;

  constructor(opts: FillerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Informer states, for readiness and tests. */
  status(): { kind: string; synced: boolean; since: number; asOf: number; live: number }[] {
    return this.#states.map((s) => ({
      kind: s.info.kind,
      synced: s.synced,
      since: s.since,
      asOf: s.asOf,
      live: s.live,
    }));
  }

  /** Runs while this replica leads; returns when the signal aborts. */
  async lead(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const log = o.logger;
    this.#leading = true;
    let reason = 'initial';
    try {
      while (!signal.aborted) {
        if (!(await o.store.waitReady(5000, signal))) continue;
        const epoch = `${o.identity}/${randomUUID()}`;
        try {
          await o.store.setMarker(epoch);
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'filler cannot write the Redis marker; retrying');
          await sleep(500, signal);
          continue;
        }
        this.resyncs++;
        o.metrics.resyncs.add(1, { reason });
        log.info({ epoch, reason, kinds: o.kinds.map((k) => k.kind) }, 'filler: (re)syncing every informer');
        const runAc = new AbortController();
        const runSignal = AbortSignal.any([signal, runAc.signal]);
        let failure: string | undefined;
        this.#states = o.kinds.map((info) => ({
          info,
          lw: new ListWatcher({
            client: info.metadataOnly ? o.metadataClient : o.client,
            path: collectionPath(info),
            pageSize: o.pageSize,
            watchTimeoutSeconds: o.watchTimeoutSeconds,
            logger: log,
          }),
          synced: false,
          since: 0,
          asOf: 0,
          writing: false,
          live: 0,
        }));
        const tasks = this.#states.map((st) =>
          this.#informer(st, runSignal).catch((err: unknown) => {
            if (runSignal.aborted) return;
            failure = 'informer-failed';
            log.warn({ kind: st.info.kind, err: (err as Error).message }, 'filler: informer failed; resyncing');
            runAc.abort();
          }),
        );
        // Monitor: publish progress, watch the marker. A failed read or write is retried on the next round: the
        // informers retry their own writes, so nothing is lost while Redis keeps its data; the marker tells when
        // it did not (restarted empty, flushed), and only then does every informer relist.
        let failingSince = 0;
        let warned = false;
        while (!runSignal.aborted) {
          await sleep(o.syncIntervalMs, runSignal);
          if (runSignal.aborted) break;
          try {
            const marker = await o.store.getMarker();
            if (marker !== epoch) {
              failure = marker === undefined ? 'redis-lost' : 'marker-replaced';
              log.warn({ epoch, marker }, 'filler: Redis marker missing or replaced; resyncing');
              runAc.abort();
              break;
            }
            await this.#publishSync();
            if (warned) log.info('filler: Redis answers again; its data is intact');
            failingSince = 0;
            warned = false;
          } catch (err) {
            failingSince ||= this.#now();
            if (!warned && this.#now() - failingSince >= REDIS_TROUBLE_WARN_MS) {
              warned = true;
              log.warn({ err: (err as Error).message }, 'filler: Redis unavailable; retrying');
            } else log.debug({ err: (err as Error).message }, 'filler: Redis read or write failed; retrying');
          }
        }
        await Promise.all(tasks);
        reason = failure ?? 'stopped';
        if (!signal.aborted && failure) await sleep(200, signal);
      }
    } finally {
      this.#leading = false;
      for (const s of this.#states) s.synced = false;
    }
  }

  async #publishSync(): Promise<void> {
    const now = this.#now();
    const states: Record<string, SyncState> = {};
    for (const s of this.#states) {
      if (!s.synced) continue;
      // Current as of now only when the watch is open and nothing received is still being written.
      if (s.lw.progress.state === 'watching' && !s.writing) s.asOf = now;
      states[s.info.kind] = { since: s.since, asOf: s.asOf, leader: this.#o.identity };
    }
    await this.#o.store.setSync(states);
    this.lastSyncWrite = now;
  }

  async #informer(st: KindState, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const kind = st.info.kind;
    let listed: Set<string> | undefined;
    // A failed write (Redis busy, a timeout under load, an outage) is retried with backoff until it succeeds: a
    // relist of every informer for one slow write would cost far more than the wait. Progress (asOf) stays put
    // meanwhile, so readers do not trust a miss the cache may not reflect yet.
    const write = async (fn: () => Promise<void>) => {
      st.writing = true;
      let failingSince = 0;
      let warned = false;
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await fn();
            if (warned) o.logger.info({ kind, attempts: attempt + 1 }, 'filler: cache write succeeded after retries');
            return;
          } catch (err) {
            if (signal.aborted) throw err;
            o.metrics.writeRetries.add(1, { kind });
            failingSince ||= this.#now();
            const msg = (err as Error).message;
            if (!warned && this.#now() - failingSince >= REDIS_TROUBLE_WARN_MS) {
              warned = true;
              o.logger.warn({ kind, err: msg, attempts: attempt + 1 }, 'filler: cache writes failing; retrying');
            } else o.logger.debug({ kind, err: msg }, 'filler: cache write failed; retrying');
            await sleep(backoffDelay(attempt, { initialMs: 50, maxMs: 2_000 }), signal);
          }
        }
      } finally {
        st.writing = false;
      }
    };
    for await (const item of st.lw.run(signal)) {
      switch (item.kind) {
        case 'list-start':
          st.synced = false;
          listed = new Set();
          break;
        case 'list-page': {
          const now = this.#now();
          const recs = item.items.map((it) => compactObject(kind, it, { ...o.compact, now }));
          for (const r of recs) listed?.add(`${r.namespace}/${r.name}`);
          await write(() => o.store.writeLive(recs));
          o.metrics.writes.add(recs.length, { kind, op: 'upsert' });
          break;
        }
        case 'list-end': {
          // Tombstone what the cache holds live but the list no longer has (deleted while nobody watched).
          await write(async () => {
            const members = await o.store.indexMembers(kind);
            const gone = members.filter((m) => !listed?.has(m));
            if (gone.length > 0) {
              const keys = gone.map((m) => {
                const i = m.indexOf('/');
                return o.store.keys.object(kind, m.slice(0, i), m.slice(i + 1));
              });
              const entries = await o.store.mget(keys);
              const recs = entries.filter((e): e is CacheRecord => e !== undefined && !isNotFound(e) && !e.deletedAt);
              await o.store.writeTombstones(recs, o.tombstoneTtlMs, this.#now());
              o.metrics.writes.add(recs.length, { kind, op: 'tombstone' });
            }
          });
          st.live = listed?.size ?? 0;
          listed = undefined;
          st.synced = true;
          st.since = this.#now();
          st.asOf = st.since;
          o.logger.debug({ kind, live: st.live, reason: item.reason }, 'filler: informer synced');
          break;
        }
        case 'event': {
          const rec = compactObject(kind, item.object, { ...o.compact, now: this.#now() });
          if (item.type === 'DELETED') {
            await write(() => o.store.writeTombstones([rec], o.tombstoneTtlMs, this.#now()));
            st.live = Math.max(0, st.live - 1);
            o.metrics.writes.add(1, { kind, op: 'tombstone' });
          } else {
            await write(() => o.store.writeLive([rec]));
            if (item.type === 'ADDED') st.live++;
            o.metrics.writes.add(1, { kind, op: 'upsert' });
          }
          break;
        }
        default:
          break;
      }
    }
  }
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
