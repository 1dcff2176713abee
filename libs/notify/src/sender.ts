// The notification sender: delivers the outbox (stream KEC_NOTIFICATIONS) to the receivers.
//
// One durable pull consumer per receiver (`notify-<receiver>`, filter `<root>.notifications.<receiver>`), shared by
// every replica. A message is acked only after the receiver answered 2xx (and, for DingTalk, errcode 0). Failures
// that may pass (network, timeout, 408, 429, 5xx, throttling answers) are retried in this process with exponential
// backoff, honouring Retry-After, while `working()` keeps the message from being redelivered; a permanent answer
// (another 4xx, a DingTalk error) sends the notification to `<root>.dlq.<stage>` with the reason in headers, then it is
// acked. Notifications of one group are delivered one after the other in stream order, and a version lower than or
// equal to one already delivered for the group is acked without sending (a redelivery after a restart).
import { createHash } from 'node:crypto';
import {
  type Bus,
  type BusMessage,
  type ConsumerHandle,
  consume,
  consumerSpec,
  DLQ_HEADERS,
  ensureConsumer,
  type KV,
  PoisonMessageError,
  Publisher,
} from '@kec/bus';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { type BatchObservableCallback, type Meter, metrics } from '@opentelemetry/api';
import { type Logger, pino } from 'pino';
import { durationMs, RECEIVER_DEFAULTS, type ReceiverConfig } from './config.ts';
import { DeliveryError, SenderStoppingError } from './errors.ts';
import { ReceiverGate } from './gate.ts';
import { type FetchLike, send } from './http.ts';
import { notifyInstruments } from './metrics.ts';
import { createNotifier } from './notifiers/index.ts';
import type { Notifier } from './notifiers/types.ts';
import {
  NOTIFICATIONS_STREAM,
  type Notification,
  notificationErrors,
  notificationMsgId,
  notificationSubject,
} from './payload.ts';
import type { SecretSource } from './secrets.ts';

/** Extra dead-letter headers of a rejected notification (besides the Kec-Dlq-* ones of @kec/bus). */
export const NOTIFY_DLQ_HEADERS = {
  receiver: 'Kec-Notify-Receiver',
  /** The receiver's HTTP status, when it answered. */
  status: 'Kec-Notify-Status',
  /** Start of the receiver's answer (≤ 512 characters, one line). */
  response: 'Kec-Notify-Response',
} as const;

export interface NotificationSenderOptions {
  bus: Bus;
  /** Receiver configs (validated here) or ready notifiers. */
  receivers: ReadonlyArray<ReceiverConfig | { notifier: Notifier; config?: ReceiverConfig }>;
  /** The outbox stream name (default KEC_NOTIFICATIONS; tests pass a prefixed one). */
  stream?: string;
  /** Durable consumer name = prefix + receiver (default `notify-`). */
  durablePrefix?: string;
  /** Dead letters go to `<root>.dlq.<dlqStage>` (default `alerter`). */
  dlqStage?: string;
  logger?: Logger;
  meter?: Meter;
  /** Consumer ack_wait (default 30 s); held messages call working() every third of it. */
  ackWaitMs?: number;
  /** Notifications one receiver may have delivered-but-unacked at once (consumer max_ack_pending; default 1000). */
  maxPending?: number;
  /** Secrets source (default process.env). */
  secrets?: SecretSource;
  /** HTTP client (default global fetch). */
  fetch?: FetchLike;
  /** Clock (ms since the epoch). */
  now?: () => number;
  /** The backlog gauge reads consumer info at most this often (default 5000 ms). */
  backlogPollMs?: number;
  /**
   * A KV bucket shared by the sender replicas (e.g. `openKv(bus, 'kec_notify_delivered', { ttlMs: 7 days })`) that
   * records the last version delivered per receiver and group, written after the receiver's 2xx and before the ack.
   * With it, a notification redelivered after a process died between the 2xx and the ack is not sent again, and a
   * replica never sends a version older than one another replica delivered. Without it this is kept per process.
   */
  deliveredKv?: KV;
}

export interface ReceiverStats {
  name: string;
  type: string;
  sent: number;
  failedAttempts: number;
  deadLettered: number;
  skipped: number;
  /** Notifications held by this process (waiting for their group's turn, the gate or a retry). */
  held: number;
  /** Requests waiting at the gate (rate limit, concurrency, pause). */
  queued: number;
  pausedUntil: number;
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
}

export interface NotificationSender {
  readonly receivers: readonly string[];
  stats(): ReceiverStats[];
  /** Stops consuming; notifications still held are nak'ed back to the stream (another replica or the next start). */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INITIAL_BACKOFF_MS = 1_000;
const DEFAULT_MAX_BACKOFF_MS = 60_000;
const LAST_DELIVERED_MAX = 100_000;

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

function oneLine(s: string, max = 1024): string {
  const v = s.replace(/[\r\n]+/g, ' ');
  return v.length > max ? `${v.slice(0, max - 1)}…` : v;
}

/** KV key of a (receiver, group): the group key is hashed (KV keys allow only `[-/_=.a-zA-Z0-9]`). */
export function deliveredKey(receiver: string, groupKey: string): string {
  return `${receiver}.${createHash('sha256').update(groupKey).digest('hex').slice(0, 32)}`;
}

/**
 * What was last delivered for a (receiver, group): the notification's version and its stream sequence. A message is
 * "already delivered" when both are lower or equal: the same message redelivered, or an older version that reached
 * a replica after a newer one was delivered. A group that the alerter deleted and started again (version 1 again)
 * is published later, so its sequence is higher and it is sent.
 */
export interface DeliveredMark {
  version: number;
  seq: number;
}

export function alreadyDelivered(mark: DeliveredMark | undefined, version: number, seq: number): boolean {
  return mark !== undefined && version <= mark.version && seq <= mark.seq;
}

async function storedMark(kv: KV, key: string): Promise<(DeliveredMark & { revision: number }) | undefined> {
  const e = await kv.get(key);
  if (e?.operation !== 'PUT') return undefined;
  const v = e.json() as { version?: unknown; seq?: unknown };
  const version = Number(v.version);
  const seq = Number(v.seq ?? 0);
  return Number.isFinite(version) && Number.isFinite(seq) ? { version, seq, revision: e.revision } : undefined;
}

/** Records a delivery (compare-and-set; a mark of a later stream sequence is left alone). */
async function storeMark(kv: KV, key: string, mark: DeliveredMark, at: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await storedMark(kv, key);
    if (cur && cur.seq >= mark.seq) return;
    const value = JSON.stringify({ ...mark, at: new Date(at).toISOString() });
    try {
      if (cur) await kv.update(key, value, cur.revision);
      else await kv.create(key, value);
      return;
    } catch {
      // another replica wrote first: read again
    }
  }
}

interface Receiver {
  notifier: Notifier;
  durable: string;
  subject: string;
  gate: ReceiverGate;
  timeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  sendResolved: boolean;
  /** Tail of the delivery chain of each group (FIFO per group). */
  tails: Map<string, Promise<void>>;
  /** Last delivered (or dead-lettered, or skipped) notification per group. */
  lastDelivered: Map<string, DeliveredMark>;
  consecutiveFailures: number;
  held: number;
  stats: ReceiverStats;
  handle?: ConsumerHandle;
}

/**
 * Starts delivering the outbox: ensures one durable consumer per receiver and consumes it. Rejects with
 * ReceiverConfigError for a bad receiver config or an unreadable secret.
 */
export async function startNotificationSender(opts: NotificationSenderOptions): Promise<NotificationSender> {
  const { bus } = opts;
  const stream = opts.stream ?? NOTIFICATIONS_STREAM;
  const log = (opts.logger ?? bus.logger ?? pino({ name: 'kec-notify' })).child({ component: 'notify' });
  const meter = opts.meter ?? metrics.getMeter('kec-notify');
  const m = notifyInstruments(meter);
  const now = opts.now ?? Date.now;
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const maxPending = opts.maxPending ?? 1000;
  const dlqSubject = bus.subjects.dlq(opts.dlqStage ?? 'alerter');
  const dlqPublisher = new Publisher(bus, { window: 64 });
  const abort = new AbortController();
  const stopError = new SenderStoppingError();

  const receivers: Receiver[] = [];
  const names = new Set<string>();
  for (const r of opts.receivers) {
    const { notifier, config } =
      'notifier' in r ? r : { notifier: createNotifier(r, opts.secrets), config: r as ReceiverConfig };
    if (names.has(notifier.name)) throw new Error(`receiver ${notifier.name} is configured twice`);
    names.add(notifier.name);
    const defaults = RECEIVER_DEFAULTS[notifier.type];
    const rate = config?.rateLimit ?? defaults.rateLimit;
    receivers.push({
      notifier,
      durable: `${opts.durablePrefix ?? 'notify-'}${notifier.name}`,
      subject: notificationSubject(bus.root, notifier.name),
      gate: new ReceiverGate({
        concurrency: config?.concurrency ?? defaults.concurrency,
        rateLimit: rate ? { messages: rate.messages, perMs: durationMs(rate.per) } : undefined,
        now,
      }),
      timeoutMs: config?.timeout === undefined ? DEFAULT_TIMEOUT_MS : durationMs(config.timeout),
      initialBackoffMs:
        config?.retry?.initialBackoff === undefined
          ? DEFAULT_INITIAL_BACKOFF_MS
          : durationMs(config.retry.initialBackoff),
      maxBackoffMs:
        config?.retry?.maxBackoff === undefined ? DEFAULT_MAX_BACKOFF_MS : durationMs(config.retry.maxBackoff),
      sendResolved: config?.sendResolved ?? true,
      tails: new Map(),
      lastDelivered: new Map(),
      consecutiveFailures: 0,
      held: 0,
      stats: {
        name: notifier.name,
        type: notifier.type,
        sent: 0,
        failedAttempts: 0,
        deadLettered: 0,
        skipped: 0,
        held: 0,
        queued: 0,
        pausedUntil: 0,
        lastSuccessAt: undefined,
        lastError: undefined,
      },
    });
  }

  const markDone = (r: Receiver, groupKey: string, mark: DeliveredMark) => {
    const prev = r.lastDelivered.get(groupKey);
    if (prev !== undefined && prev.seq >= mark.seq) return;
    r.lastDelivered.delete(groupKey); // re-insert: the map's order is least recently delivered first
    r.lastDelivered.set(groupKey, mark);
    if (r.lastDelivered.size > LAST_DELIVERED_MAX) {
      const oldest = r.lastDelivered.keys().next().value;
      if (oldest !== undefined) r.lastDelivered.delete(oldest);
    }
  };

  /** Records a notification as done for its group: in this process, and in the shared KV when there is one. */
  const recordDone = async (r: Receiver, msg: BusMessage, n: Notification) => {
    const mark = { version: n.version, seq: msg.streamSequence };
    markDone(r, n.groupKey, mark);
    if (!opts.deliveredKv) return;
    try {
      await storeMark(opts.deliveredKv, deliveredKey(r.notifier.name, n.groupKey), mark, now());
    } catch (err) {
      // Not fatal: the notification was delivered; only a later redelivery could repeat it.
      log.warn({ err, receiver: r.notifier.name }, 'recording the delivered version failed');
    }
  };

  const deadLetter = async (r: Receiver, msg: BusMessage, n: Notification, err: unknown) => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(msg.headers)) if (!k.toLowerCase().startsWith('nats-')) h.set(k, v);
    const msgId = msg.header('Nats-Msg-Id');
    if (msgId) h.set(DLQ_HEADERS.msgId, msgId);
    h.set(DLQ_HEADERS.subject, msg.subject);
    h.set(DLQ_HEADERS.stream, stream);
    h.set(DLQ_HEADERS.consumer, r.durable);
    h.set(DLQ_HEADERS.sequence, String(msg.streamSequence));
    h.set(DLQ_HEADERS.deliveries, String(msg.deliveryCount));
    h.set(DLQ_HEADERS.reason, 'rejected');
    h.set(DLQ_HEADERS.error, oneLine(err instanceof Error ? err.message : String(err)));
    h.set(DLQ_HEADERS.errorName, oneLine(err instanceof Error ? err.name : typeof err, 128));
    h.set(DLQ_HEADERS.retryable, 'false');
    h.set(DLQ_HEADERS.time, new Date(now()).toISOString());
    h.set(NOTIFY_DLQ_HEADERS.receiver, r.notifier.name);
    if (err instanceof DeliveryError) {
      if (err.status !== undefined) h.set(NOTIFY_DLQ_HEADERS.status, String(err.status));
      if (err.responseBody) h.set(NOTIFY_DLQ_HEADERS.response, oneLine(err.responseBody, 512));
    }
    // A failed dead-letter publish throws (retryable): the message is nak'ed and tried again.
    await dlqPublisher.publish(dlqSubject, msg.data, {
      msgId: `${stream}/${r.durable}/${msg.streamSequence}`,
      headers: h,
    });
    r.stats.deadLettered++;
    m.deadLettered.add(1, { receiver: r.notifier.name });
    log.warn(
      { receiver: r.notifier.name, groupKey: n.groupKey, version: n.version, seq: msg.streamSequence, err },
      'notification rejected by the receiver; dead-lettered',
    );
  };

  const deliver = async (r: Receiver, msg: BusMessage, n: Notification) => {
    const labels = { receiver: r.notifier.name };
    const seq = msg.streamSequence;
    const last = r.lastDelivered.get(n.groupKey);
    if (alreadyDelivered(last, n.version, seq)) {
      r.stats.skipped++;
      m.skipped.add(1, { ...labels, why: 'superseded' });
      log.debug({ receiver: r.notifier.name, groupKey: n.groupKey, version: n.version, last }, 'already delivered');
      return;
    }
    const kv = opts.deliveredKv;
    const kvKey = kv ? deliveredKey(r.notifier.name, n.groupKey) : '';
    if (kv) {
      let stored: DeliveredMark | undefined;
      try {
        stored = await storedMark(kv, kvKey);
      } catch (err) {
        log.warn({ err, receiver: r.notifier.name }, 'delivered-version lookup failed; sending anyway');
      }
      if (stored && alreadyDelivered(stored, n.version, seq)) {
        r.stats.skipped++;
        m.skipped.add(1, { ...labels, why: 'superseded' });
        markDone(r, n.groupKey, { version: stored.version, seq: stored.seq });
        return;
      }
    }
    if (n.status === 'resolved' && !r.sendResolved) {
      r.stats.skipped++;
      m.skipped.add(1, { ...labels, why: 'send_resolved' });
      await recordDone(r, msg, n);
      return;
    }
    const id = msg.header('Nats-Msg-Id') ?? notificationMsgId(n);
    for (let attempt = 0; ; attempt++) {
      if (abort.signal.aborted) throw stopError;
      const release = await r.gate.acquire({ signal: abort.signal, front: attempt > 0 });
      if (attempt > 0) m.retried.add(1, labels);
      const t0 = now();
      let err: unknown;
      try {
        const req = r.notifier.request(n, { id, now: new Date(t0) });
        const answer = await send(req, {
          timeoutMs: r.timeoutMs,
          describe: r.notifier.describe,
          signal: abort.signal,
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
        });
        r.notifier.check?.(answer);
      } catch (e) {
        err = e;
      } finally {
        release();
        m.requestDuration.record((now() - t0) / 1000, labels);
      }
      if (err === undefined) {
        r.consecutiveFailures = 0;
        r.stats.sent++;
        r.stats.lastSuccessAt = now();
        m.sent.add(1, { ...labels, type: r.notifier.type, status: n.status });
        m.latency.record(Math.max(0, now() - msg.timestampMs) / 1000, labels);
        await recordDone(r, msg, n);
        return;
      }
      if (abort.signal.aborted) throw stopError;
      const retryable =
        err instanceof DeliveryError
          ? err.retryable
          : err !== null && typeof err === 'object' && 'retryable' in err && err.retryable === true;
      r.stats.failedAttempts++;
      r.stats.lastError = err instanceof Error ? err.message : String(err);
      m.failed.add(1, { ...labels, retryable: String(retryable) });
      if (!retryable) {
        await deadLetter(r, msg, n, err);
        await recordDone(r, msg, n);
        return;
      }
      r.consecutiveFailures++;
      const backoff = Math.min(r.maxBackoffMs, r.initialBackoffMs * 2 ** Math.min(20, r.consecutiveFailures - 1));
      const retryAfter = err instanceof DeliveryError ? (err.retryAfterMs ?? 0) : 0;
      const waitMs = Math.max(retryAfter, jitter(backoff));
      // The pause holds every notification of this receiver (a 429 or an outage concerns the receiver, not one
      // message); other receivers have their own gate.
      r.gate.pauseUntil(now() + waitMs);
      r.stats.pausedUntil = r.gate.pausedUntil;
      log.warn(
        { receiver: r.notifier.name, groupKey: n.groupKey, version: n.version, attempt: attempt + 1, waitMs, err },
        'notification delivery failed; retrying',
      );
    }
  };

  const handlerFor = (r: Receiver) => (msg: BusMessage) => {
    const value = msg.json<unknown>();
    const problems = notificationErrors(value);
    if (problems.length > 0) {
      throw new PoisonMessageError(`not a kec.notification/v1: ${problems.slice(0, 3).join('; ')}`);
    }
    const n = value as Notification;
    if (n.receiver !== r.notifier.name) {
      throw new PoisonMessageError(`notification for receiver ${n.receiver} on ${r.notifier.name}'s subject`);
    }
    // Chained synchronously (before any await), so a group's notifications keep the order the consumer got them in.
    const prev = r.tails.get(n.groupKey);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    r.tails.set(n.groupKey, mine);
    r.held++;
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, Math.floor(ackWaitMs / 3)));
    const run = async () => {
      try {
        if (prev) await prev;
        await deliver(r, msg, n);
      } finally {
        clearInterval(keepAlive);
        r.held--;
        done();
        if (r.tails.get(n.groupKey) === mine) r.tails.delete(n.groupKey);
      }
    };
    return run();
  };

  // Backlog gauge: consumer info of every receiver, polled at most every backlogPollMs.
  const pollMs = opts.backlogPollMs ?? 5_000;
  const backlog = new Map<string, number>();
  let lastPoll = 0;
  let polling: Promise<void> | undefined;
  const observe: BatchObservableCallback = async (result) => {
    if (now() - lastPoll >= pollMs) {
      polling ??= (async () => {
        for (const r of receivers) {
          try {
            const ci = await bus.jsm.consumers.info(stream, r.durable);
            backlog.set(r.notifier.name, ci.num_pending + ci.num_ack_pending);
          } catch (err) {
            log.debug({ err, receiver: r.notifier.name }, 'consumer info failed');
          }
        }
      })().finally(() => {
        lastPoll = now();
        polling = undefined;
      });
      await polling;
    }
    for (const r of receivers) {
      const labels = { receiver: r.notifier.name };
      const b = backlog.get(r.notifier.name);
      if (b !== undefined) result.observe(m.backlog, b, labels);
      result.observe(m.held, r.held, labels);
    }
  };

  try {
    for (const r of receivers) {
      await ensureConsumer(
        bus.jsm,
        stream,
        consumerSpec(r.durable, {
          filterSubject: r.subject,
          ackWaitMs,
          maxDeliver: 1000,
          // Every delivered message is held by a handler that keeps it alive; none waits unseen in a buffer.
          maxAckPending: maxPending,
          description: `kec notification sender for receiver ${r.notifier.name}`,
        }),
      );
      r.handle = await consume({
        bus,
        stream,
        durable: r.durable,
        dlq: { stage: opts.dlqStage ?? 'alerter' },
        concurrency: maxPending,
        maxDeliver: 1000,
        pullAhead: Math.min(maxPending, 256),
        handler: handlerFor(r),
      });
    }
  } catch (err) {
    await Promise.allSettled(receivers.map((r) => r.handle?.stop()));
    throw err;
  }
  meter.addBatchObservableCallback(observe, [m.backlog, m.held]);
  log.info(
    { stream, receivers: receivers.map((r) => `${r.notifier.type}:${r.notifier.name}`) },
    'notification sender started',
  );

  let stopped: Promise<void> | undefined;
  return {
    receivers: receivers.map((r) => r.notifier.name),
    stats() {
      return receivers.map((r) => ({
        ...r.stats,
        held: r.held,
        queued: r.gate.queued,
        pausedUntil: r.gate.pausedUntil,
      }));
    },
    stop() {
      stopped ??= (async () => {
        // stop() first marks the consumers stopping (no new pulls), then held notifications give up their wait.
        const stops = receivers.map((r) => r.handle?.stop());
        abort.abort(stopError);
        for (const r of receivers) r.gate.close(stopError);
        await Promise.allSettled(stops);
        await dlqPublisher.flush();
        meter.removeBatchObservableCallback(observe, [m.backlog, m.held]);
        log.info('notification sender stopped');
      })();
      return stopped;
    },
  };
}
