// JetStream publisher with a bounded window of publishes awaiting their ack.
import { JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import {
  AuthorizationError,
  InvalidArgumentError,
  InvalidSubjectError,
  type MsgHdrs,
  headers as natsHeaders,
  PermissionViolationError,
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

/**
 * Publishes to JetStream with at most `window` publishes awaiting their ack. Injects the active trace
 * context (W3C traceparent) into the headers, reports duplicates from the PubAck, and counts everything.
 */
export class Publisher {
  readonly #bus: Bus;
  readonly #slots: Slots;
  readonly #timeoutMs: number;
  readonly #m: BusInstruments;

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
      propagation.inject(trace.setSpan(context.active(), span), h, headerSetter);
      const ack = await this.#bus.js.publish(subject, payload, {
        headers: h,
        timeout: opts.timeoutMs ?? this.#timeoutMs,
        ...(opts.msgId === undefined ? {} : { msgID: opts.msgId }),
      });
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
}
