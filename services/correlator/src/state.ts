// The correlator's shared state in Redis: per-uid occurrence state, incident index keys and hashes, first-seen and
// storm counters. All writes that must agree across replicas go through the Lua scripts (atomic).
import { type RedisSecurity, redisConnection } from '@kec/cache';
import { Redis } from 'ioredis';
import { CLAIM_BATCH_LUA, OBSERVE_BATCH_LUA, RATE_BATCH_LUA, RESOLVE_LUA } from './scripts.ts';

export interface ObserveInput {
  /** Key of the per-uid occurrence state: `<cluster>:<uid>`. */
  uid: string;
  /** The event uid (root-cause candidate). */
  eventUid: string;
  /** Root-cause ordering: µs of the event's first occurrence, then `order` (creation order), lowest first. */
  firstMicros: number;
  order: string;
  resourceVersion: string;
  count: number;
  /** µs since the epoch of lastTimestamp, or undefined. */
  lastMicros: number | undefined;
  deleted: boolean;
  mode: 'open' | 'join' | 'none';
  /** Event time (lastTimestamp) and first time, ms. */
  eventMs: number;
  firstMs: number;
  /** Index keys (already prefixed) in lookup order, each with "register this event's incident under it". */
  /** own: registered with the incident; find: false = registered only, not looked up; window: join-window factor. */
  keys: { key: string; own: boolean; find?: boolean; window?: number }[];
  candidateId: string;
  rank: number;
  reason: string;
  object: string;
  why: string;
  severity: number;
  category: string;
  namespace: string;
  cluster: string;
}

export interface IncidentState {
  id: string;
  cluster: string;
  state: 'open' | 'resolved';
  firstMs: number;
  lastMs: number;
  namespace: string;
  events: number;
  occurrences: number;
  severity: number;
  version: number;
  rootCause: { uid: string; reason: string; object: string; why: string; category: string } | null;
  affected: string[];
}

export interface ObserveResult {
  occurrences: number;
  incidentId: string | null;
  /** No earlier observation of this uid was known. */
  fresh: boolean;
  /** This (uid, rv) was already processed (a redelivery or a replay): same answers as the first time. */
  replay: boolean;
  incident: IncidentState | null;
}

export interface StateOptions {
  windowMs: number;
  /** TTL of the per-uid occurrence state: longer than the event TTL (default 1 h) plus replay delays. */
  occurrenceTtlSec: number;
  /** TTL of incident hashes and index keys. */
  incidentTtlSec: number;
  maxAffected: number;
}

function parseIncident(id: string, flat: unknown, members: unknown): IncidentState | null {
  if (!Array.isArray(flat) || flat.length === 0) return null;
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[String(flat[i])] = String(flat[i + 1]);
  return {
    id,
    cluster: h.cl ?? '',
    state: h.state === 'resolved' ? 'resolved' : 'open',
    firstMs: Number(h.first),
    lastMs: Number(h.last),
    namespace: h.ns ?? '',
    events: Number(h.events ?? 0),
    occurrences: Number(h.occ ?? 0),
    severity: Number(h.sev ?? 0),
    version: Number(h.version ?? 0),
    rootCause: h.rcUid
      ? {
          uid: h.rcUid,
          reason: h.rcReason ?? '',
          object: h.rcObj ?? '',
          why: h.rcWhy ?? '',
          category: h.rcCat ?? 'other',
        }
      : null,
    affected: (Array.isArray(members) ? members.map(String) : []).sort(),
  };
}

type Scripted = Redis & {
  kecObserveBatch(...args: (string | number)[]): Promise<unknown[][]>;
  kecResolve(...args: (string | number)[]): Promise<unknown[]>;
  kecRateBatch(...args: (string | number)[]): Promise<unknown[][]>;
  kecClaimBatch(...args: (string | number)[]): Promise<number[]>;
};

/** One script call's worth of work: keys and args, and where its reply goes. */
interface Call {
  keys: string[];
  argv: (string | number)[];
}

/**
 * Collects the calls made in one turn of the event loop (a batch's `events.map(process)` issues all of its
 * observations before the first await returns) and sends them as one script call, in the order they were made, at
 * most `max` per call. One EVALSHA per batch instead of one per event: ioredis's per-command work (a Command, its
 * RESP encoding, a promise, the auto-pipeline's bookkeeping) was a quarter of the correlator's CPU.
 */
class TurnBatch {
  #calls: { call: Call; resolve: (r: unknown) => void; reject: (e: unknown) => void }[] = [];
  readonly #send: (calls: Call[]) => Promise<unknown[]>;
  readonly #max: number;

  constructor(send: (calls: Call[]) => Promise<unknown[]>, max = 512) {
    this.#send = send;
    this.#max = max;
  }

  add(call: Call): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#calls.length === 0) queueMicrotask(() => this.#flush());
      this.#calls.push({ call, resolve, reject });
    });
  }

  #flush(): void {
    const all = this.#calls;
    this.#calls = [];
    for (let i = 0; i < all.length; i += this.#max) {
      const part = all.slice(i, i + this.#max);
      this.#send(part.map((p) => p.call)).then(
        (replies) => {
          for (const [j, p] of part.entries()) p.resolve(replies[j]);
        },
        (err: unknown) => {
          for (const p of part) p.reject(err);
        },
      );
    }
  }
}

/** How long a storm baseline (the sum of past minute buckets) is reused before it is read again. */
const BASELINE_MEMO_MS = 10_000;

export class CorrelatorState {
  readonly redis: Scripted;
  readonly #baselines = new Map<string, { before: number; until: number }>();
  readonly prefix: string;
  private readonly o: StateOptions;
  readonly #observes: TurnBatch;
  readonly #rates: TurnBatch;
  readonly #claims: TurnBatch;

  constructor(redis: Redis, prefix: string, o: StateOptions) {
    redis.defineCommand('kecObserveBatch', { lua: OBSERVE_BATCH_LUA });
    redis.defineCommand('kecResolve', { numberOfKeys: 2, lua: RESOLVE_LUA });
    redis.defineCommand('kecRateBatch', { lua: RATE_BATCH_LUA });
    redis.defineCommand('kecClaimBatch', { lua: CLAIM_BATCH_LUA });
    this.redis = redis as Scripted;
    this.prefix = prefix;
    this.o = o;
    // Each batched script takes every call's keys, then a count, then per call its sizes (or its own args), then
    // every call's args.
    this.#observes = new TurnBatch((calls) =>
      this.redis.kecObserveBatch(
        calls.reduce((n, c) => n + c.keys.length, 0),
        ...calls.flatMap((c) => c.keys),
        calls.length,
        ...calls.flatMap((c) => [c.keys.length, c.argv.length]),
        ...calls.flatMap((c) => c.argv),
      ),
    );
    this.#rates = new TurnBatch((calls) =>
      this.redis.kecRateBatch(
        calls.reduce((n, c) => n + c.keys.length, 0),
        ...calls.flatMap((c) => c.keys),
        calls.length,
        ...calls.flatMap((c) => [c.keys.length, ...c.argv]),
      ),
    );
    this.#claims = new TurnBatch((calls) =>
      this.redis.kecClaimBatch(calls.length, ...calls.flatMap((c) => c.keys), ...calls.flatMap((c) => c.argv)),
    );
  }

  static connect(
    url: string,
    prefix: string,
    o: StateOptions,
    name = 'kec-correlator',
    security?: RedisSecurity,
  ): CorrelatorState {
    const conn = redisConnection(url, security);
    const r = new Redis(conn.url, {
      ...conn.options,
      connectionName: name,
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
    });
    return new CorrelatorState(r, prefix, o);
  }

  async observe(i: ObserveInput): Promise<ObserveResult> {
    const keys = [`${this.prefix}occ:${i.uid}`, ...i.keys.map((k) => k.key)];
    const argv: (string | number)[] = [
      i.resourceVersion,
      i.count,
      i.lastMicros === undefined || !Number.isFinite(i.lastMicros) ? '' : i.lastMicros,
      i.deleted ? '1' : '0',
      this.o.occurrenceTtlSec,
      i.mode,
      i.eventMs,
      i.firstMs,
      this.o.windowMs,
      i.candidateId,
      this.o.incidentTtlSec,
      this.prefix,
      i.keys.length,
      // per key: flag (0 look up, 1 look up and register, 2 register only), then its join window when not the default
      ...i.keys.map((k) => {
        const flag = k.own ? (k.find === false ? '2' : '1') : '0';
        return k.window === undefined || k.window === 1 ? flag : `${flag}:${Math.round(this.o.windowMs * k.window)}`;
      }),
      i.rank,
      i.uid,
      i.reason,
      i.object,
      i.why,
      i.severity,
      i.category,
      i.namespace,
      this.o.maxAffected,
      i.cluster,
      i.firstMicros,
      i.order,
      i.eventUid,
    ];
    const r = (await this.#observes.add({ keys, argv })) as unknown[];
    const id = String(r[1] ?? '');
    return {
      occurrences: Number(r[0]),
      incidentId: id || null,
      fresh: Number(r[2]) === 1,
      replay: Number(r[3]) === 1,
      incident: id ? parseIncident(id, r[4], r[5]) : null,
    };
  }

  /** Open incidents whose last event is older than cutoffMs (candidates for resolution). */
  async quiet(cutoffMs: number, limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(`${this.prefix}open`, '-inf', cutoffMs, 'LIMIT', 0, limit);
  }

  /**
   * Resolves the incident when it is still quiet; exactly one caller gets its final state. The id then waits in the
   * unpublished set until `published(id)`: a resolution whose publish failed is not lost.
   */
  async resolve(id: string, cutoffMs: number): Promise<IncidentState | null> {
    const r = await this.redis.kecResolve(`${this.prefix}open`, `${this.prefix}unpublished`, this.prefix, id, cutoffMs);
    if (!Array.isArray(r) || r.length === 0) return null;
    return parseIncident(id, r[0], r[1]);
  }

  /** Resolved incidents whose final version has no publish ack yet, with their current state (expired ones dropped). */
  async unpublished(limit = 100): Promise<IncidentState[]> {
    const ids = await this.redis.zrange(`${this.prefix}unpublished`, '0', String(limit - 1));
    const out: IncidentState[] = [];
    for (const id of ids) {
      const ih = `${this.prefix}inc:${id}`;
      const [h, a] = await Promise.all([this.redis.hgetall(ih), this.redis.smembers(`${ih}:a`)]);
      const s = parseIncident(id, Object.entries(h).flat(), a);
      if (s) out.push(s);
      else await this.published(id); // the incident expired meanwhile: nothing left to publish
    }
    return out;
  }

  /** The resolved version of the incident has its publish ack. */
  async published(id: string): Promise<void> {
    await this.redis.zrem(`${this.prefix}unpublished`, id);
  }

  /** SET NX with an owner token; true when this owner holds it (first time, or again on a redelivery). */
  async claim(key: string, owner: string, ttlSec: number): Promise<boolean> {
    return (await this.#claims.add({ keys: [`${this.prefix}${key}`], argv: [owner, ttlSec] })) === 1;
  }

  /**
   * Adds n to the current minute bucket of each key (one script call with the turn's other updates) and returns, per key, the
   * bucket's value and the sum of the `baselineMinutes` before it. The baseline sum is remembered for
   * BASELINE_MEMO_MS per key and minute: those buckets are past minutes that only late events still change, and
   * reading them for every event (30 keys twice per event) cost more than everything else the correlator does.
   */
  async rates(
    keys: readonly string[],
    minute: number,
    n: number,
    baselineMinutes: number,
  ): Promise<{ current: number; before: number }[]> {
    const k = (key: string, m: number) => `${this.prefix}rate:${key}:${m}`;
    const now = Date.now();
    const memoKeys = keys.map((key) => `${key}\n${minute}\n${baselineMinutes}`);
    const memos = memoKeys.map((mk) => {
      const m = this.#baselines.get(mk);
      return m !== undefined && m.until > now ? m.before : undefined;
    });
    // The update joins the turn's other updates in one script call; the baseline reads are plain commands
    // (auto-pipelined with those of every other event of the batch into one write).
    const [cur, ...prev] = await Promise.all([
      this.#rates.add({ keys: keys.map((key) => k(key, minute)), argv: [n, (baselineMinutes + 5) * 60] }),
      ...keys.map((key, i) =>
        memos[i] === undefined
          ? this.redis.mget(...Array.from({ length: baselineMinutes }, (_, j) => k(key, minute - 1 - j)))
          : undefined,
      ),
    ]);
    if (this.#baselines.size >= 10_000) {
      for (const [mk, m] of this.#baselines) if (m.until <= now) this.#baselines.delete(mk);
      if (this.#baselines.size >= 10_000) this.#baselines.clear();
    }
    return keys.map((_, i) => {
      let before = memos[i];
      if (before === undefined) {
        before = (prev[i] ?? []).reduce((s, v) => s + Number(v ?? 0), 0);
        this.#baselines.set(memoKeys[i] as string, { before, until: now + BASELINE_MEMO_MS });
      }
      return { current: Number((cur as unknown[])[i] ?? 0), before };
    });
  }

  /** Deletes every key under the prefix (tests). */
  async purge(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
