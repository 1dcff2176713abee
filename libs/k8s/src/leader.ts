// Leader election over a coordination.k8s.io/v1 Lease, following client-go tools/leaderelection (K3):
// - a candidate GETs the Lease (POST if missing) and takes it over only when the record it observed has not changed
//   for leaseDuration, measured on the LOCAL clock from when it last saw the record change (no clock-skew trust);
// - the leader renews every retryPeriod with a PUT carrying the resourceVersion it holds (409 = someone else wrote);
// - fencing: a leader that has not renewed for renewDeadline stops leading at once (its signal aborts), which is
//   before any other candidate can consider the lease expired (renewDeadline < leaseDuration);
// - a clean shutdown releases the Lease (holderIdentity "" and leaseDurationSeconds 1) so a standby takes over fast.
import os from 'node:os';
import type { KubeClient } from './client.ts';
import { type Clock, systemClock } from './clock.ts';
import { KubeApiError } from './errors.ts';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Default: $POD_NAME, else `<hostname>_<pid>`. */
  identity?: string;
  /** Default 15 000 ms. */
  leaseDurationMs?: number;
  /** Default 10 000 ms. Must be < leaseDuration. */
  renewDeadlineMs?: number;
  /** Default 2 000 ms. Must be < renewDeadline / 1.2. */
  retryPeriodMs?: number;
  /** Timeout of one Lease request; default renewDeadline / 2. */
  requestTimeoutMs?: number;
  /** Runs while leading; the signal aborts the moment leadership is lost or the elector stops. */
  onStartedLeading: (signal: AbortSignal) => Promise<void> | void;
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to us). */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  random?: () => number;
  logger?: LeaderElectorLogger;
}

export function defaultIdentity(env: Record<string, string | undefined> = process.env): string {
  return env.POD_NAME || `${os.hostname()}_${process.pid}`;
}

/** MicroTime: RFC 3339 with exactly 6 fractional digits (E3); the API rejects other precisions. */
export function microTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-05-01T12:00:00.123Z
  return `${iso.slice(0, 23)}000Z`;
}

const noopLogger: LeaderElectorLogger = { info() {}, warn() {}, debug() {} };

export class LeaderElector {
  readonly identity: string;
  readonly #o: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: LeaderElectorLogger;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  #observed: Lease | undefined;
  #observedRaw = '';
  #observedTime = 0;
  #leading = false;
  #renewedAt = 0;
  #lastContact = 0;
  #transitions = 0;
  #leader: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.#o = opts;
    this.identity = opts.identity ?? defaultIdentity();
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#log = opts.logger ?? noopLogger;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs)
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= 1.2 * this.retryPeriodMs)
      throw new Error('renewDeadline must exceed 1.2 x retryPeriod');
  }

  get isLeader(): boolean {
    return this.#leading;
  }
  /** The holder we last observed (may be us), or undefined. */
  get leader(): string | undefined {
    return this.#leader;
  }
  /** How many times this elector became leader. */
  get transitions(): number {
    return this.#transitions;
  }
  /** Local time of the last successful contact with the Lease (any GET/PUT/POST that answered). */
  get lastContact(): number {
    return this.#lastContact;
  }

  #path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#o.namespace)}/leases`;
    return name ? `${base}/${encodeURIComponent(name)}` : base;
  }

  #timeout(): number {
    return this.#o.requestTimeoutMs ?? Math.max(500, this.renewDeadlineMs / 2);
  }

  #setLeader(id: string): void {
    if (id !== this.#leader) {
      this.#leader = id;
      if (id) this.#o.onNewLeader?.(id);
    }
  }

  /** One attempt of client-go's tryAcquireOrRenew. True when we hold the lease afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = this.#clock.now();
    const ldSec = Math.ceil(this.leaseDurationMs / 1000);
    const desired: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: ldSec,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    // Fast path: we are the leader and our cached record is still valid: PUT from the cache.
    if (this.#leading && this.#observed && this.#observedTime + this.leaseDurationMs > now) {
      const spec = this.#observed.spec ?? {};
      const upd: Lease = {
        ...this.#observed,
        spec: {
          ...desired,
          acquireTime: spec.acquireTime ?? desired.acquireTime,
          leaseTransitions: spec.leaseTransitions ?? 0,
        },
      };
      try {
        const res = await this.#o.client.request<Lease>('PUT', this.#path(this.#o.name), {
          body: upd,
          signal,
          timeoutMs: this.#timeout(),
        });
        this.#observe(res.body, now);
        return true;
      } catch (err) {
        this.#log.debug({ err: (err as Error).message }, 'lease fast-path renew failed; re-reading');
      }
    }
    let current: Lease;
    try {
      const res = await this.#o.client.request<Lease>('GET', this.#path(this.#o.name), {
        signal,
        timeoutMs: this.#timeout(),
      });
      current = res.body;
      this.#lastContact = this.#clock.now();
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) {
        this.#lastContact = this.#clock.now();
        try {
          const res = await this.#o.client.request<Lease>('POST', this.#path(), {
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name: this.#o.name, namespace: this.#o.namespace },
              spec: desired,
            },
            signal,
            timeoutMs: this.#timeout(),
          });
          this.#observe(res.body, now);
          return true;
        } catch (e) {
          this.#log.debug({ err: (e as Error).message }, 'lease create failed');
          return false;
        }
      }
      this.#log.debug({ err: (err as Error).message }, 'lease get failed');
      return false;
    }
    const raw = JSON.stringify(current.spec ?? {});
    if (raw !== this.#observedRaw) {
      this.#observed = current;
      this.#observedRaw = raw;
      this.#observedTime = now;
    } else {
      this.#observed = current; // keep the newest resourceVersion; validity still counts from the last change
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    this.#setLeader(holder);
    const validMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.identity && this.#observedTime + validMs > now) {
      return false; // held by someone else and not expired
    }
    if (holder === this.identity) {
      desired.acquireTime = spec.acquireTime ?? desired.acquireTime;
      desired.leaseTransitions = spec.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      const res = await this.#o.client.request<Lease>('PUT', this.#path(this.#o.name), {
        body: { ...current, spec: desired },
        signal,
        timeoutMs: this.#timeout(),
      });
      this.#observe(res.body, now);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) this.#log.debug({}, 'lease update conflict (409)');
      else this.#log.debug({ err: (err as Error).message }, 'lease update failed');
      return false;
    }
  }

  #observe(lease: Lease, at: number): void {
    this.#observed = lease;
    this.#observedRaw = JSON.stringify(lease.spec ?? {});
    this.#observedTime = at;
    this.#lastContact = this.#clock.now();
    this.#setLeader(lease.spec?.holderIdentity ?? '');
  }

  #jitter(ms: number): number {
    return ms * (1 + this.#random() * 0.2); // client-go JitterFactor 1.2
  }

  /** Campaigns, leads, and goes back to campaigning after losing the lease, until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Acquire.
      let acquired = false;
      let sentAt = 0;
      while (!signal.aborted && !acquired) {
        sentAt = this.#clock.now();
        acquired = await this.tryAcquireOrRenew(signal).catch(() => false);
        if (!acquired) await this.#sleep(this.#jitter(this.retryPeriodMs), signal);
      }
      if (signal.aborted) break;
      await this.#lead(signal, sentAt);
    }
  }

  async #sleep(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await this.#clock.sleep(ms, signal);
    } catch {
      // aborted
    }
  }

  /** `acquiredAt`: when the successful acquire request was sent (not when its answer arrived). */
  async #lead(signal: AbortSignal, acquiredAt: number): Promise<void> {
    this.#leading = true;
    this.#transitions++;
    // As client-go, the renew deadline counts from before the request: other candidates may have seen the write
    // any time after it was sent, so a slow response must not extend how long we believe we hold the lease.
    this.#renewedAt = acquiredAt;
    const leadAc = new AbortController();
    const leadSignal = AbortSignal.any([signal, leadAc.signal]);
    this.#log.info({ identity: this.identity, lease: `${this.#o.namespace}/${this.#o.name}` }, 'became leader');
    let stopReason = '';
    const stopLeading = (why: string): void => {
      if (leadAc.signal.aborted) return;
      stopReason = why;
      this.#leading = false;
      leadAc.abort(new Error(why));
    };
    // Watchdog: fence the moment renewDeadline passes without a successful renew.
    const watchdog = (async () => {
      while (!leadSignal.aborted) {
        const remaining = this.#renewedAt + this.renewDeadlineMs - this.#clock.now();
        if (remaining <= 0) {
          this.#log.warn({ identity: this.identity }, 'lease not renewed within the renew deadline; stopping leading');
          stopLeading('renew deadline exceeded');
          return;
        }
        await this.#sleep(remaining, leadSignal);
      }
    })();
    // Renew loop.
    const renewer = (async () => {
      while (!leadSignal.aborted) {
        await this.#sleep(this.retryPeriodMs, leadSignal);
        if (leadSignal.aborted) return;
        const sentAt = this.#clock.now();
        const ok = await this.tryAcquireOrRenew(leadSignal).catch(() => false);
        if (leadSignal.aborted) return;
        if (ok && this.#leader === this.identity) this.#renewedAt = Math.max(this.#renewedAt, sentAt);
        else if (this.#leader && this.#leader !== this.identity) {
          this.#log.warn({ holder: this.#leader }, 'lease taken by another holder; stopping leading');
          stopLeading('lease lost');
          return;
        }
      }
    })();
    let work: Promise<void>;
    try {
      work = Promise.resolve(this.#o.onStartedLeading(leadSignal));
    } catch (err) {
      work = Promise.reject(err);
    }
    const workDone = work.then(
      () => undefined,
      (err: unknown) => {
        this.#log.warn({ err: (err as Error)?.message }, 'leader work failed');
      },
    );
    // The leader's work ending on its own also ends leadership (and the lease is released below).
    await Promise.race([
      workDone,
      new Promise<void>((r) => leadSignal.addEventListener('abort', () => r(), { once: true })),
    ]);
    stopLeading('stopped');
    await Promise.allSettled([watchdog, renewer, workDone]);
    this.#leading = false;
    this.#o.onStoppedLeading?.();
    this.#log.info({ identity: this.identity }, 'stopped leading');
    // Release on a clean stop; not after fencing or losing the lease (we no longer hold it, or cannot reach it).
    if (stopReason === 'stopped') await this.release();
  }

  /**
   * Gives the lease up if we hold it: holderIdentity "" and leaseDurationSeconds 1 (client-go ReleaseOnCancel).
   * A renew aborted in flight may have landed after all, so a 409 re-reads the lease and tries again.
   */
  async release(): Promise<boolean> {
    let current = this.#observed;
    for (let attempt = 0; attempt < 3 && current; attempt++) {
      const spec = current.spec ?? {};
      if ((spec.holderIdentity ?? '') !== this.identity) return false;
      const now = this.#clock.now();
      try {
        const res = await this.#o.client.request<Lease>('PUT', this.#path(this.#o.name), {
          body: {
            ...current,
            spec: {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: spec.leaseTransitions ?? 0,
            },
          },
          timeoutMs: this.#timeout(),
        });
        this.#observe(res.body, now);
        this.#log.debug({ identity: this.identity }, 'released the lease');
        return true;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 409)) {
          this.#log.warn({ err: (err as Error).message }, 'lease release failed');
          return false;
        }
        try {
          current = (
            await this.#o.client.request<Lease>('GET', this.#path(this.#o.name), { timeoutMs: this.#timeout() })
          ).body;
        } catch (e) {
          this.#log.warn({ err: (e as Error).message }, 'lease release failed');
          return false;
        }
      }
    }
    return false;
  }
}
