// ListWatcher: list, then watch from the list's resourceVersion, for ever. The reflector loop of client-go without
// its object store, and without client-node's informer flaws (C4: it stops after any non-410 error; C8: half-open
// connections are never noticed). It yields what it sees; the caller publishes and checkpoints.

import type { KubeClient } from './client.ts';
import { type BackoffOptions, backoffDelay, type Clock, systemClock } from './clock.ts';
import { KubeApiError } from './errors.ts';
import { currentResourceVersion, paginatedList } from './list.ts';
import { compareResourceVersion } from './rv.ts';
import { type WatchFrame, watch } from './watch.ts';

/** Why a (re)list happens. */
export type ListReason = 'initial' | 'expired' | 'silent-close';

export type ListWatchItem =
  | { kind: 'list-start'; reason: ListReason }
  /** One page of the list; `restarted` means the pass restarted after an expired continue token. */
  | { kind: 'list-page'; items: Record<string, unknown>[]; resourceVersion: string; restarted: boolean }
  /**
   * The list is complete: every object in the collection at `resourceVersion` has been yielded. After a relist that
   * bridged lost continuity, `gap` says which window could only be recovered as current state (absent when the
   * window is empty: the list RV is not newer than the last RV seen).
   */
  | { kind: 'list-end'; resourceVersion: string; reason: ListReason; gap?: Gap }
  | { kind: 'event'; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: WatchFrame['object']; resourceVersion: string }
  /** Everything up to `resourceVersion` has been delivered. */
  | { kind: 'bookmark'; resourceVersion: string };

/**
 * Continuity was lost between two resourceVersions: changes in (fromResourceVersion, toResourceVersion] were
 * recovered only as the current state the relist returned; intermediate states and objects deleted in between
 * are not recoverable.
 */
export interface Gap {
  fromResourceVersion: string;
  toResourceVersion: string;
  /** Epoch ms of the last frame before continuity was lost (or of the resume point). */
  fromTime: number;
  /** Epoch ms when the relist completed. */
  toTime: number;
  reason: Exclude<ListReason, 'initial'>;
}

export interface ListWatcherLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ListWatcherOptions {
  client: KubeClient;
  /** Collection path, e.g. /api/v1/events or /apis/events.k8s.io/v1/namespaces/ns/events. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** LIST page size; default 500. */
  pageSize?: number;
  /** Resume: watch from this RV without listing first; if it is too old, relist and yield a gap from it. */
  resumeFrom?: { resourceVersion: string; time: number };
  /** Ask for BOOKMARK frames; default true. */
  allowWatchBookmarks?: boolean;
  /** Server-side watch timeout in s (the watch is re-opened from the last RV after it); default 300, jittered ±10%. */
  watchTimeoutSeconds?: number;
  /**
   * Without frames for this long while the API's RV moved on, the watch is considered dead and restarted; 90 s.
   * A server that sends bookmarks (kube-apiserver: about one a minute on a quiet watch that asked) never leaves a
   * live watch this quiet, so the restart is the fallback for servers that send none, logged at debug.
   */
  stallAfterMs?: number;
  /** How often to check for a stalled watch; default 15 s. */
  stallCheckIntervalMs?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  random?: () => number;
  logger?: ListWatcherLogger;
}

export interface ListWatcherProgress {
  state: 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';
  /** RV of the last frame, page or bookmark seen. */
  resourceVersion: string | undefined;
  /** Last time anything arrived from the API (page, frame) or a probe confirmed the watch is current. */
  lastProgressAt: number;
  relists: number;
  watchRestarts: number;
  gaps: number;
  consecutiveErrors: number;
  lastError: string | undefined;
}

const noopLogger: ListWatcherLogger = { debug() {}, info() {}, warn() {} };

export class ListWatcher {
  readonly #o: ListWatcherOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: ListWatcherLogger;
  readonly progress: ListWatcherProgress;

  constructor(opts: ListWatcherOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#log = opts.logger ?? noopLogger;
    this.progress = {
      state: 'idle',
      resourceVersion: opts.resumeFrom?.resourceVersion,
      lastProgressAt: this.#clock.now(),
      relists: 0,
      watchRestarts: 0,
      gaps: 0,
      consecutiveErrors: 0,
      lastError: undefined,
    };
  }

  /** Milliseconds since the last progress. */
  idleMs(): number {
    return this.#clock.now() - this.progress.lastProgressAt;
  }

  async #backoff(signal: AbortSignal, err: unknown): Promise<void> {
    const p = this.progress;
    p.lastError = (err as Error)?.message ?? String(err);
    const delay = backoffDelay(p.consecutiveErrors, this.#o.backoff, this.#random);
    p.consecutiveErrors++;
    p.state = 'backoff';
    this.#log.warn(
      { err: p.lastError, delayMs: delay, attempt: p.consecutiveErrors },
      'list/watch failed; backing off',
    );
    try {
      await this.#clock.sleep(delay, signal);
    } catch {
      // aborted: the loop sees the signal
    }
  }

  /** Runs until the signal aborts. Never ends on its own and never throws for API or network errors. */
  async *run(signal: AbortSignal): AsyncGenerator<ListWatchItem> {
    const o = this.#o;
    const p = this.progress;
    const clock = this.#clock;
    let rv = o.resumeFrom?.resourceVersion;
    let needList: ListReason | undefined = rv ? undefined : 'initial';
    // Where continuity was last known good, if a relist has to bridge from there.
    let gapFrom: { resourceVersion: string; time: number; reason: Exclude<ListReason, 'initial'> } | undefined;
    let lastFrameAt = o.resumeFrom?.time ?? clock.now();
    const touch = (): void => {
      p.lastProgressAt = clock.now();
    };
    try {
      while (!signal.aborted) {
        if (needList) {
          const reason: ListReason = needList;
          p.state = 'listing';
          yield { kind: 'list-start', reason };
          let listRV = '';
          try {
            for await (const page of paginatedList(o.client, o.path, {
              limit: o.pageSize ?? 500,
              labelSelector: o.labelSelector,
              fieldSelector: o.fieldSelector,
              signal,
            })) {
              touch();
              listRV = page.resourceVersion;
              yield {
                kind: 'list-page',
                items: page.items,
                resourceVersion: page.resourceVersion,
                restarted: page.restarted,
              };
            }
          } catch (err) {
            if (signal.aborted) return;
            await this.#backoff(signal, err);
            continue;
          }
          p.consecutiveErrors = 0;
          if (reason !== 'initial') p.relists++;
          let gap: Gap | undefined;
          if (gapFrom && compareResourceVersion(listRV, gapFrom.resourceVersion) > 0) {
            p.gaps++;
            gap = {
              fromResourceVersion: gapFrom.resourceVersion,
              toResourceVersion: listRV,
              fromTime: gapFrom.time,
              toTime: clock.now(),
              reason: gapFrom.reason,
            };
          }
          gapFrom = undefined;
          yield gap
            ? { kind: 'list-end', resourceVersion: listRV, reason, gap }
            : { kind: 'list-end', resourceVersion: listRV, reason };
          rv = listRV;
          p.resourceVersion = rv;
          lastFrameAt = clock.now();
          needList = undefined;
        }

        // WATCH from rv.
        p.state = 'watching';
        const startedAt = clock.now();
        const baseTimeout = o.watchTimeoutSeconds ?? 300;
        const timeoutSeconds = Math.max(1, Math.round(baseTimeout * (0.9 + this.#random() * 0.2)));
        const watchAc = new AbortController();
        const watchSignal = AbortSignal.any([signal, watchAc.signal]);
        let frames = 0;
        let expired = false;
        let stalled = false;
        let awaitingConsumer = false;
        const stallAfter = o.stallAfterMs ?? 90_000;
        let probing = false;
        const stallTimer = setInterval(() => {
          if (awaitingConsumer || probing || watchSignal.aborted) return;
          if (clock.now() - lastFrameAt < stallAfter) return;
          probing = true;
          // Quiet for a while: is the API ahead of us? A cheap one-item LIST tells the current RV.
          currentResourceVersion(o.client, o.path, { signal: watchSignal })
            .then((apiRV) => {
              if (rv !== undefined && compareResourceVersion(apiRV, rv) > 0) {
                // The fallback for servers that send no bookmarks: normal behaviour, not a warning.
                this.#log.debug(
                  { resourceVersion: rv, apiResourceVersion: apiRV },
                  'watch quiet while API moved on; restarting it',
                );
                stalled = true;
                watchAc.abort(new Error('watch stalled'));
              } else {
                lastFrameAt = clock.now();
                touch();
              }
            })
            .catch((err: unknown) => {
              if (watchSignal.aborted) return;
              this.#log.warn({ err: (err as Error).message }, 'stall probe failed; restarting the watch');
              stalled = true;
              watchAc.abort(new Error('stall probe failed'));
            })
            .finally(() => {
              probing = false;
            });
        }, o.stallCheckIntervalMs ?? 15_000);
        stallTimer.unref();
        try {
          for await (const frame of watch(o.client, o.path, {
            resourceVersion: rv,
            allowWatchBookmarks: o.allowWatchBookmarks ?? true,
            timeoutSeconds,
            labelSelector: o.labelSelector,
            fieldSelector: o.fieldSelector,
            signal: watchSignal,
          })) {
            frames++;
            lastFrameAt = clock.now();
            touch();
            if (frame.type === 'ERROR') {
              const code = Number((frame.object as { code?: unknown }).code);
              if (code === 410) {
                expired = true;
                break;
              }
              throw new KubeApiError(`watch ERROR frame: ${JSON.stringify(frame.object).slice(0, 300)}`, {
                code: Number.isFinite(code) ? code : 500,
                status: frame.object,
              });
            }
            const frv = frame.object.metadata?.resourceVersion;
            if (typeof frv !== 'string' || frv === '') continue; // nothing to resume from; skip
            p.consecutiveErrors = 0;
            awaitingConsumer = true;
            if (frame.type === 'BOOKMARK') {
              rv = frv;
              p.resourceVersion = rv;
              yield { kind: 'bookmark', resourceVersion: frv };
            } else if (frame.type === 'ADDED' || frame.type === 'MODIFIED' || frame.type === 'DELETED') {
              rv = frv;
              p.resourceVersion = rv;
              yield { kind: 'event', type: frame.type, object: frame.object, resourceVersion: frv };
            }
            awaitingConsumer = false;
            lastFrameAt = clock.now();
          }
          // The stream ended cleanly (or we broke out on ERROR 410).
          if (expired) {
            this.#log.warn({ resourceVersion: rv }, 'watch expired (ERROR 410); relisting');
            needList = 'expired';
            gapFrom = { resourceVersion: rv ?? '0', time: lastFrameAt, reason: 'expired' };
            continue;
          }
          p.watchRestarts++;
          const early = clock.now() - startedAt < (timeoutSeconds * 1000) / 2;
          if (frames === 0 && early && rv !== undefined) {
            // An empty, early close: a server that compacted our RV may close without ERROR 410
            // (kubernetes PR #137307). An exact one-item LIST at our RV answers 410 when it is compacted.
            try {
              await currentResourceVersion(o.client, o.path, { signal, resourceVersion: rv });
            } catch (err) {
              if (err instanceof KubeApiError && err.code === 410) {
                this.#log.warn({ resourceVersion: rv }, 'watch closed silently and its RV is compacted; relisting');
                needList = 'silent-close';
                gapFrom = { resourceVersion: rv, time: lastFrameAt, reason: 'silent-close' };
                continue;
              }
              if (signal.aborted) return;
              await this.#backoff(signal, err);
              continue;
            }
            // RV still valid: the server just closed early. Back off so a misbehaving server is not hammered.
            await this.#backoff(signal, new Error('watch closed early without frames'));
          }
        } catch (err) {
          if (signal.aborted) return;
          p.watchRestarts++;
          if (stalled) continue; // rewatch at once from rv
          if (err instanceof KubeApiError && err.code === 410) {
            this.#log.warn({ resourceVersion: rv }, 'watch answered HTTP 410; relisting');
            needList = 'expired';
            gapFrom = { resourceVersion: rv ?? '0', time: lastFrameAt, reason: 'expired' };
            continue;
          }
          await this.#backoff(signal, err);
        } finally {
          clearInterval(stallTimer);
          watchAc.abort();
        }
      }
    } finally {
      p.state = 'stopped';
    }
  }
}
