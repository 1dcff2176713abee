// Internal helpers (not exported from the package).
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Counter, Histogram, Meter, ObservableGauge, TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** A counting semaphore: acquire() resolves when a slot is free. */
export class Slots {
  #free: number;
  #waiters: Array<() => void> = [];
  #idle: Array<() => void> = [];
  readonly size: number;
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slot count must be a positive integer: ${size}`);
    this.size = size;
    this.#free = size;
  }
  get inUse(): number {
    return this.size - this.#free;
  }
  /** Resolves at once when a slot is free (no microtask hop is needed by callers that check `tryAcquire`). */
  tryAcquire(): boolean {
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    return false;
  }
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next) {
      next();
      return;
    }
    this.#free++;
    if (this.#free === this.size) {
      const idle = this.#idle;
      this.#idle = [];
      for (const f of idle) f();
    }
  }
  /** Resolves when every slot is free. */
  idle(): Promise<void> {
    if (this.#free === this.size) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}

export const headerSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

export const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys(carrier) {
    return carrier ? carrier.keys() : [];
  },
  get(carrier, key) {
    if (!carrier) return undefined;
    const v = carrier.values(key);
    return v.length === 0 ? undefined : v.length === 1 ? v[0] : v;
  },
};

/** Header values may not hold CR/LF; keep them short. */
export function headerValue(s: string, max = 1024): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

export interface BusInstruments {
  published: Counter;
  duplicates: Counter;
  publishFailed: Counter;
  publishDuration: Histogram;
  processed: Counter;
  failed: Counter;
  redelivered: Counter;
  deadLettered: Counter;
  pending: ObservableGauge;
  ackPending: ObservableGauge;
}

const cache = new WeakMap<Meter, BusInstruments>();

/** The bus instruments of a meter, created once per meter. */
export function instruments(meter: Meter): BusInstruments {
  let i = cache.get(meter);
  if (i) return i;
  i = {
    published: meter.createCounter('kec_bus_messages_published_total', {
      description: 'Messages published and acknowledged by JetStream (duplicates included), by stream',
    }),
    duplicates: meter.createCounter('kec_bus_publish_duplicates_total', {
      description: 'Publishes the stream reported as duplicates of an earlier Nats-Msg-Id, by stream',
    }),
    publishFailed: meter.createCounter('kec_bus_publish_failed_total', {
      description: 'Publishes that failed, by retryable (true|false)',
    }),
    publishDuration: meter.createHistogram('kec_bus_publish_duration_seconds', {
      description: 'Time from publish to JetStream ack, including waiting for a window slot',
      unit: 's',
      advice: {
        explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      },
    }),
    processed: meter.createCounter('kec_bus_messages_processed_total', {
      description: 'Messages handled successfully and acked, by stream and consumer',
    }),
    failed: meter.createCounter('kec_bus_messages_failed_total', {
      description: 'Handler failures (each nak or dead letter), by stream and consumer',
    }),
    redelivered: meter.createCounter('kec_bus_messages_redelivered_total', {
      description: 'Messages received with a delivery count above 1, by stream and consumer',
    }),
    deadLettered: meter.createCounter('kec_bus_messages_dead_lettered_total', {
      description: 'Messages copied to the dead-letter subject and terminated, by stream and consumer',
    }),
    pending: meter.createObservableGauge('kec_bus_consumer_pending', {
      description: 'Messages in the stream not yet delivered to the consumer (num_pending), by stream and consumer',
    }),
    ackPending: meter.createObservableGauge('kec_bus_consumer_ack_pending', {
      description: 'Messages delivered and not yet acked (num_ack_pending), by stream and consumer',
    }),
  };
  cache.set(meter, i);
  return i;
}
