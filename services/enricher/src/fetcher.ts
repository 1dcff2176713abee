// Cache-miss GETs: single-flight per object (concurrent misses for one object share one request) and a token
// bucket (QPS, burst) so a burst of unknown objects can never flood the API server the way per-event GETs do.
import { kindInfo, objectPath } from '@kec/cache';
import { KubeApiError, type KubeClient } from '@kec/k8s';

export type FetchResult =
  | { result: 'found'; object: Record<string, unknown> }
  | { result: 'not-found' }
  | { result: 'rate-limited' }
  | { result: 'error'; error: string };

export interface FetcherOptions {
  client: KubeClient;
  qps: number;
  burst: number;
  /** Longest wait for a token; beyond it the GET is skipped. */
  maxWaitMs: number;
  now?: () => number;
  onGet?: (kind: string, result: FetchResult['result']) => void;
}

/** A token bucket that reserves future tokens (like Go's rate.Limiter.Reserve). */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  constructor(qps: number, burst: number, now: () => number = Date.now) {
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }
  /** Takes a token: resolves true (after waiting when needed) or false when it would wait longer than maxWaitMs. */
  reserve(maxWaitMs: number): number | undefined {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
    const after = this.#tokens - 1;
    const delay = after >= 0 ? 0 : (-after * 1000) / this.#qps;
    if (delay > maxWaitMs) return undefined;
    this.#tokens = after;
    return delay;
  }
}

export class Fetcher {
  readonly #o: FetcherOptions;
  readonly #bucket: TokenBucket;
  readonly #inflight = new Map<string, Promise<FetchResult>>();
  /** GETs actually sent. */
  sent = 0;

  constructor(opts: FetcherOptions) {
    this.#o = opts;
    this.#bucket = new TokenBucket(opts.qps, opts.burst, opts.now);
  }

  fetch(kind: string, namespace: string, name: string, signal?: AbortSignal): Promise<FetchResult> {
    const info = kindInfo(kind);
    if (!info) return Promise.resolve({ result: 'error', error: `unsupported kind ${kind}` });
    const path = objectPath(info, namespace, name);
    let p = this.#inflight.get(path);
    if (!p) {
      p = this.#get(kind, path, signal).finally(() => this.#inflight.delete(path));
      this.#inflight.set(path, p);
    }
    return p;
  }

  async #get(kind: string, path: string, signal?: AbortSignal): Promise<FetchResult> {
    const delay = this.#bucket.reserve(this.#o.maxWaitMs);
    if (delay === undefined) {
      this.#o.onGet?.(kind, 'rate-limited');
      return { result: 'rate-limited' };
    }
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    this.sent++;
    let res: FetchResult;
    try {
      const { body } = await this.#o.client.request<Record<string, unknown>>('GET', path, {
        signal,
        timeoutMs: 10_000,
      });
      res = { result: 'found', object: body };
    } catch (err) {
      res =
        err instanceof KubeApiError && err.code === 404
          ? { result: 'not-found' }
          : { result: 'error', error: (err as Error).message };
    }
    this.#o.onGet?.(kind, res.result);
    return res;
  }
}
