// The fused mode (KEC_ENRICHER_CORRELATE=true), for small installs: the enricher hands each enriched batch to the
// correlator in this process instead of publishing it on KEC_ENRICHED, and publishes the correlator's outputs
// (kec.events, kec.incidents, kec.patterns: every public subject) with the correlator's own code (CorrelatorOutput).
// The raw batch is acked only after those outputs have their publish acks. The correlator's KEC_CORRELATOR_* keys
// apply (rules, Redis prefix, windows, the incident sweep); its batch, concurrency and durable keys do not (the
// enricher's consumer on KEC_RAW is the only one). @kec/correlator is imported only in this mode.
import { type Bus, type BusMessage, type DeadLetter, Publisher } from '@kec/bus';
import { type EnrichedEvent, isEnrichedEvent } from '@kec/cache';
import { ConfigError, loadConfig } from '@kec/config';
import { ModelValidationError } from '@kec/model';
import type { ServiceContext } from '@kec/runtime';
import { metrics } from '@opentelemetry/api';
import type { EnricherConfig } from './config.ts';
import type { EnrichedOutput } from './stage.ts';

export interface Fused {
  output: EnrichedOutput;
  /** Why it is not ready (the correlator's Redis), or undefined. */
  readiness(): string | undefined;
  /** Stops the incident sweep and closes the correlator's state; call it after the consumer has stopped. */
  stop(): Promise<void>;
}

/** The correlator's half of the fused step, on the enricher's bus. */
export async function startFused(ctx: ServiceContext, bus: Bus, cfg: EnricherConfig): Promise<Fused> {
  const c = await import('@kec/correlator');
  const ccfg = loadConfig(c.correlatorConfig, { env: ctx.env, file: ctx.configFile });
  // One bus for both halves: the names the two stages would otherwise agree on through KEC_ENRICHED must agree here.
  for (const [key, mine, theirs] of [
    ['SUBJECT_ROOT', cfg.subjectRoot, ccfg.subjectRoot],
    ['STREAM_PREFIX', cfg.streamPrefix, ccfg.streamPrefix],
  ] as const) {
    if (mine !== theirs) {
      throw new ConfigError({
        key: `KEC_CORRELATOR_${key}`,
        reason: `is "${theirs}" but KEC_ENRICHER_${key} is "${mine}"; with KEC_ENRICHER_CORRELATE=true both stages publish on one bus, so they must be equal`,
      });
    }
  }
  // The correlator's own meter name: `kec run all` with this mode also runs the correlator service (draining what is
  // left in KEC_ENRICHED), and both then count into the same instruments instead of exporting one name twice.
  const part = await c.startCorrelation({
    cfg: ccfg,
    ctx,
    bus,
    meter: metrics.getMeter('@kec/correlator'),
    streams: c.OUTPUT_STREAMS,
  });
  const out = new c.CorrelatorOutput({
    bus,
    publisher: new Publisher(bus, { window: 1024 }),
    correlator: part.correlator,
    metrics: part.metrics,
  });
  ctx.logger.info(
    { rulesetVersion: part.rules.version, rules: part.rules.rules.length },
    'enricher correlates in process (KEC_ENRICHER_CORRELATE): publishing kec.events, kec.incidents, kec.patterns',
  );
  return {
    output: {
      async publish(events, sources) {
        // What the correlator's stage would refuse as input (parseEnrichedEvent) is dead-lettered here too.
        const good: EnrichedEvent[] = [];
        const from: BusMessage[] = [];
        const refused: DeadLetter[] = [];
        events.forEach((e, i) => {
          const m = sources[i] as BusMessage;
          if (isEnrichedEvent(e)) {
            good.push(e);
            from.push(m);
          } else refused.push({ message: m, error: new ModelValidationError('', 'not a kec.enriched/v1 event') });
        });
        return [...refused, ...(await out.publish(good, from))];
      },
      summary() {
        const w = out.takeWindow();
        return {
          msg: c.formatOutputWindow(w),
          fields: { incidentUpdates: w.incidents, patterns: w.patterns },
        };
      },
      flush: () => out.o.publisher.flush(),
    },
    readiness: () => part.readiness(),
    stop: () => part.stop(),
  };
}
