// The contract between a kec service and the process that runs it (`kec run <service>|all`).
// A service is a stage: it gets its context, starts, reports readiness, and drains on stop.
import type { Meter } from '@opentelemetry/api';
import type { Logger } from 'pino';

export interface SharedConfig {
  cluster: string; // KEC_CLUSTER, default "default"
  natsUrl: string; // KEC_NATS_URL
  redisUrl: string; // KEC_REDIS_URL
  clickhouseUrl: string | undefined; // KEC_CLICKHOUSE_URL; unset means the embedded store
  dataDir: string; // KEC_DATA_DIR
  logLevel: string; // KEC_LOG_LEVEL
  metricsPort: number; // KEC_METRICS_PORT
}

/** A liveness check: returns undefined when healthy, or a reason when not. */
export type HealthCheck = () => string | undefined;

export interface ServiceContext {
  shared: SharedConfig;
  /** The process environment (or a test's), for the service's own KEC_<SECTION>_* keys. */
  env: Record<string, string | undefined>;
  logger: Logger;
  meter: Meter;
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
}

export interface ServiceDefinition {
  name: string;
  description: string;
  start(ctx: ServiceContext): Promise<RunningService>;
}
