// JetStream publisher with a bounded window of publishes awaiting their ack.
import { JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import {
  AuthorizationError,
  createInbox,
  InvalidArgumentError,
  InvalidSubjectError,
  type Msg,
  type MsgHdrs,
  headers as natsHeaders,
  PermissionViolationError,
  type Subscription,
  TimeoutError,
} from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Bus } from './connect.ts';
import { PublishError } from './errors.ts';
import { type BusInstruments, errorText, headerSetter, instruments, Slots } from './internal.ts';

export type { PubAck };

export interface PublishOptions {
  /** Nats-Msg-Id: the stream stores one message per id inside its duplicate window. */
  msgId?: string;
  /** Extra headers (name -> value). */
  headers?: Record<string, string> | MsgHdrs;
  /** Ack timeout in ms (default the publisher's, 5000). */
  timeoutMs?: number;
}

export interface PublisherOptions {
  /** Publishes awaiting their ack at most (default 256); when full, publish() waits for a slot. */
  window?: number;
  /** Default ack timeout in ms (default 5000). */
  timeoutMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const tracer = () => trace.getTracer('kec-bus');

/** Encodes a payload: bytes as they are, strings as UTF-8, anything else as JSON. */
export function encodePayload(data: Uint8Array | string | object): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return encoder.encode(data);
  return encoder.encode(JSON.stringify(data));
}

/** Maps a client error to a PublishError that says whether retrying can help. */
export function toPublishError(subject: string, err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  // Permanent: rejections that repeat on every attempt. Everything else (timeouts, disconnects, draining,
  // "no stream answered" during a stream creation or leader election, 5xx API errors, unknown errors) is
  // worth a retry; a consumer that keeps failing dead-letters the message after maxDeliver anyway.
  const permanent =
    (err instanceof JetStreamApiError && err.status < 500) || // message too large, failed expectation
    err instanceof InvalidArgumentError || // payload above the server's max_payload
    err instanceof InvalidSubjectError ||
    err instanceof PermissionViolationError ||
    err instanceof AuthorizationError;
  const retryable = !permanent;
  const why =
    err instanceof jserrors.JetStreamNotEnabled
      ? 'no stream answered (no stream captures this subject?)'
      : errorText(err);
  return new PublishError(`publish to ${subject} failed: ${why}`, { subject, cause: err, retryable });
}

/** A publish waiting for its ack. */
interface Pending {
  subject: string;
  deadline: number;
  resolve(ack: PubAck): void;
  reject(err: PublishError): void;
}

/** A publish queued until the end of the current turn of the event loop. */
interface Queued {
  subject: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  token: string;
}

/** The JetStream API's answer to a publish: a PubAck, or an error with an HTTP-like code. */
interface ApiAnswer {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  domain?: string;
  error?: { code?: number; err_code?: number; description?: string };
}

/**
 * Publishes to JetStream with at most `window` publishes awaiting their ack. Injects the active trace
 * context (W3C traceparent) into the headers, reports duplicates from the PubAck, and counts everything.
 *
 * Acks are collected asynchronously, as the Go client's PublishAsync does: every publish is a plain NATS message
 * whose reply subject is `<inbox>.<token>` on one subscription of this publisher, and one timer sweeps the
 * deadlines. `js.publish()` costs a request per message instead (a timer and two Error objects with stack traces
 * each), and publishes made one at a time from a stream of events (the watcher) were each flushed in a socket
 * write of their own; here the publishes of one event-loop turn leave in one write.
 */
export class Publisher {
  readonly #bus: Bus;
  readonly #slots: Slots;
  readonly #timeoutMs: number;
  readonly #m: BusInstruments;
  readonly #pending = new Map<string, Pending>();
  #inbox: string | undefined;
  #sub: Subscription | undefined;
  #seq = 0;
  #queue: Queued[] = [];
  #flushScheduled = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(bus: Bus, opts: PublisherOptions = {}) {
    this.#bus = bus;
    this.#slots = new Slots(opts.window ?? 256);
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#m = instruments(bus.meter);
  }

  /** Publishes awaiting their ack right now. */
  get inFlight(): number {
    return this.#slots.inUse;
  }

  /**
   * Publishes one message and resolves with the stream's ack (`duplicate: true` when the stream had
   * already stored this msgId). Rejects with a PublishError (see its `retryable`).
   */
  async publish(subject: string, data: Uint8Array | string | object, opts: PublishOptions = {}): Promise<PubAck> {
    const started = performance.now();
    let payload: Uint8Array;
    try {
      payload = encodePayload(data);
    } catch (cause) {
      this.#m.publishFailed.add(1, { retryable: 'false' });
      throw new PublishError(`publish to ${subject}: payload cannot be encoded`, { subject, cause, retryable: false });
    }
    if (!this.#slots.tryAcquire()) await this.#slots.acquire();
    const span = tracer().startSpan(`publish ${this.#bus.root}`, {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
    });
    try {
      const h = natsHeaders();
      if (opts.headers) {
        if (
          typeof (opts.headers as MsgHdrs).keys === 'function' &&
          typeof (opts.headers as MsgHdrs).get === 'function'
        ) {
          const mh = opts.headers as MsgHdrs;
          for (const k of mh.keys()) for (const v of mh.values(k)) h.append(k, v);
        } else {
          for (const [k, v] of Object.entries(opts.headers as Record<string, string>)) h.set(k, v);
        }
      }
      if (opts.msgId !== undefined) h.set('Nats-Msg-Id', opts.msgId);
      propagation.inject(trace.setSpan(context.active(), span), h, headerSetter);
      const ack = await this.#send(subject, payload, h, opts.timeoutMs ?? this.#timeoutMs);
      this.#m.published.add(1, { stream: ack.stream });
      if (ack.duplicate) this.#m.duplicates.add(1, { stream: ack.stream });
      return ack;
    } catch (err) {
      const pe = toPublishError(subject, err);
      this.#m.publishFailed.add(1, { retryable: String(pe.retryable) });
      span.setStatus({ code: SpanStatusCode.ERROR, message: pe.message });
      throw pe;
    } finally {
      span.end();
      this.#slots.release();
      this.#m.publishDuration.record((performance.now() - started) / 1000);
    }
  }

  /** Resolves when every publish in flight has been acked or has failed (failures are reported to their callers). */
  flush(): Promise<void> {
    return this.#slots.idle();
  }

  #send(subject: string, payload: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<PubAck> {
    if (!this.#sub || this.#sub.isClosed()) this.#subscribe();
    const token = (this.#seq++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.#pending.set(token, { subject, deadline: Date.now() + timeoutMs, resolve, reject });
      this.#queue.push({ subject, payload, headers, token });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flushQueue());
      }
      this.#sweeper ??= setInterval(() => this.#sweep(), 100);
    });
  }

  #subscribe(): void {
    this.#inbox = createInbox();
    this.#sub = this.#bus.nc.subscribe(`${this.#inbox}.*`, { callback: (err, msg) => this.#onAnswer(err, msg) });
  }

  /** Hands the queued publishes to the client in one go: the client writes them to the socket together. */
  #flushQueue(): void {
    this.#flushScheduled = false;
    const q = this.#queue;
    this.#queue = [];
    const nc = this.#bus.nc;
    for (const x of q) {
      try {
        nc.publish(x.subject, x.payload, { reply: `${this.#inbox}.${x.token}`, headers: x.headers });
      } catch (err) {
        this.#settle(x.token, undefined, toPublishError(x.subject, err));
      }
    }
  }

  #onAnswer(err: Error | null, msg: Msg): void {
    const token = msg?.subject?.slice((this.#inbox?.length ?? 0) + 1);
    const p = token === undefined ? undefined : this.#pending.get(token);
    if (token === undefined || !p) return; // timed out already: the caller retries with the same msg-id
    const r = err ? toPublishError(p.subject, err) : readAnswer(p.subject, msg);
    if (r instanceof PublishError) this.#settle(token, undefined, r);
    else this.#settle(token, r);
  }

  #settle(token: string, ack: PubAck | undefined, err?: PublishError): void {
    const p = this.#pending.get(token);
    if (!p) return;
    this.#pending.delete(token);
    if (this.#pending.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
    if (err) p.reject(err);
    else p.resolve(ack as PubAck);
  }

  /** Fails the publishes whose ack did not come in time (retryable: the same msg-id makes a retry safe). */
  #sweep(): void {
    const now = Date.now();
    for (const [token, p] of this.#pending) {
      if (p.deadline <= now) this.#settle(token, undefined, toPublishError(p.subject, new TimeoutError()));
    }
  }
}

/** Reads the JetStream API's answer to one publish: its PubAck, or why it was refused. */
function readAnswer(subject: string, msg: Msg): PubAck | PublishError {
  const fail = (why: string, retryable: boolean, cause?: unknown) =>
    new PublishError(`publish to ${subject} failed: ${why}`, { subject, retryable, cause });
  if (msg.headers?.code === 503 && msg.data.length === 0) {
    return fail('no stream answered (no stream captures this subject?)', true);
  }
  let answer: ApiAnswer;
  try {
    answer = JSON.parse(decoder.decode(msg.data)) as ApiAnswer;
  } catch (cause) {
    return fail('unreadable ack', true, cause);
  }
  if (answer.error) {
    const code = answer.error.code ?? 500;
    const errCode = answer.error.err_code ? `, err_code ${answer.error.err_code}` : '';
    // 4xx: the stream refuses this message as it is (too large, failed expectation); a retry would repeat it.
    return fail(`${answer.error.description ?? 'error'} (code ${code}${errCode})`, code >= 500);
  }
  if (!answer.stream) return fail('invalid ack', true);
  return {
    stream: answer.stream,
    seq: answer.seq ?? 0,
    duplicate: answer.duplicate === true,
    domain: answer.domain ?? '',
  } as PubAck;
}
