// Durable pull consumer loop shared by the replicas of a stage: ack after the handler, nak with backoff on a
// retryable failure, dead-letter then term on poison input or after the last delivery; drains on stop().
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import {
  type BatchObservableCallback,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Bus } from './connect.ts';
import { ConsumeError, isRetryableError, PoisonMessageError } from './errors.ts';
import { errorText, headerGetter, headerValue, instruments, Slots } from './internal.ts';
import { Publisher } from './publisher.ts';

/** What a handler sees of one message. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Parses the data as JSON; throws PoisonMessageError (not retryable: dead-lettered at once) when it is not JSON. */
  json<T = unknown>(): T;
  string(): string;
  /** Headers, first value per name (names as sent, e.g. `traceparent`, `Nats-Msg-Id`). */
  readonly headers: Readonly<Record<string, string>>;
  header(name: string): string | undefined;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly streamSequence: number;
  readonly redelivered: boolean;
  /** When the stream stored the message (ms since the epoch). */
  readonly timestampMs: number;
  /** Tells the server the handler is still working: restarts the message's ack_wait. */
  working(): void;
}

/** A batch handler may reject single messages (poison) instead of failing the whole batch. */
export interface BatchResult {
  /** Messages to dead-letter and term (e.g. rows that failed validation); every other message is acked. */
  deadLetter?: Array<{ message: BusMessage; error: unknown }>;
}

interface CommonConsumeOptions {
  bus: Bus;
  stream: string;
  /** Durable consumer name (provision it first with ensureConsumer). */
  durable: string;
  /** Dead letters go to `<root>.dlq.<stage>`. */
  dlq: { stage: string };
  /** Handlers (or batches) in flight at once (default 1). */
  concurrency?: number;
  /** Dead-letter a message that fails on this delivery or later (default: the consumer's max_deliver, else 5). */
  maxDeliver?: number;
  /** Nak delay after a retryable failure on the first delivery; doubles per delivery (default 1000). */
  nakDelayMs?: number;
  /** Cap of the nak delay (default 30000). */
  maxNakDelayMs?: number;
  /** Decides whether a handler error is worth a retry (default: `err.retryable` if set, SyntaxError no, else yes). */
  isRetryable?: (err: unknown) => boolean;
  /** Messages the client keeps pulled ahead (consume's max_messages). Default: 2 x batch size, or 16 x concurrency within 32..256. */
  pullAhead?: number;
  /** The pending gauges refresh consumer info at most this often (default 5000 ms). */
  pendingPollMs?: number;
}

export interface SingleConsumeOptions extends CommonConsumeOptions {
  handler: (msg: BusMessage) => unknown;
  batch?: undefined;
}

export interface BatchConsumeOptions extends CommonConsumeOptions {
  /** Receives up to `batch.maxMessages` messages; all are acked (or nak'ed) together when it settles. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a batch handler that returns nothing (async or not) acks everything
  handler: (msgs: BusMessage[]) => BatchResult | undefined | void | Promise<BatchResult | undefined | void>;
  /** A batch is handed over when it holds `maxMessages`, or `maxWaitMs` after its first message arrived. */
  batch: { maxMessages: number; maxWaitMs: number };
}

export type ConsumeOptions = SingleConsumeOptions | BatchConsumeOptions;

export interface ConsumerHandle {
  /**
   * Stops pulling, lets the handlers finish the messages already received (at most `pullAhead`), waits for
   * their acks to reach the server. Idempotent.
   */
  stop(): Promise<void>;
  /** Handlers (or batches) running now. */
  readonly inFlight: number;
  /** When the last message was received (ms since the epoch), for liveness checks; undefined before the first. */
  readonly lastMessageAt: number | undefined;
  /** Counts since the start, for a service's summary log line (refreshes the pending count when stale). */
  stats(): Promise<ConsumerStats>;
}

export interface ConsumerStats {
  /** Messages acked after their handler succeeded. */
  processed: number;
  /** Messages whose handler failed (nak'ed or dead-lettered). */
  failed: number;
  deadLettered: number;
  redelivered: number;
  /** Messages in the stream not yet delivered to this consumer (consumer info, polled every pendingPollMs). */
  pending: number;
  /** How old the last received message was when it arrived (its JetStream timestamp to receipt), ms. */
  lastLagMs: number | undefined;
}

const decoder = new TextDecoder();

class MessageView implements BusMessage {
  readonly #m: JsMsg;
  #headers: Record<string, string> | undefined;
  constructor(m: JsMsg) {
    this.#m = m;
  }
  get subject(): string {
    return this.#m.subject;
  }
  get data(): Uint8Array {
    return this.#m.data;
  }
  json<T = unknown>(): T {
    try {
      return JSON.parse(decoder.decode(this.#m.data)) as T;
    } catch (cause) {
      throw new PoisonMessageError(`message ${this.#m.info.stream}#${this.#m.seq} is not valid JSON`, { cause });
    }
  }
  string(): string {
    return decoder.decode(this.#m.data);
  }
  get headers(): Readonly<Record<string, string>> {
    if (!this.#headers) {
      const h: Record<string, string> = {};
      const mh = this.#m.headers;
      if (mh) for (const k of mh.keys()) h[k] = mh.get(k);
      this.#headers = h;
    }
    return this.#headers;
  }
  header(name: string): string | undefined {
    const mh = this.#m.headers;
    if (!mh?.has(name)) return undefined;
    return mh.get(name);
  }
  get deliveryCount(): number {
    return this.#m.info.deliveryCount;
  }
  get streamSequence(): number {
    return this.#m.seq;
  }
  get redelivered(): boolean {
    return this.#m.info.redelivered;
  }
  get timestampMs(): number {
    return Number(this.#m.timestampNanos / 1_000_000n);
  }
  working(): void {
    this.#m.working();
  }
  get raw(): JsMsg {
    return this.#m;
  }
}

const TIMEOUT = Symbol('timeout');

function timer(ms: number): { promise: Promise<typeof TIMEOUT>; cancel(): void } {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<typeof TIMEOUT>((resolve) => {
    t = setTimeout(() => resolve(TIMEOUT), ms);
  });
  return { promise, cancel: () => clearTimeout(t) };
}

/** Nak delay for a failed delivery: `baseMs` on the first, doubling per delivery, capped at `maxMs`. */
export function backoffDelay(deliveryCount: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, deliveryCount - 1)));
}

/** Dead-letter headers (all values are strings; the data of a dead letter is the original data, byte for byte). */
export const DLQ_HEADERS = {
  subject: 'Kec-Dlq-Subject',
  stream: 'Kec-Dlq-Stream',
  consumer: 'Kec-Dlq-Consumer',
  sequence: 'Kec-Dlq-Sequence',
  deliveries: 'Kec-Dlq-Deliveries',
  reason: 'Kec-Dlq-Reason',
  error: 'Kec-Dlq-Error',
  errorName: 'Kec-Dlq-Error-Name',
  retryable: 'Kec-Dlq-Retryable',
  time: 'Kec-Dlq-Time',
  /** The original Nats-Msg-Id, when there was one. */
  msgId: 'Kec-Dlq-Msg-Id',
} as const;

/** Why a message was dead-lettered (the Kec-Dlq-Reason header). */
export type DeadLetterReason = 'poison' | 'max-deliveries' | 'rejected';

/**
 * Starts consuming `stream`/`durable` (a durable pull consumer, shared by every replica that consumes it).
 * Rejects with ConsumeError when the consumer does not exist.
 */
export async function consume(opts: ConsumeOptions): Promise<ConsumerHandle> {
  const { bus, stream, durable } = opts;
  const log = bus.logger.child({ stream, consumer: durable });
  let consumer: Consumer;
  try {
    consumer = await bus.js.consumers.get(stream, durable);
  } catch (cause) {
    throw new ConsumeError(`cannot bind consumer ${stream}/${durable}`, { cause, retryable: true });
  }
  const info = await consumer.info(true);
  const serverMaxDeliver = info.config.max_deliver ?? -1;
  const maxDeliver = opts.maxDeliver ?? (serverMaxDeliver > 0 ? serverMaxDeliver : 5);
  if (serverMaxDeliver > 0 && serverMaxDeliver < maxDeliver) {
    log.warn(
      { maxDeliver, serverMaxDeliver },
      'consumer max_deliver is below maxDeliver: the server gives up before the message is dead-lettered',
    );
  }
  const concurrency = opts.concurrency ?? 1;
  const slots = new Slots(concurrency);
  const batch = opts.batch;
  if (batch && (batch.maxMessages < 1 || batch.maxWaitMs < 0)) {
    throw new ConsumeError('batch.maxMessages must be >= 1 and batch.maxWaitMs >= 0');
  }
  const pullAhead = opts.pullAhead ?? (batch ? batch.maxMessages * 2 : Math.min(256, Math.max(32, concurrency * 16)));
  const nakBase = opts.nakDelayMs ?? 1_000;
  const nakMax = opts.maxNakDelayMs ?? 30_000;
  const nakDelay = (deliveryCount: number) => backoffDelay(deliveryCount, nakBase, nakMax);
  const isRetryable = opts.isRetryable ?? isRetryableError;
  const dlqSubject = bus.subjects.dlq(opts.dlq.stage);
  const dlqPublisher = new Publisher(bus, { window: 64 });
  const m = instruments(bus.meter);
  const labels = { stream, consumer: durable };
  const tracer = trace.getTracer('kec-bus');
  const counts = { processed: 0, failed: 0, deadLettered: 0, redelivered: 0 };
  let lastReceived: JsMsg | undefined;

  // --- pending gauges (consumer info polled at most every pendingPollMs) ---
  const pollMs = opts.pendingPollMs ?? 5_000;
  let lastInfo = info;
  let lastPoll = Date.now();
  let polling: Promise<void> | undefined;
  const refreshInfo = async () => {
    if (Date.now() - lastPoll >= pollMs) {
      polling ??= consumer
        .info()
        .then((i) => {
          lastInfo = i;
        })
        .catch((err: unknown) => log.debug({ err }, 'consumer info failed'))
        .finally(() => {
          lastPoll = Date.now();
          polling = undefined;
        });
      await polling;
    }
  };
  const observe: BatchObservableCallback = async (result) => {
    await refreshInfo();
    result.observe(m.pending, lastInfo.num_pending, labels);
    result.observe(m.ackPending, lastInfo.num_ack_pending, labels);
  };
  bus.meter.addBatchObservableCallback(observe, [m.pending, m.ackPending]);

  // --- failure handling ---
  const deadLetter = async (jm: JsMsg, err: unknown, reason: DeadLetterReason, retryable: boolean) => {
    const h: MsgHdrs = natsHeaders();
    // Original headers are kept, except the server-interpreted Nats-* ones (a msg id or an expectation
    // meant for the original stream would make the dead-letter publish a duplicate or fail).
    if (jm.headers) {
      for (const k of jm.headers.keys()) {
        if (k.toLowerCase().startsWith('nats-')) continue;
        for (const v of jm.headers.values(k)) h.append(k, v);
      }
      const msgId = jm.headers.get('Nats-Msg-Id');
      if (msgId) h.set(DLQ_HEADERS.msgId, msgId);
    }
    h.set(DLQ_HEADERS.subject, jm.subject);
    h.set(DLQ_HEADERS.stream, jm.info.stream);
    h.set(DLQ_HEADERS.consumer, durable);
    h.set(DLQ_HEADERS.sequence, String(jm.seq));
    h.set(DLQ_HEADERS.deliveries, String(jm.info.deliveryCount));
    h.set(DLQ_HEADERS.reason, reason);
    h.set(DLQ_HEADERS.error, headerValue(err instanceof Error ? err.message : String(err)));
    h.set(DLQ_HEADERS.errorName, headerValue(err instanceof Error ? err.name : typeof err, 128));
    h.set(DLQ_HEADERS.retryable, String(retryable));
    h.set(DLQ_HEADERS.time, new Date().toISOString());
    try {
      // The msg id makes a repeated dead letter of the same message (term lost, redelivered) a duplicate.
      await dlqPublisher.publish(dlqSubject, jm.data, { msgId: `${jm.info.stream}/${durable}/${jm.seq}`, headers: h });
    } catch (pubErr) {
      log.error({ err: pubErr, seq: jm.seq }, 'dead-letter publish failed; nak for a later retry');
      jm.nak(nakDelay(jm.info.deliveryCount));
      return;
    }
    // No reason text: nats-server 2.9 matches "+TERM" exactly and silently ignores "+TERM <reason>" (2.10+).
    jm.term();
    m.deadLettered.add(1, labels);
    counts.deadLettered++;
    log.warn(
      { seq: jm.seq, subject: jm.subject, deliveries: jm.info.deliveryCount, reason, err },
      'message dead-lettered',
    );
  };
  const onFailure = async (msgs: JsMsg[], err: unknown) => {
    m.failed.add(msgs.length, labels);
    counts.failed += msgs.length;
    const retryable = isRetryable(err);
    for (const jm of msgs) {
      if (!retryable) await deadLetter(jm, err, 'poison', false);
      else if (jm.info.deliveryCount >= maxDeliver) await deadLetter(jm, err, 'max-deliveries', true);
      else {
        log.debug({ seq: jm.seq, deliveries: jm.info.deliveryCount, err }, 'handler failed; nak');
        jm.nak(nakDelay(jm.info.deliveryCount));
      }
    }
  };

  const startSpan = (jm: JsMsg) => {
    const parent = propagation.extract(ROOT_CONTEXT, jm.headers, headerGetter);
    const span = tracer.startSpan(
      `process ${stream}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': jm.subject,
          'messaging.consumer.group.name': durable,
        },
      },
      parent,
    );
    return { span, ctx: trace.setSpan(parent, span) };
  };

  // Synchronous when the handler is: no promise per message on the hot path.
  const singleHandler = opts.handler as (msg: BusMessage) => unknown;
  const handleOne = (jm: JsMsg): Promise<void> | undefined => {
    if (jm.info.deliveryCount > 1) {
      m.redelivered.add(1, labels);
      counts.redelivered++;
    }
    const { span, ctx } = startSpan(jm);
    const fail = (err: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
      return onFailure([jm], err).finally(() => span.end());
    };
    const ok = () => {
      jm.ack();
      m.processed.add(1, labels);
      counts.processed++;
      span.end();
    };
    let result: unknown;
    try {
      result = context.with(ctx, singleHandler, undefined, new MessageView(jm));
    } catch (err) {
      return fail(err);
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(result).then(ok, fail);
    }
    ok();
    return undefined;
  };

  const handleBatch = async (jms: JsMsg[]) => {
    let redelivered = 0;
    for (const jm of jms) if (jm.info.deliveryCount > 1) redelivered++;
    if (redelivered > 0) {
      m.redelivered.add(redelivered, labels);
      counts.redelivered += redelivered;
    }
    const first = jms[0];
    const { span, ctx } = first ? startSpan(first) : { span: undefined, ctx: ROOT_CONTEXT };
    span?.setAttribute('messaging.batch.message_count', jms.length);
    const views = jms.map((jm) => new MessageView(jm));
    try {
      const handler = opts.handler as BatchConsumeOptions['handler'];
      const result = await context.with(ctx, () => handler(views));
      const rejected = new Map<number, unknown>();
      for (const d of result?.deadLetter ?? []) rejected.set(d.message.streamSequence, d.error);
      let acked = 0;
      for (const jm of jms) {
        if (rejected.has(jm.seq)) {
          m.failed.add(1, labels);
          counts.failed++;
          await deadLetter(jm, rejected.get(jm.seq), 'rejected', false);
        } else {
          jm.ack();
          acked++;
        }
      }
      m.processed.add(acked, labels);
      counts.processed += acked;
    } catch (err) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
      await onFailure(jms, err);
    } finally {
      span?.end();
    }
  };

  // --- pull loop ---
  let stopping = false;
  let current: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  // Messages already received are handled even while stopping: nak'ing them would send them straight back
  // to this consumer's pull requests that the server still holds (2.9 cannot cancel a pull), where they
  // would wait for ack_wait, and 2.9 may then deliver such a message twice.
  const release = () => slots.release();
  const dispatch = async (run: () => Promise<void> | undefined) => {
    if (!slots.tryAcquire()) await slots.acquire();
    const p = run();
    if (p) void p.finally(release);
    else release();
  };

  let lastMessageAt: number | undefined;
  const singleLoop = async (messages: ConsumerMessages) => {
    for await (const jm of messages) {
      lastMessageAt = Date.now();
      lastReceived = jm;
      if (!slots.tryAcquire()) await slots.acquire();
      const p = handleOne(jm);
      if (p) void p.finally(release);
      else release();
    }
  };

  const batchLoop = async (messages: ConsumerMessages, b: { maxMessages: number; maxWaitMs: number }) => {
    const it = messages[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<JsMsg>> | undefined;
    let pending: JsMsg[] = [];
    // One timer per batch (started by its first message), not one per message.
    let batchTimer: ReturnType<typeof timer> | undefined;
    const flush = async () => {
      batchTimer?.cancel();
      batchTimer = undefined;
      const work = pending;
      pending = [];
      if (work.length > 0) await dispatch(() => handleBatch(work));
    };
    try {
      while (true) {
        next ??= it.next();
        const r: IteratorResult<JsMsg> | typeof TIMEOUT =
          pending.length === 0 || !batchTimer ? await next : await Promise.race([next, batchTimer.promise]);
        if (r === TIMEOUT) {
          await flush();
          continue;
        }
        next = undefined;
        lastMessageAt = Date.now();
        if (r.done) {
          await flush();
          break;
        }
        lastReceived = r.value;
        if (pending.length === 0) batchTimer = timer(b.maxWaitMs);
        pending.push(r.value);
        if (pending.length >= b.maxMessages) await flush();
      }
    } finally {
      // Only after a failure of the loop itself: a partial batch that never reached the handler.
      for (const jm of pending) jm.nak();
      pending = [];
    }
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      let messages: ConsumerMessages;
      try {
        messages = await consumer.consume({ max_messages: pullAhead });
      } catch (err) {
        failures++;
        log.error({ err }, 'cannot start pulling; retrying');
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
        continue;
      }
      current = messages;
      if (stopping) await messages.close();
      void (async () => {
        for await (const s of messages.status()) {
          if (s.type === 'heartbeats_missed' || s.type === 'consumer_deleted' || s.type === 'consumer_not_found') {
            log.warn({ status: s }, 'consumer status');
          }
        }
      })().catch(() => {});
      try {
        if (batch) await batchLoop(messages, batch);
        else await singleLoop(messages);
        failures = 0;
      } catch (err) {
        failures++;
        log.error({ err }, 'pull loop failed');
      }
      current = undefined;
      if (!stopping) {
        log.warn('pull loop ended; restarting');
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
      }
    }
  };
  const loop = run();
  log.debug({ concurrency, pullAhead, maxDeliver, batch }, 'consuming');

  let stopped: Promise<void> | undefined;
  return {
    get inFlight() {
      return slots.inUse;
    },
    get lastMessageAt() {
      return lastMessageAt;
    },
    async stats() {
      if (!stopping) await refreshInfo();
      const sent = lastReceived ? Number(lastReceived.timestampNanos / 1_000_000n) : undefined;
      return {
        ...counts,
        pending: lastInfo.num_pending,
        lastLagMs: sent !== undefined && lastMessageAt !== undefined ? Math.max(0, lastMessageAt - sent) : undefined,
      };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wake?.();
        await current?.close();
        await loop;
        await slots.idle();
        await dlqPublisher.flush();
        bus.meter.removeBatchObservableCallback(observe, [m.pending, m.ackPending]);
        // Acks are fire-and-forget: make sure they reached the server before the caller closes the connection.
        if (!bus.nc.isClosed()) await bus.nc.flush();
        log.debug('consumer stopped');
      })();
      return stopped;
    },
  };
}

/**
 * What a consumer did between two calls of the function `consumerWindow` returns (for a summary log line): the
 * counters are deltas over the window; `pending` and `lastLagMs` are as of its end.
 */
export type ConsumerWindow = ConsumerStats;

export function consumerWindow(handle: ConsumerHandle): () => Promise<ConsumerWindow> {
  let prev = { processed: 0, failed: 0, deadLettered: 0, redelivered: 0 };
  return async () => {
    const s = await handle.stats();
    const w = {
      processed: s.processed - prev.processed,
      failed: s.failed - prev.failed,
      deadLettered: s.deadLettered - prev.deadLettered,
      redelivered: s.redelivered - prev.redelivered,
      pending: s.pending,
      lastLagMs: s.lastLagMs,
    };
    prev = s;
    return w;
  };
}

/** The windows of several consumers of one service (one per input stream) added up; the worst lag. */
export function sumWindows(ws: readonly ConsumerWindow[]): ConsumerWindow {
  const sum = (f: (w: ConsumerWindow) => number) => ws.reduce((a, w) => a + f(w), 0);
  const lags = ws.map((w) => w.lastLagMs).filter((l): l is number => l !== undefined);
  return {
    processed: sum((w) => w.processed),
    failed: sum((w) => w.failed),
    deadLettered: sum((w) => w.deadLettered),
    redelivered: sum((w) => w.redelivered),
    pending: sum((w) => w.pending),
    lastLagMs: lags.length > 0 ? Math.max(...lags) : undefined,
  };
}

/** `1,234 in, 0 failed, 0 dead-lettered, 5 pending, last delivered 0.2 s after its publish`: a summary's consumer part. */
export function formatConsumerWindow(w: ConsumerWindow): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lag =
    w.lastLagMs === undefined ? '' : `, last delivered ${(w.lastLagMs / 1000).toFixed(1)} s after its publish`;
  const redelivered = w.redelivered > 0 ? `, ${n(w.redelivered)} redelivered` : '';
  return `${n(w.processed)} in, ${n(w.failed)} failed, ${n(w.deadLettered)} dead-lettered${redelivered}, ${n(w.pending)} pending${lag}`;
}
