// The watcher's leader loop: list/watch Events, normalize, filter, publish with an idempotent id, checkpoint the
// contiguous acked prefix, and publish gap records. Only the Lease holder runs it (see index.ts).
import { type Bus, type DeadLetterReason, DLQ_HEADERS, type KV, MAX_MSG_SIZE, PublishError, Publisher } from '@kec/bus';
import {
  backoffDelay,
  type Gap,
  type KubeClient,
  ListWatcher,
  type ListWatchItem,
  ResourceVersionTracker,
  type TrackerToken,
} from '@kec/k8s';
import {
  eventMsgId,
  GAP_SCHEMA,
  type GapRecord,
  gapMsgId,
  type KecEvent,
  type KecWatchType,
  normalizeEvent,
} from '@kec/model';
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { CheckpointStore } from './checkpoint.ts';
import type { WatcherConfig } from './config.ts';
import type { EventFilter } from './filter.ts';

/** Dead letters larger than this carry a truncated copy of the object (the whole one may be what did not fit). */
const DLQ_FULL_LIMIT = MAX_MSG_SIZE - 16 * 1024;
const DLQ_TRUNCATED_CHARS = 64 * 1024;

function headerText(s: string, max = 1024): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, max);
}

const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface WatcherDeps {
  cfg: WatcherConfig;
  cluster: string;
  identity: string;
  bus: Bus;
  kv: KV;
  kube: KubeClient;
  filter: EventFilter;
  logger: Logger;
  meter: Meter;
}

/**
 * The bound on observations between read and ack, which the acked-prefix checkpoint needs. Not the Publisher's
 * window: that one holds a slot only while one publish attempt awaits its ack and frees it during retry backoff,
 * and its acquire cannot be aborted. This one is held from the first attempt until the ack (so a JetStream outage
 * stops the list/watch loop instead of piling up pending observations), its acquire returns false at once when
 * the lease is lost (fencing: no new publish starts), and idle() is bounded on stop. Sized like the Publisher's, so
 * the Publisher's slots never add a second wait for event publishes.
 */
class Window {
  #inFlight = 0;
  #waiters: Array<() => void> = [];
  readonly #size: number;
  constructor(size: number) {
    this.#size = size;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (this.#inFlight >= this.#size) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted) return false;
    this.#inFlight++;
    return true;
  }
  release(): void {
    this.#inFlight--;
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
  /** Resolves when nothing is in flight (or after ms). */
  async idle(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.#inFlight > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now())));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.#inFlight === 0;
  }
}

interface Instruments {
  published: Counter;
  filtered: Counter;
  invalid: Counter;
  deadLettered: Counter;
  publishFailures: Counter;
  relists: Counter;
  gaps: Counter;
  lag: Histogram;
  publishLatency: Histogram;
}

export class Watcher {
  readonly #d: WatcherDeps;
  readonly #log: Logger;
  readonly #m: Instruments;
  readonly publisher: Publisher;
  readonly checkpoints: CheckpointStore;
  #lw: ListWatcher | undefined;
  #window: Window | undefined;
  #leading = false;
  #lastAckAt = Date.now();
  #initialListDone = false;
  /** Watch restarts of earlier leader terms (the current term's are in the ListWatcher's progress). */
  #restartsBefore = 0;
  /** Totals for this process (also exported as metrics). */
  readonly stats = {
    published: 0,
    listed: 0,
    gaps: 0,
    relists: 0,
    filtered: 0,
    invalid: 0,
    failed: 0,
    deadLettered: 0,
  };

  constructor(d: WatcherDeps) {
    this.#d = d;
    this.#log = d.logger;
    this.publisher = new Publisher(d.bus, { window: d.cfg.publishWindow });
    this.checkpoints = new CheckpointStore(d.kv, d.cluster, d.identity, d.logger, d.cfg.checkpointIntervalMs);
    const m = d.meter;
    this.#m = {
      published: m.createCounter('kec_watcher_events_published_total', {
        description: 'Event observations published to KEC_RAW (acked), by watch_type',
      }),
      filtered: m.createCounter('kec_watcher_events_filtered_total', { description: 'Events dropped by filters' }),
      invalid: m.createCounter('kec_watcher_events_invalid_total', {
        description: 'Objects that failed normalization (dead-lettered to <root>.dlq.watcher)',
      }),
      deadLettered: m.createCounter('kec_watcher_dead_letters_total', {
        description: 'Objects published to <root>.dlq.watcher (acked), by reason: poison (normalization) | rejected',
      }),
      publishFailures: m.createCounter('kec_watcher_publish_failures_total', {
        description: 'Publish attempts that failed, by retryable',
      }),
      relists: m.createCounter('kec_watcher_relists_total', { description: 'LISTs after the initial one, by reason' }),
      gaps: m.createCounter('kec_watcher_gaps_total', { description: 'Gap records published, by reason' }),
      lag: m.createHistogram('kec_watcher_event_lag_seconds', {
        description: 'now - lastTimestamp of watched (ADDED/MODIFIED) events when published',
        unit: 's',
        advice: { explicitBucketBoundaries: LAG_BUCKETS },
      }),
      publishLatency: m.createHistogram('kec_watcher_publish_duration_seconds', {
        description: 'Publish to JetStream ack, including retries',
        unit: 's',
        advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
      }),
    };
    m.createObservableCounter('kec_watcher_watch_restarts_total', {
      description: 'Watches re-opened (server timeout, error, stall)',
    }).addCallback((r) => r.observe(this.watchRestarts));
  }

  /** Watches re-opened by this process (timeouts, errors, stalls). */
  get watchRestarts(): number {
    return this.#restartsBefore + (this.#lw?.progress.watchRestarts ?? 0);
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Liveness: undefined when healthy. */
  health(): string | undefined {
    if (!this.#leading || !this.#lw) return undefined;
    const stuck = this.#d.cfg.stuckAfterMs;
    const idle = Math.min(this.#lw.idleMs(), Date.now() - this.#lastAckAt);
    if (idle > stuck) return `leader loop made no progress for ${Math.round(idle / 1000)} s`;
    if ((this.#window?.inFlight ?? 0) > 0 && Date.now() - this.#lastAckAt > stuck) {
      return `publishes not acked for ${Math.round((Date.now() - this.#lastAckAt) / 1000)} s`;
    }
    return undefined;
  }

  /** Readiness of the leader part: undefined when ready. */
  readiness(): string | undefined {
    return this.health();
  }

  /** Progress of the current list/watch (undefined when not leading). */
  get progress() {
    return this.#lw?.progress;
  }

  get initialListDone(): boolean {
    return this.#initialListDone;
  }

  /** Runs while leading. Returns when the signal aborts (lost lease or shutdown), after draining in-flight acks. */
  async lead(signal: AbortSignal): Promise<void> {
    const { cfg, filter } = this.#d;
    this.#leading = true;
    this.#lastAckAt = Date.now();
    const window = new Window(cfg.publishWindow);
    this.#window = window;
    let cp: Awaited<ReturnType<CheckpointStore['read']>>;
    for (let attempt = 0; ; attempt++) {
      try {
        cp = await this.checkpoints.read();
        break;
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'cannot read the checkpoint; retrying');
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 5000 }), signal);
        if (signal.aborted) return this.#stopLeading();
      }
    }
    this.#log.debug(
      { checkpoint: cp?.resourceVersion, path: filter.path, fieldSelector: filter.fieldSelector },
      'leading: starting list/watch',
    );
    const tracker = new ResourceVersionTracker(cp?.resourceVersion);
    const lw = new ListWatcher({
      client: this.#d.kube,
      path: filter.path,
      fieldSelector: filter.fieldSelector || undefined,
      pageSize: cfg.pageSize,
      resumeFrom: cp ? { resourceVersion: cp.resourceVersion, time: cp.time } : undefined,
      watchTimeoutSeconds: cfg.watchTimeoutSeconds,
      stallAfterMs: cfg.stallAfterMs,
      stallCheckIntervalMs: Math.max(1000, Math.min(15_000, Math.round(cfg.stallAfterMs / 4))),
      logger: this.#log,
    });
    this.#lw = lw;
    const onDone = (token: TrackerToken): void => {
      const c = tracker.done(token);
      if (c !== undefined) this.checkpoints.offer(c);
    };
    const handle = async (obj: Record<string, unknown>, watchType: KecWatchType, trackRV: string): Promise<void> => {
      const token = tracker.add(trackRV);
      let ev: KecEvent;
      try {
        ev = normalizeEvent(obj, { cluster: this.#d.cluster, watchType });
      } catch (err) {
        this.stats.invalid++;
        this.#m.invalid.add(1);
        this.#log.warn(
          { err: (err as Error).message, resourceVersion: trackRV },
          'cannot normalize object; dead-lettered',
        );
        // The checkpoint moves past the object only once the dead letter is stored.
        if (await this.#deadLetter(obj, 'poison', err, watchType, signal)) onDone(token);
        return;
      }
      if (!filter.accept(ev)) {
        this.stats.filtered++;
        this.#m.filtered.add(1);
        onDone(token);
        return;
      }
      if (!(await window.acquire(signal))) return; // fenced or stopping: no further publish
      const started = performance.now();
      void this.#publishWithRetry(ev, signal).then(
        (ok) => {
          window.release();
          if (!ok) return; // aborted before an ack: not done, the checkpoint stays behind it
          this.#lastAckAt = Date.now();
          this.stats.published++;
          if (watchType === 'LISTED') this.stats.listed++;
          this.#m.published.add(1, { watch_type: watchType });
          this.#m.publishLatency.record((performance.now() - started) / 1000);
          if (watchType === 'ADDED' || watchType === 'MODIFIED') {
            const t = Date.parse(ev.lastTimestamp);
            if (Number.isFinite(t)) this.#m.lag.record(Math.max(0, (Date.now() - t) / 1000));
          }
          onDone(token);
        },
        async (err: unknown) => {
          window.release();
          // Not retryable (e.g. larger than max_msg_size): dead-lettered and counted, so the loop goes on and the
          // checkpoint only moves past an object that went somewhere.
          this.stats.failed++;
          this.#log.error(
            { err: (err as Error).message, uid: ev.uid, resourceVersion: ev.resourceVersion },
            'publish failed for good; dead-lettered',
          );
          if (await this.#deadLetter(ev, 'rejected', err, watchType, signal)) onDone(token);
        },
      );
    };

    try {
      for await (const item of lw.run(signal) as AsyncGenerator<ListWatchItem>) {
        if (signal.aborted) break;
        switch (item.kind) {
          case 'list-start':
            tracker.beginList();
            this.#log.debug({ reason: item.reason }, 'listing events');
            break;
          case 'list-page':
            for (const obj of item.items) {
              await handle(obj, 'LISTED', item.resourceVersion);
              if (signal.aborted) break;
            }
            break;
          case 'list-end': {
            this.#log.info(
              { reason: item.reason, resourceVersion: item.resourceVersion, gap: item.gap !== undefined },
              'list complete; watching',
            );
            if (item.reason !== 'initial') {
              this.stats.relists++;
              this.#m.relists.add(1, { reason: item.reason });
            }
            // The checkpoint stays behind the gap until the gap record is stored: a crash must not lose it.
            if (item.gap) await this.#publishGap(item.gap, signal);
            if (signal.aborted) break;
            this.#initialListDone = true;
            const c = tracker.complete(item.resourceVersion);
            if (c !== undefined) this.checkpoints.offer(c);
            break;
          }
          case 'event':
            await handle(item.object, item.type, item.resourceVersion);
            break;
          case 'bookmark': {
            const c = tracker.complete(item.resourceVersion);
            if (c !== undefined) this.checkpoints.offer(c);
            break;
          }
        }
      }
    } finally {
      // Let what was sent be acked (bounded), then store the checkpoint it allows.
      await window.idle(5_000);
      try {
        await this.checkpoints.flush();
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'final checkpoint write failed');
      }
      this.#stopLeading();
    }
  }

  #stopLeading(): void {
    this.#restartsBefore += this.#lw?.progress.watchRestarts ?? 0;
    this.#leading = false;
    this.#lw = undefined;
    this.#window = undefined;
  }

  /** Publishes until acked; false when the signal aborted first. Rejects only for errors retrying cannot fix. */
  async #publishWithRetry(ev: KecEvent, signal: AbortSignal): Promise<boolean> {
    const subject = this.#d.bus.subjects.raw(this.#d.cluster, ev.namespace, ev.regarding.kind || 'Unknown');
    const msgId = eventMsgId(this.#d.cluster, ev.uid, ev.resourceVersion);
    const payload = JSON.stringify(ev);
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return false;
      try {
        await this.publisher.publish(subject, payload, { msgId });
        return true;
      } catch (err) {
        const retryable = !(err instanceof PublishError) || err.retryable;
        this.#m.publishFailures.add(1, { retryable: String(retryable) });
        if (!retryable) throw err;
        if (attempt % 10 === 0) this.#log.warn({ err: (err as Error).message, attempt }, 'publish failed; retrying');
        await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 5000 }), signal);
      }
    }
  }

  /**
   * Publishes `obj` (the raw object, or the normalized event a stream rejected) to `<root>.dlq.watcher` with
   * Kec-Dlq-* headers; a copy too large for a message is replaced by a truncated one. Retries retryable failures
   * until acked; false only when the signal aborted first (the caller then leaves the checkpoint behind it). A
   * permanent dead-letter failure is logged and counted and returns true, so one object cannot stall the watch.
   */
  async #deadLetter(
    obj: object,
    reason: DeadLetterReason,
    err: unknown,
    watchType: KecWatchType,
    signal: AbortSignal,
  ): Promise<boolean> {
    const meta = (obj as { metadata?: { uid?: unknown; resourceVersion?: unknown } }).metadata ?? {};
    const ev = obj as Partial<KecEvent>;
    const uid = String(ev.uid ?? meta.uid ?? 'unknown');
    const rv = String(ev.resourceVersion ?? meta.resourceVersion ?? 'unknown');
    const errText = err instanceof Error ? err.message : String(err);
    let data = JSON.stringify(obj);
    let truncated = false;
    if (Buffer.byteLength(data) > DLQ_FULL_LIMIT) {
      truncated = true;
      data = JSON.stringify({
        truncated: true,
        bytes: Buffer.byteLength(data),
        uid,
        resourceVersion: rv,
        head: data.slice(0, DLQ_TRUNCATED_CHARS),
      });
    }
    const headers: Record<string, string> = {
      [DLQ_HEADERS.subject]: this.#d.bus.subjects.raw(
        this.#d.cluster,
        String(ev.namespace ?? ''),
        String(ev.regarding?.kind || 'Unknown'),
      ),
      [DLQ_HEADERS.consumer]: 'watcher',
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: headerText(errText),
      [DLQ_HEADERS.errorName]: headerText(err instanceof Error ? err.name : typeof err, 128),
      [DLQ_HEADERS.retryable]: 'false',
      [DLQ_HEADERS.time]: new Date().toISOString(),
      'Kec-Dlq-Watch-Type': watchType,
      'Kec-Dlq-Truncated': String(truncated),
    };
    const subject = this.#d.bus.subjects.dlq('watcher');
    const msgId = `${this.#d.cluster}/watcher-dlq/${uid}/${rv}`;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.publisher.publish(subject, data, { msgId, headers });
        this.stats.deadLettered++;
        this.#m.deadLettered.add(1, { reason });
        return true;
      } catch (e) {
        if (e instanceof PublishError && !e.retryable) {
          this.#log.error({ err: e.message, uid, resourceVersion: rv }, 'dead-letter publish failed for good; dropped');
          return true;
        }
        if (attempt % 10 === 0)
          this.#log.warn({ err: (e as Error).message, attempt }, 'dead-letter publish failed; retrying');
        await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 5000 }), signal);
      }
    }
    return false;
  }

  async #publishGap(item: Gap, signal: AbortSignal): Promise<void> {
    const g: GapRecord = {
      schema: GAP_SCHEMA,
      cluster: this.#d.cluster,
      fromResourceVersion: item.fromResourceVersion,
      toResourceVersion: item.toResourceVersion,
      fromTime: new Date(item.fromTime).toISOString(),
      toTime: new Date(item.toTime).toISOString(),
      reason: item.reason,
      detectedBy: this.#d.identity,
    };
    this.#log.warn(g, 'gap: observations in this window may be missing');
    const subject = this.#d.bus.subjects.gaps(this.#d.cluster);
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.publisher.publish(subject, g, { msgId: gapMsgId(g) });
        this.stats.gaps++;
        this.#m.gaps.add(1, { reason: g.reason });
        return;
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, attempt }, 'gap publish failed; retrying');
        await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 5000 }), signal);
      }
    }
  }
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
