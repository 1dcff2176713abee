// The consumer side: KEC_RAW (shared durable, batch mode) -> Enricher -> KEC_ENRICHED. A batch is acked only after
// every enriched event of it has its JetStream publish ack; a retryable publish failure naks the batch (the msg-id
// makes the republish of its already-published events a no-op); a permanent one (e.g. an enriched event over the
// stream's max_msg_size) dead-letters only the raw message it came from.
// In the fused mode (KEC_ENRICHER_CORRELATE, see fused.ts) `output` replaces KEC_ENRICHED: the enriched events go to
// the correlator in this process, and the batch is acked once the correlator's outputs have their publish acks.
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
import type { EnrichedEvent } from '@kec/cache';
import { eventMsgId, parseKecEvent, timestampMicros } from '@kec/model';
import type { ServiceSummary } from '@kec/runtime';
import type { Logger } from 'pino';
import type { BatchEnricher } from './clusters.ts';
import type { EnricherMetrics } from './metrics.ts';

export interface StageOptions {
  bus: Bus;
  stream: string;
  durable: string;
  enricher: BatchEnricher;
  batchSize: number;
  batchWaitMs: number;
  concurrency: number;
  metrics: EnricherMetrics;
  logger: Logger;
  /** Redelivery delay after a retryable failure, doubling per delivery up to maxNakDelayMs (bus defaults 1 s, 30 s). */
  nakDelayMs?: number | undefined;
  maxNakDelayMs?: number | undefined;
  publishWindow?: number;
  /** Where the enriched events go instead of KEC_ENRICHED (the fused mode). */
  output?: EnrichedOutput | undefined;
}

/** A destination of enriched events other than KEC_ENRICHED. */
export interface EnrichedOutput {
  /**
   * `events[i]` came from the raw message `sources[i]`. Resolves once every output has its publish ack, with a dead
   * letter per raw message whose output was refused for good; rejects with a retryable failure (the batch is nak'ed).
   */
  publish(events: readonly EnrichedEvent[], sources: readonly BusMessage[]): Promise<DeadLetter[]>;
  /** What it published since the previous call, for the summary line: text and figures. */
  summary(): { msg: string; fields: Record<string, number> };
  /** Waits for every publish in flight (after the consumer stopped). */
  flush(): Promise<void>;
}

/** The default output: every enriched event on `<root>.enriched.<cluster>.<ns>.<kind>` (KEC_ENRICHED). */
function enrichedStream(bus: Bus, window: number): EnrichedOutput {
  const publisher = new Publisher(bus, { window });
  return {
    publish: (enriched, sources) =>
      settlePublishes(
        enriched.map((e, i) => ({
          from: sources[i] as BusMessage,
          p: publisher.publish(bus.subjects.enriched(e.cluster, e.namespace, e.regarding.kind || 'Unknown'), e, {
            msgId: eventMsgId(e.cluster, e.uid, e.resourceVersion),
          }),
        })),
      ),
    summary: () => ({ msg: '', fields: {} }),
    flush: () => publisher.flush(),
  };
}

export interface Stage {
  handle: ConsumerHandle;
  /** Events published since start. */
  readonly published: number;
  /** Events in and out since the previous call, with the enrichment statuses and the worst lag: a summary line. */
  summary(): Promise<ServiceSummary>;
  stop(): Promise<void>;
}

export async function startStage(o: StageOptions): Promise<Stage> {
  const output = o.output ?? enrichedStream(o.bus, o.publishWindow ?? 512);
  let published = 0;
  let statuses: Record<string, number> = {};
  let maxLagS = 0;
  const handle = await consume({
    bus: o.bus,
    stream: o.stream,
    durable: o.durable,
    dlq: { stage: 'enricher' },
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
      const { items: events, sources, deadLetter } = parseBatch(msgs, parseKecEvent);
      const enriched = await o.enricher.enrichBatch(events); // enriched[i] is events[i]
      const rejected = await output.publish(enriched, sources);
      deadLetter.push(...rejected);
      const failed = new Set(rejected.map((d) => d.message));
      const ok = enriched.filter((_, i) => !failed.has(sources[i] as BusMessage));
      const now = Date.now();
      for (const e of ok) {
        const status = e.enrichment.status;
        o.metrics.events.add(1, { status });
        statuses[status] = (statuses[status] ?? 0) + 1;
        const observed = timestampMicros(e.observedAt) / 1000;
        if (Number.isFinite(observed)) {
          const lag = Math.max(0, (now - observed) / 1000);
          o.metrics.lag.record(lag);
          if (lag > maxLagS) maxLagS = lag;
        }
      }
      published += ok.length;
      o.metrics.batchDuration.record((performance.now() - t0) / 1000);
      return deadLetter.length ? { deadLetter } : undefined;
    },
  });
  const window = consumerWindow(handle);
  let publishedBefore = 0;
  return {
    handle,
    get published() {
      return published;
    },
    async summary() {
      const w = await window();
      const out = published - publishedBefore;
      publishedBefore = published;
      const counts = statuses;
      const lag = maxLagS;
      statuses = {};
      maxLagS = 0;
      const shares = Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([s, n]) => `${s} ${((100 * n) / Math.max(1, out)).toFixed(1)} %`)
        .join(', ');
      const after = output.summary();
      return {
        msg: after.msg
          ? `${formatConsumerWindow(w)}; ${out.toLocaleString('en-US')} enriched${shares ? ` (${shares})` : ''} and correlated: ${after.msg}`
          : `${formatConsumerWindow(w)}; ${out.toLocaleString('en-US')} enriched out${shares ? ` (${shares})` : ''}, slowest ${lag.toFixed(1)} s after the watcher saw it`,
        in: w.processed,
        out,
        ...after.fields,
        statuses: counts,
        maxLagSeconds: Number(lag.toFixed(3)),
        failed: w.failed,
        deadLettered: w.deadLettered,
        pending: w.pending,
      };
    },
    async stop() {
      await handle.stop();
      await output.flush();
    },
  };
}
