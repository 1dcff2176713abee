// @kec/writer: stores what the pipeline publishes (KEC_EVENTS, KEC_INCIDENTS, KEC_GAPS, KEC_PATTERNS) into
// ClickHouse (a server, or the embedded chdb), replay-safe.
import { connectBus, natsSecurity } from '@kec/bus';
import { loadConfig } from '@kec/config';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { clickhouseSecurity, openStore } from '@kec/store';
import { writerConfig } from './config.ts';
import { retentionOf } from './retention.ts';
import { Writer } from './writer.ts';

export type { WriterConfig } from './config.ts';
export { writerConfig } from './config.ts';
export type {
  Classification,
  Enrichment,
  IncidentPayload,
  KecEventsPayload,
  PatternPayload,
} from './contract.ts';
export {
  ClassificationSchema,
  EnrichmentSchema,
  EVENTS_SCHEMA,
  FingerprintSchema,
  INCIDENT_SCHEMA,
  IncidentPayloadSchema,
  IncidentPayloadValidator,
  KecEventsPayloadSchema,
  KecEventsPayloadValidator,
  PATTERN_SCHEMA,
  PatternPayloadSchema,
  PatternPayloadValidator,
  SeveritySchema,
} from './contract.ts';
export { PayloadError } from './errors.ts';
export type { MigrateCommandOptions } from './migrate-command.ts';
export { runMigrate } from './migrate-command.ts';
export { retentionOf } from './retention.ts';
export type { EventRow, GapRow, IncidentRow, OccurrenceRow, PatternRow } from './rows.ts';
export {
  eventBatchRows,
  eventRow,
  fnv1a64,
  gapRow,
  incidentRow,
  observationVersion,
  occurrenceKey,
  occurrenceRow,
  occurrencesOf,
  patternRow,
  windowSeconds,
} from './rows.ts';
export type { TableInsert, WriterDeps, WriterInput, WriterState } from './writer.ts';
export { batchToken, WRITER_INPUTS, Writer } from './writer.ts';

export const writerService: ServiceDefinition = {
  name: 'writer',
  description:
    'Stores events, occurrences, incidents, gaps and patterns into ClickHouse (server or embedded), replay-safe.',
  config: writerConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(writerConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: 'kec-writer',
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    const writer = new Writer({
      cfg,
      bus,
      logger: log,
      meter: ctx.meter,
      retention: retentionOf(cfg),
      streamPrefix: cfg.streamPrefix,
      streamReplicas: ctx.shared.streamReplicas,
      clickhouseCluster: ctx.shared.clickhouseCluster,
      openStore: () =>
        openStore({
          clickhouseUrl: ctx.shared.clickhouseUrl,
          security: clickhouseSecurity(ctx.shared),
          dataDir: ctx.shared.dataDir,
          database: cfg.database,
          logger: log,
          http: {
            requestTimeoutMs: cfg.requestTimeoutMs,
            idleSocketTtlMs: cfg.idleSocketTtlMs,
            insertAttempts: cfg.insertAttempts,
          },
        }),
    });
    // Opening the store may wait (server down, embedded directory locked): the service is started but not ready.
    const failed = writer.start().then(
      () => new Promise<Error>(() => {}),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    return {
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        return writer.readiness();
      },
      failed,
      summary: () => writer.summary(),
      async stop() {
        await writer.stop();
        await bus.close();
      },
    };
  },
};
