// @kec/correlator: classify, fingerprint, count occurrences, correlate into incidents, detect patterns.
import { connectBus, consumerSpec, ensureConsumer, ensureStream, natsSecurity, Publisher, streamSpec } from '@kec/bus';
import { redisSecurity } from '@kec/cache';
import { loadConfig } from '@kec/config';
import { RuleSet } from '@kec/rules';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { type CorrelatorConfig, correlatorConfig } from './config.ts';
import { Correlator } from './correlate.ts';
import { correlatorMetrics } from './metrics.ts';
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
export type { Stage, StageOptions } from './stage.ts';
export { incidentMsgId, publishIncident, startStage, sweep } from './stage.ts';
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

export const correlatorService: ServiceDefinition = {
  name: 'correlator',
  description:
    'Classifies, fingerprints, counts occurrences, correlates incidents and detects patterns: KEC_ENRICHED -> KEC_EVENTS, KEC_INCIDENTS, KEC_PATTERNS.',
  config: correlatorConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(correlatorConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    const rules = RuleSet.load(csv(cfg.rulesFiles)); // a bad rule file fails the start with file:line errors
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
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: 'kec-correlator',
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    const input = `${cfg.streamPrefix}KEC_ENRICHED`;
    try {
      const names = ['KEC_ENRICHED', 'KEC_EVENTS', 'KEC_INCIDENTS', 'KEC_PATTERNS', 'KEC_DLQ'];
      const overrides = cfg.streamMaxBytes
        ? Object.fromEntries(names.map((n) => [n, { max_bytes: cfg.streamMaxBytes }]))
        : undefined;
      for (const s of names) {
        await ensureStream(
          bus.jsm,
          streamSpec(s, cfg.subjectRoot, cfg.streamPrefix, {
            ...(overrides ? { overrides } : {}),
            replicas: ctx.shared.streamReplicas,
          }),
        );
      }
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
      await bus.close();
      await state.close();
      throw err;
    }
    const metrics = correlatorMetrics(ctx.meter);
    const stage = await startStage({
      bus,
      stream: input,
      durable: cfg.durable,
      correlator: correlatorFrom(cfg, state, rules),
      batchSize: cfg.batchSize,
      batchWaitMs: cfg.batchWaitMs,
      concurrency: cfg.concurrency,
      nakDelayMs: cfg.nakDelayMs,
      maxNakDelayMs: cfg.maxNakDelayMs,
      metrics,
      logger: log,
    });
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
    log.info({ rulesetVersion: rules.version, rules: rules.rules.length }, 'correlator started');
    return {
      summary: () => stage.summary(),
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        if (state.redis.status !== 'ready') return `redis ${state.redis.status}`;
        return undefined;
      },
      async stop() {
        if (timer) clearInterval(timer);
        await sweeping;
        await stage.stop();
        await sweepPub.flush();
        await bus.close();
        await state.close();
      },
    };
  },
};
