// @kec/telemetry: pino logs, OpenTelemetry metrics (Prometheus /metrics) and traces, /healthz and /readyz.

export type { LogFormat, LoggerOptions } from './logger.ts';
export { createLogger, prettyLogs } from './logger.ts';
export type { StatusCheck, Telemetry, TelemetryOptions } from './telemetry.ts';
export { SECONDS_BUCKETS, startTelemetry, tracesUrl } from './telemetry.ts';
