// @kec/correlator: classify, fingerprint, count occurrences, correlate into incidents, detect patterns.
import {
  type Bus,
  connectBus,
  consumerSpec,
  ensureConsumer,
  ensureStream,
  natsSecurity,
  Publisher,
  streamSpec,
} from '@kec/bus';
import { redisSecurity } from '@kec/cache';
import { loadConfig } from '@kec/config';
import { RuleSet } from '@kec/rules';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import type { Meter } from '@opentelemetry/api';
import { type CorrelatorConfig, correlatorConfig } from './config.ts';
import { Correlator } from './correlate.ts';
import { type CorrelatorMetrics, correlatorMetrics } from './metrics.ts';
import { startStage, sweep } from './stage.ts';
import { CorrelatorState } from './state.ts';

export type { CorrelatorConfig } from './config.ts';
export { correlatorConfig } from './config.ts';
export { EventsPayloadSchema, IncidentPayloadSchema, PatternPayloadSchema } from './contract.ts';
export type {
  CorrelatorOptions,
  EventPayload,
  IncidentKey,
  IncidentPayload,
  Output,
  PatternPayload,
} from './correlate.ts';
export {
  Correlator,
  EVENTS_SCHEMA,
  INCIDENT_SCHEMA,
  incidentKeys,
  incidentPayload,
  PATTERN_SCHEMA,
} from './correlate.ts';
export type { Fingerprint, FingerprintInput, FingerprintNames } from './fingerprint.ts';
export { fingerprint, fingerprintId, messageTemplate } from './fingerprint.ts';
export type { CorrelatorMetrics } from './metrics.ts';
export { correlatorMetrics } from './metrics.ts';
export type { ObservationIn, OccurrenceState } from './occurrences.ts';
export { countOccurrences, MemoryOccurrences } from './occurrences.ts';
export type { PodCause } from './pod-status.ts';
export { podStatusCause } from './pod-status.ts';
export type { StoredClassification, StoredEvent } from './reclassify.ts';
export { classificationChanges, reclassifyStored } from './reclassify.ts';
export type { GroundTruthLike, IncidentScore, ScenarioScore, Score } from './score.ts';
export { formatScore, score } from './score.ts';
export type { CorrelatorOutputOptions, OutputWindow, Stage, StageOptions } from './stage.ts';
export {
  CorrelatorOutput,
  formatOutputWindow,
  incidentMsgId,
  publishIncident,
  startStage,
  sweep,
} from './stage.ts';
export type { IncidentState, ObserveInput, ObserveResult, StateOptions } from './state.ts';
export { CorrelatorState } from './state.ts';

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function correlatorFrom(cfg: CorrelatorConfig, state: CorrelatorState, rules?: RuleSet): Correlator {
  return new Correlator({
    rules: rules ?? RuleSet.load(csv(cfg.rulesFiles)),
    state,
    stormMin: cfg.stormMin,
    stormFactor: cfg.stormFactor,
    baselineMinutes: cfg.baselineMinutes,
    firstSeenTtlSec: cfg.firstSeenTtlSec,
  });
}

/** The streams the correlator publishes into (and its dead letters). */
export const OUTPUT_STREAMS = ['KEC_EVENTS', 'KEC_INCIDENTS', 'KEC_PATTERNS', 'KEC_DLQ'] as const;

/** The correlator without its input: the state, the rules, the incident sweep. See startCorrelation. */
export interface Correlation {
  cfg: CorrelatorConfig;
  rules: RuleSet;
  state: CorrelatorState;
  correlator: Correlator;
  metrics: CorrelatorMetrics;
  /** Why it is not ready (Redis), or undefined. */
  readiness(): string | undefined;
  /** Stops the sweep (waits for a running one) and closes the Redis state; call it after the input has stopped. */
  stop(): Promise<void>;
}

/**
 * Everything of the correlator but its consumer, shared by `kec run correlator` and the enricher's fused mode
 * (KEC_ENRICHER_CORRELATE, which hands enriched events to `correlator` in process): loads the rules (a bad file
 * fails the start), ensures `streams` (the outputs; the correlator adds KEC_ENRICHED), connects the Redis state and
 * runs the periodic incident sweep (resolution of quiet incidents) on `bus`.
 */
export async function startCorrelation(o: {
  cfg: CorrelatorConfig;
  ctx: ServiceContext;
  bus: Bus;
  meter: Meter;
  streams: readonly string[];
  /** Default: loaded from cfg.rulesFiles (a bad rule file fails the start with file:line errors). */
  rules?: RuleSet | undefined;
}): Promise<Correlation> {
  const { cfg, ctx, bus } = o;
  const log = ctx.logger;
  const rules = o.rules ?? RuleSet.load(csv(cfg.rulesFiles));
  const overrides = cfg.streamMaxBytes
    ? Object.fromEntries(o.streams.map((n) => [n, { max_bytes: cfg.streamMaxBytes }]))
    : undefined;
  for (const s of o.streams) {
    await ensureStream(
      bus.jsm,
      streamSpec(s, cfg.subjectRoot, cfg.streamPrefix, {
        ...(overrides ? { overrides } : {}),
        replicas: ctx.shared.streamReplicas,
      }),
    );
  }
  const state = CorrelatorState.connect(
    ctx.shared.redisUrl,
    cfg.redisPrefix,
    {
      windowMs: cfg.windowMs,
      occurrenceTtlSec: cfg.occurrenceTtlSec,
      incidentTtlSec: cfg.incidentTtlSec,
      maxAffected: cfg.maxAffected,
    },
    'kec-correlator',
    redisSecurity(ctx.shared),
  );
  const metrics = correlatorMetrics(o.meter);
  const sweepPub = new Publisher(bus, { window: 64 });
  let sweeping = Promise.resolve();
  const timer =
    cfg.sweepIntervalMs > 0
      ? setInterval(() => {
          sweeping = sweeping
            .then(() => sweep(bus, sweepPub, state, cfg.quietMs, Date.now()))
            .then((n) => {
              if (n) metrics.incidents.add(n, { state: 'resolved' });
            })
            .catch((err: unknown) => log.warn({ err }, 'incident sweep failed'));
        }, cfg.sweepIntervalMs)
      : undefined;
  return {
    cfg,
    rules,
    state,
    correlator: correlatorFrom(cfg, state, rules),
    metrics,
    readiness() {
      return state.redis.status === 'ready' ? undefined : `redis ${state.redis.status}`;
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sweeping;
      await sweepPub.flush();
      await state.close();
    },
  };
}

export const correlatorService: ServiceDefinition = {
  name: 'correlator',
  description:
    'Classifies, fingerprints, counts occurrences, correlates incidents and detects patterns: KEC_ENRICHED -> KEC_EVENTS, KEC_INCIDENTS, KEC_PATTERNS.',
  config: correlatorConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(correlatorConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    const rules = RuleSet.load(csv(cfg.rulesFiles)); // a bad rule file fails the start with file:line errors
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: 'kec-correlator',
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    const input = `${cfg.streamPrefix}KEC_ENRICHED`;
    let part: Correlation | undefined;
    try {
      const streams = ['KEC_ENRICHED', ...OUTPUT_STREAMS];
      part = await startCorrelation({ cfg, ctx, bus, meter: ctx.meter, streams, rules });
      await ensureConsumer(
        bus.jsm,
        input,
        consumerSpec(cfg.durable, {
          filterSubject: bus.subjects.all('enriched'),
          ackWaitMs: 30_000,
          maxDeliver: -1,
          maxAckPending: cfg.maxAckPending,
        }),
      );
    } catch (err) {
      await part?.stop();
      await bus.close();
      throw err;
    }
    const c = part;
    const stage = await startStage({
      bus,
      stream: input,
      durable: cfg.durable,
      correlator: c.correlator,
      batchSize: cfg.batchSize,
      batchWaitMs: cfg.batchWaitMs,
      concurrency: cfg.concurrency,
      nakDelayMs: cfg.nakDelayMs,
      maxNakDelayMs: cfg.maxNakDelayMs,
      metrics: c.metrics,
      logger: log,
    });
    log.info({ rulesetVersion: c.rules.version, rules: c.rules.rules.length }, 'correlator started');
    return {
      summary: () => stage.summary(),
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        return c.readiness();
      },
      async stop() {
        await stage.stop();
        await c.stop();
        await bus.close();
      },
    };
  },
};
