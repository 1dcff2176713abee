// The contract between a kec service and the process that runs it (`kec run <service>|all`).
// A service is a stage: it gets its context, starts, reports readiness, and drains on stop.
import type { ConfigSpec, SharedConfigValues } from '@kec/config';
import type { Meter, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';

/**
 * The shared keys (KEC_CLUSTER, KEC_NATS_*, KEC_REDIS_*, KEC_CLICKHOUSE_*, KEC_DATA_DIR, KEC_LOG_LEVEL, KEC_METRICS_*,
 * KEC_SHUTDOWN_GRACE_MS...): the table in libs/config/README.md.
 */
export type SharedConfig = SharedConfigValues;

/** A liveness check: returns undefined when healthy, or a reason when not. */
export type HealthCheck = () => string | undefined;

export interface ServiceContext {
  shared: SharedConfig;
  /** The process environment (or a test's), for the service's own KEC_<SECTION>_* keys. */
  env: Record<string, string | undefined>;
  /** The YAML config file in use (KEC_CONFIG_FILE or --config), for `loadConfig(spec, { env, file: configFile })`. */
  configFile: string | undefined;
  /** Lines carry `service: <name>` and `cluster`. */
  logger: Logger;
  /** The meter `@kec/<name>`; metric names follow kec_<service>_<what>_<unit>. */
  meter: Meter;
  /** The tracer `@kec/<name>` (W3C context propagation is registered globally). */
  tracer: Tracer;
  /** Register a liveness check that makes /healthz fail (e.g. a stuck loop). */
  registerHealthCheck(name: string, check: HealthCheck): void;
  /** Aborted when the process starts draining. */
  signal: AbortSignal;
}

export interface RunningService {
  /** Readiness for /readyz: undefined when ready, or why not. */
  readiness(): string | undefined;
  /** Stop taking new work, finish and ack what is in flight, close connections. */
  stop(): Promise<void>;
  /**
   * Optional: resolves with the error when the service can no longer work (a consume loop died). The runtime then
   * logs it, stops every service (this one too, to close its connections) and exits 1, so the orchestrator
   * restarts the process. Never rejects.
   */
  failed?: Promise<Error>;
  /**
   * Optional: what the service did since the previous call (events in and out, lag, errors), which the runtime logs
   * at info every KEC_LOG_SUMMARY_INTERVAL_MS (default a minute) as `msg` with the other fields; undefined: no line.
   */
  summary?(): Promise<ServiceSummary | undefined> | ServiceSummary | undefined;
}

/** One summary line: a sentence a person reads, and the same figures as fields for log queries. */
export interface ServiceSummary {
  msg: string;
  [field: string]: unknown;
}

export interface ServiceDefinition {
  name: string;
  description: string;
  /** Optional: the service's own config section; the runtime validates it before starting anything (exit 2). */
  config?: ConfigSpec;
  /** Throw to fail the process (logged with its cause, exit 1); a ConfigError exits 2 with its one-line message. */
  start(ctx: ServiceContext): Promise<RunningService>;
}
