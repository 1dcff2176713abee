// KEC_ENRICHED (shared durable, batch mode) -> Correlator -> KEC_EVENTS / KEC_INCIDENTS / KEC_PATTERNS. A batch is
// acked only after every output of it has its publish ack; a retryable failure naks the batch (msg-ids make the
// republish of what was already published a no-op, and the Redis state answers a redelivered observation exactly as
// before); a permanent publish failure (e.g. over max_msg_size) dead-letters only the message whose output it was.
// The correlating and publishing of a batch (CorrelatorOutput) is shared with the enricher's fused mode
// (KEC_ENRICHER_CORRELATE), which hands its enriched events to it in process instead of through KEC_ENRICHED.
import {
  type Bus,
  type BusMessage,
  type ConsumerHandle,
  consume,
  consumerWindow,
  type DeadLetter,
  formatConsumerWindow,
  Publisher,
  parseBatch,
  settlePublishes,
} from '@kec/bus';
import { type EnrichedEvent, parseEnrichedEvent } from '@kec/cache';
import { eventMsgId, timestampMicros } from '@kec/model';
import type { ServiceSummary } from '@kec/runtime';
import type { Logger } from 'pino';
import { type Correlator, type IncidentPayload, incidentPayload } from './correlate.ts';
import type { CorrelatorMetrics } from './metrics.ts';
import type { CorrelatorState } from './state.ts';

export interface StageOptions {
  bus: Bus;
  stream: string;
  durable: string;
  correlator: Correlator;
  batchSize: number;
  batchWaitMs: number;
  concurrency: number;
  metrics?: CorrelatorMetrics | undefined;
  logger: Logger;
  /** Redelivery delay after a retryable failure, doubling per delivery up to maxNakDelayMs (bus defaults 1 s, 30 s). */
  nakDelayMs?: number | undefined;
  maxNakDelayMs?: number | undefined;
}

export interface Stage {
  handle: ConsumerHandle;
  publisher: Publisher;
  readonly processed: number;
  /** Events in and out, incidents and patterns published, the worst lag since the previous call: a summary line. */
  summary(): Promise<ServiceSummary>;
  stop(): Promise<void>;
}

export const incidentMsgId = (i: IncidentPayload) => `${i.cluster}/${i.id}/${i.version}`;

export async function publishIncident(bus: Bus, pub: Publisher, i: IncidentPayload): Promise<void> {
  await pub.publish(bus.subjects.incidents(i.cluster, i.namespace), i, { msgId: incidentMsgId(i) });
}

/** What CorrelatorOutput published since the previous takeWindow(): the figures of a summary line. */
export interface OutputWindow {
  events: number;
  /** Events above severity info. */
  warnings: number;
  incidents: number;
  patterns: number;
  /** The worst lag (publish ack minus the watcher's observedAt), seconds. */
  maxLagS: number;
}

const emptyWindow = (): OutputWindow => ({ events: 0, warnings: 0, incidents: 0, patterns: 0, maxLagS: 0 });

export function formatOutputWindow(x: OutputWindow): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `${n(x.events)} events out (${n(x.warnings)} above info), ${n(x.incidents)} incident updates, ${n(x.patterns)} patterns, slowest ${x.maxLagS.toFixed(1)} s after the watcher saw it`;
}

export interface CorrelatorOutputOptions {
  bus: Bus;
  publisher: Publisher;
  correlator: Correlator;
  metrics?: CorrelatorMetrics | undefined;
}

/**
 * Correlates a batch of enriched events and publishes every output: the kec.events/v1 event, the incident's newest
 * version of the batch, the patterns. Used by the correlator's stage (input KEC_ENRICHED) and by the enricher's fused
 * mode (input KEC_RAW, enriched in process); both ack their input only after publish() resolved.
 */
export class CorrelatorOutput {
  readonly o: CorrelatorOutputOptions;
  #processed = 0;
  #win = emptyWindow();
  constructor(o: CorrelatorOutputOptions) {
    this.o = o;
  }

  /** Events correlated since the start. */
  get processed(): number {
    return this.#processed;
  }

  /**
   * `events[i]` came from the input message `sources[i]`. Resolves once every output has its publish ack, with one
   * dead letter per input whose output was refused for good; rejects with the first retryable failure (Redis,
   * JetStream: the caller naks the batch).
   */
  async publish(events: readonly EnrichedEvent[], sources: readonly BusMessage[]): Promise<DeadLetter[]> {
    const { bus, publisher, metrics: m } = this.o;
    const win = this.#win;
    // Issued in stream order in one synchronous turn: the Redis scripts run in this order (one connection, pipelined).
    const outs = await Promise.all(events.map((e) => this.o.correlator.process(e)));
    const latest = new Map<string, { incident: IncidentPayload; from: BusMessage }>();
    // Each publish with the input message whose output it is.
    const pubs: { from: BusMessage; p: Promise<unknown> }[] = [];
    for (const [idx, out] of outs.entries()) {
      const e = out.event;
      const from = sources[idx] as BusMessage;
      pubs.push({
        from,
        p: publisher.publish(
          bus.subjects.events(
            e.cluster,
            e.namespace,
            e.regarding.kind || 'Unknown',
            e.type || 'Unknown',
            e.reason || 'Unknown',
          ),
          e,
          { msgId: eventMsgId(e.cluster, e.uid, e.resourceVersion) },
        ),
      });
      if (out.incident) {
        const had = latest.get(out.incident.id);
        if (!had || had.incident.version < out.incident.version) {
          latest.set(out.incident.id, { incident: out.incident, from });
        }
      }
      for (const p of out.patterns) {
        pubs.push({
          from,
          p: publisher.publish(bus.subjects.patterns(p.payload.cluster, p.payload.namespace), p.payload, {
            msgId: p.msgId,
          }),
        });
        m?.patterns.add(1, { kind: p.payload.kind });
        win.patterns++;
      }
      if (e.classification.severity !== 'info') win.warnings++;
      m?.events.add(1, { severity: e.classification.severity });
      m?.occurrences.add(e.occurrences);
      if (out.replay) m?.replays.add(1);
    }
    for (const { incident, from } of latest.values()) {
      pubs.push({ from, p: publishIncident(bus, publisher, incident) });
      m?.incidents.add(1, { state: incident.state });
      win.incidents++;
    }
    const rejected = await settlePublishes(pubs);
    this.#processed += outs.length;
    win.events += outs.length;
    const now = Date.now();
    for (const out of outs) {
      const t = timestampMicros(out.event.observedAt) / 1000;
      if (!Number.isFinite(t)) continue;
      const lag = Math.max(0, (now - t) / 1000);
      m?.lag.record(lag);
      if (lag > win.maxLagS) win.maxLagS = lag;
    }
    return rejected;
  }

  /** The figures since the previous call (and starts a new window). */
  takeWindow(): OutputWindow {
    const w = this.#win;
    this.#win = emptyWindow();
    return w;
  }
}

export async function startStage(o: StageOptions): Promise<Stage> {
  const publisher = new Publisher(o.bus, { window: 1024 });
  const output = new CorrelatorOutput({ bus: o.bus, publisher, correlator: o.correlator, metrics: o.metrics });
  const m = o.metrics;
  const handle = await consume({
    bus: o.bus,
    stream: o.stream,
    durable: o.durable,
    dlq: { stage: 'correlator' },
    // Deliveries are unlimited: a Redis or JetStream outage of any length is retried with backoff, never
    // dead-lettered; only non-retryable (poison) failures are.
    maxDeliver: Number.MAX_SAFE_INTEGER,
    ...(o.nakDelayMs === undefined ? {} : { nakDelayMs: o.nakDelayMs }),
    ...(o.maxNakDelayMs === undefined ? {} : { maxNakDelayMs: o.maxNakDelayMs }),
    concurrency: o.concurrency,
    pullAhead: Math.max(64, o.batchSize * Math.min(o.concurrency + 1, 8)),
    batch: { maxMessages: o.batchSize, maxWaitMs: o.batchWaitMs },
    handler: async (msgs: BusMessage[]) => {
      const t0 = performance.now();
      const { items: events, sources, deadLetter } = parseBatch(msgs, parseEnrichedEvent);
      deadLetter.push(...(await output.publish(events, sources)));
      m?.batchDuration.record((performance.now() - t0) / 1000);
      return deadLetter.length ? { deadLetter } : undefined;
    },
  });
  const window = consumerWindow(handle);
  return {
    handle,
    publisher,
    get processed() {
      return output.processed;
    },
    async summary() {
      const w = await window();
      const x = output.takeWindow();
      return {
        msg: `${formatConsumerWindow(w)}; ${formatOutputWindow(x)}`,
        in: w.processed,
        out: x.events,
        incidentUpdates: x.incidents,
        patterns: x.patterns,
        maxLagSeconds: Number(x.maxLagS.toFixed(3)),
        failed: w.failed,
        deadLettered: w.deadLettered,
        pending: w.pending,
      };
    },
    async stop() {
      await handle.stop();
      await publisher.flush();
    },
  };
}

/**
 * Resolves incidents quiet for `quietMs` (by event time vs clock) and publishes their final version. A resolution is
 * forgotten only after its publish ack: one whose publish failed (this sweep rejects) is published again by the next
 * sweep (on any replica; the msg-id makes a double publish a no-op). Returns the resolutions published.
 */
export async function sweep(
  bus: Bus,
  publisher: Publisher,
  state: CorrelatorState,
  quietMs: number,
  now: number,
): Promise<number> {
  let n = 0;
  for (const s of await state.unpublished()) {
    await publishIncident(bus, publisher, incidentPayload(s));
    await state.published(s.id);
    n++;
  }
  const cutoff = now - quietMs;
  for (const id of await state.quiet(cutoff)) {
    const s = await state.resolve(id, cutoff);
    if (!s) continue;
    await publishIncident(bus, publisher, incidentPayload(s));
    await state.published(id);
    n++;
  }
  return n;
}
