// pino JSON logs to stdout, one line per record, with the fields every kec log line carries.
import { hostname } from 'node:os';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

export interface LoggerOptions {
  /** The `service` field of every line (`watcher`, or `kec` for the runtime itself). */
  service: string;
  /** Minimum level: trace, debug, info, warn, error, fatal. @default 'info' */
  level?: Level | string;
  /** The `cluster` field of every line (KEC_CLUSTER). */
  cluster?: string;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

/**
 * A pino logger writing JSON lines: `{"level":"info","time":"2026-...Z","service":"watcher","cluster":"default",
 * "pid":1,"hostname":"...","msg":"..."}`. The level is its name and the time ISO 8601, so a log query needs no
 * lookup table; errors go under `err` with their stack and `cause` chain.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base: Record<string, unknown> = { service: options.service };
  if (options.cluster !== undefined) base['cluster'] = options.cluster;
  base['pid'] = process.pid;
  base['hostname'] = hostname();
  return pino(
    {
      level: options.level ?? 'info',
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
