// CacheStore: the Redis side of the object cache. The filler writes through it (live records, tombstones, the
// marker and sync state); every enricher replica reads through it (batched MGET). Commands fail fast while Redis is
// unreachable (no offline queue) so callers can pass events through; the client reconnects on its own.
import { Redis } from 'ioredis';
import { isRedisAuthError, type RedisSecurity, redisConnection, redisTarget } from './connection.ts';
import { CacheUnavailableError } from './errors.ts';
import { type CacheKeys, cacheKeys, DEFAULT_PREFIX } from './keys.ts';
import type { CacheEntry, CacheRecord, NotFoundRecord } from './record.ts';

export interface CacheLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

export interface CacheStoreOptions {
  /** redis://[user:pass@]host:port[/db] */
  url: string;
  /** ACL user/password and TLS (see `redisSecurity` for the shared config keys). */
  security?: RedisSecurity;
  cluster: string;
  /** Key prefix; default `kec:cache:`. Tests use a random one. */
  prefix?: string;
  /** A command without an answer for this long fails (Redis hung); default 1000 ms. */
  commandTimeoutMs?: number;
  /** How long connect() waits for the first connection before returning anyway; default 2000 ms. */
  connectWaitMs?: number;
  /** Connection name (CLIENT SETNAME). */
  name?: string;
  logger?: CacheLogger;
}

/** How far one informer is current: `since` = its last complete (re)list, `asOf` = last time it was known current. */
export interface SyncState {
  since: number;
  asOf: number;
  leader: string;
}

const noop: CacheLogger = { info() {}, warn() {} };

function unavailable(what: string, err: unknown): CacheUnavailableError {
  return err instanceof CacheUnavailableError
    ? err
    : new CacheUnavailableError(`redis ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export class CacheStore {
  readonly redis: Redis;
  readonly keys: CacheKeys;
  #closed = false;

  private constructor(redis: Redis, keys: CacheKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Creates the client and waits up to connectWaitMs for it; never fails because Redis is down (it keeps trying). */
  static async connect(opts: CacheStoreOptions): Promise<CacheStore> {
    const keys = cacheKeys(opts.prefix ?? DEFAULT_PREFIX, opts.cluster);
    const log = opts.logger ?? noop;
    const conn = redisConnection(opts.url, opts.security);
    const redis = new Redis(conn.url, {
      ...conn.options,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      connectTimeout: 2000,
      connectionName: opts.name,
      // Reconnect for ever: 100 ms, 200 ms, ... capped at 2 s.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      lazyConnect: false,
    });
    const store = new CacheStore(redis, keys);
    let wasReady = false;
    redis.on('ready', () => {
      if (wasReady) log.info({}, 'redis connection restored');
      wasReady = true;
    });
    let authReported = false;
    redis.on('error', (err: Error) => {
      if (isRedisAuthError(err)) {
        // Wrong credentials do not fix themselves: say so loudly, once, without the secret.
        if (!authReported)
          (log.error ?? log.warn).call(
            log,
            { err: err.message, redis: redisTarget(opts.url) },
            'redis refused the credentials',
          );
        authReported = true;
        wasReady = false;
        return;
      }
      // ioredis emits every failed (re)connect; log once per outage.
      if (wasReady && redis.status !== 'ready') {
        log.warn({ err: err.message }, 'redis unavailable; reconnecting');
        wasReady = false;
      }
    });
    await store.waitReady(opts.connectWaitMs ?? 2000);
    return store;
  }

  /** True while the connection is up. */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  /** Resolves true once connected, false after timeoutMs. */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.available) return true;
    return await new Promise<boolean>((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.redis.off('ready', onReady);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onReady = () => done(true);
      const onAbort = () => done(false);
      const t = setTimeout(() => done(this.available), timeoutMs);
      this.redis.once('ready', onReady);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Reads many keys in one round trip. Missing keys and unparsable values are undefined. */
  async mget(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (keys.length === 0) return [];
    let raw: (string | null)[];
    try {
      raw = await this.redis.mget(keys as string[]);
    } catch (err) {
      throw unavailable('MGET', err);
    }
    return raw.map((s) => {
      if (s === null) return undefined;
      try {
        const v = JSON.parse(s) as CacheEntry;
        return v && v.v === 1 ? v : undefined;
      } catch {
        return undefined;
      }
    });
  }

  /** Writes live records (no TTL) and indexes them; one pipeline. */
  async writeLive(records: readonly CacheRecord[]): Promise<void> {
    if (records.length === 0) return;
    const p = this.redis.pipeline();
    for (const r of records) {
      p.set(this.keys.object(r.kind, r.namespace, r.name), JSON.stringify(r));
      p.sadd(this.keys.index(r.kind), `${r.namespace}/${r.name}`);
    }
    await this.#exec(p, 'write');
  }

  /**
   * Turns records into tombstones: the name key and the uid key hold the last state with `deletedAt`, for ttlMs.
   * The name key is only replaced when it still holds the same uid (a new object may already own the name).
   */
  async writeTombstones(records: readonly CacheRecord[], ttlMs: number, now = Date.now()): Promise<void> {
    if (records.length === 0) return;
    const p = this.redis.pipeline();
    for (const r of records) {
      const t = JSON.stringify({ ...r, deletedAt: now });
      const key = this.keys.object(r.kind, r.namespace, r.name);
      p.eval(TOMBSTONE_SCRIPT, 1, key, t, String(ttlMs), r.uid);
      if (r.uid) p.set(this.keys.uid(r.uid), t, 'PX', ttlMs);
      p.srem(this.keys.index(r.kind), `${r.namespace}/${r.name}`);
    }
    await this.#exec(p, 'tombstone');
  }

  /** SET NX with a TTL: a reader's fetched record or not-found marker never overwrites what the filler wrote. */
  async putIfAbsent(key: string, entry: CacheRecord | NotFoundRecord, ttlMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(key, JSON.stringify(entry), 'PX', ttlMs, 'NX')) === 'OK';
    } catch (err) {
      throw unavailable('SET', err);
    }
  }

  /** `<namespace>/<name>` of every live record of a kind (the filler's index). */
  async indexMembers(kind: string): Promise<string[]> {
    try {
      return await this.redis.smembers(this.keys.index(kind));
    } catch (err) {
      throw unavailable('SMEMBERS', err);
    }
  }

  async getMarker(): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.keys.marker())) ?? undefined;
    } catch (err) {
      throw unavailable('GET', err);
    }
  }

  async setMarker(epoch: string): Promise<void> {
    try {
      await this.redis.set(this.keys.marker(), epoch);
    } catch (err) {
      throw unavailable('SET', err);
    }
  }

  async setSync(states: Record<string, SyncState>): Promise<void> {
    const entries = Object.entries(states);
    if (entries.length === 0) return;
    try {
      await this.redis.hset(this.keys.sync(), Object.fromEntries(entries.map(([k, v]) => [k, JSON.stringify(v)])));
    } catch (err) {
      throw unavailable('HSET', err);
    }
  }

  async clearSync(kinds: readonly string[]): Promise<void> {
    if (kinds.length === 0) return;
    try {
      await this.redis.hdel(this.keys.sync(), ...kinds);
    } catch (err) {
      throw unavailable('HDEL', err);
    }
  }

  async getSync(): Promise<Record<string, SyncState>> {
    let raw: Record<string, string>;
    try {
      raw = await this.redis.hgetall(this.keys.sync());
    } catch (err) {
      throw unavailable('HGETALL', err);
    }
    const out: Record<string, SyncState> = {};
    for (const [k, v] of Object.entries(raw)) {
      try {
        out[k] = JSON.parse(v) as SyncState;
      } catch {
        // ignore a damaged entry: the kind counts as not current
      }
    }
    return out;
  }

  /** Objects the cache holds for this cluster (live records, tombstones, not-found markers); SCAN, for metrics/tests. */
  async countObjects(): Promise<number> {
    let n = 0;
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(
          cursor,
          'MATCH',
          `${this.keys.prefix}${this.keys.cluster}:o:*`,
          'COUNT',
          1000,
        );
        n += keys.length;
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      throw unavailable('SCAN', err);
    }
    return n;
  }

  /** Deletes every key of this prefix and cluster (tests). */
  async purge(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.keys.prefix}${this.keys.cluster}:*`,
        'COUNT',
        1000,
      );
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async #exec(p: ReturnType<Redis['pipeline']>, what: string): Promise<void> {
    let res: [Error | null, unknown][] | null;
    try {
      res = await p.exec();
    } catch (err) {
      throw unavailable(what, err);
    }
    const failed = res?.find(([e]) => e);
    if (!res || failed) throw unavailable(what, failed?.[0] ?? new Error('pipeline aborted'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

// KEYS[1] name key; ARGV: tombstone JSON, ttl ms, uid. Replaces the name key unless a different live object owns it.
const TOMBSTONE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, o = pcall(cjson.decode, cur)
  if ok and type(o) == 'table' and o.uid and o.uid ~= ARGV[3] and o.deletedAt == nil and o.notFound == nil then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
`;
