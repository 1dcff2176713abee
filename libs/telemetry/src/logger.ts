// pino logs to stdout, one line per record, with the fields every kec log line carries: JSON for machines, or one
// readable coloured line per record for a person at a terminal (pino-pretty, written synchronously like the JSON).
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { isatty } from 'node:tty';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

// pino-pretty is loaded only for pretty lines: a JSON process does not pay for it.
const require = createRequire(import.meta.url);

/** `auto`: pretty when stdout is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  /** The `service` field of every line (`watcher`, or `kec` for the runtime itself). */
  service: string;
  /** Minimum level: trace, debug, info, warn, error, fatal. @default 'info' */
  level?: Level | string;
  /** The `cluster` field of every line (KEC_CLUSTER). */
  cluster?: string;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
  /** @default 'auto' (KEC_LOG_FORMAT); with a `destination`, `auto` means JSON. */
  format?: LogFormat;
  /** Colours in pretty lines. @default unless NO_COLOR is set */
  colorize?: boolean;
}

/** Whether lines are pretty: `pretty`, or `auto` with stdout a terminal (and no other destination). */
export function prettyLogs(format: LogFormat | undefined, destination?: DestinationStream): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  // isatty, not process.stdout.isTTY: that getter opens a stream on fd 1 (for a pipe, non-blocking) under pino.
  return destination === undefined && isatty(1);
}

/**
 * A pino logger. JSON lines: `{"level":"info","time":"2026-...Z","service":"watcher","cluster":"default",
 * "pid":1,"hostname":"...","msg":"..."}`: the level is its name and the time ISO 8601, so a log query needs no
 * lookup table; errors go under `err` with their stack and `cause` chain. Pretty lines:
 * `14:02:11.342 INFO  watcher: service running {"startMs":812}`, pid, hostname and cluster left out, errors with
 * their stack below the line.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base: Record<string, unknown> = { service: options.service };
  if (options.cluster !== undefined) base['cluster'] = options.cluster;
  base['pid'] = process.pid;
  base['hostname'] = hostname();
  const opts = {
    level: options.level ?? 'info',
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (prettyLogs(options.format, options.destination)) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    const stream = pretty({
      sync: true,
      colorize: options.colorize ?? !process.env['NO_COLOR'],
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,cluster,service',
      messageFormat: '{service}: {msg}',
      singleLine: true,
      ...(options.destination ? { destination: options.destination } : {}),
    });
    return pino(opts, stream);
  }
  return pino(opts, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
