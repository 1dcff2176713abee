// Runs kec services in one process: config, logs, telemetry, readiness, and a bounded graceful shutdown.
import { ConfigError, formatConfigError, loadConfigOrExit, sharedConfigSpec } from '@kec/config';
import { createLogger, startTelemetry, type Telemetry } from '@kec/telemetry';
import { metrics, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { RunningService, ServiceContext, ServiceDefinition, SharedConfig } from './service.ts';

/** Process and service lifecycle states, logged as `state` on every transition. */
export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface RunOptions {
  /** The environment (`process.env`). */
  env: Record<string, string | undefined>;
  /** Command-line arguments, scanned only for `--config FILE` / `--config=FILE`. */
  argv?: readonly string[];
  /** YAML config file; wins over `--config` in argv and over KEC_CONFIG_FILE. */
  configFile?: string;
  /** The `service` field of the runtime's own log lines. @default the service's name, or 'kec' for several */
  processName?: string;
}

/** Exit codes of a kec process. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

/** Time allowed for the telemetry server and providers to close after the services have stopped. */
const TELEMETRY_CLOSE_MS = 2_000;

function configFromArgv(argv: readonly string[] | undefined): string | undefined {
  if (!argv) return undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

/** KEC_METRICS_TLS_CERT_FILE and KEC_METRICS_TLS_KEY_FILE, both or neither. */
function metricsTls(shared: SharedConfig): { certFile: string; keyFile: string } | undefined {
  const { metricsTlsCertFile: certFile, metricsTlsKeyFile: keyFile } = shared;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    process.stderr.write(
      `${formatConfigError(new ConfigError({ key: certFile === undefined ? 'KEC_METRICS_TLS_CERT_FILE' : 'KEC_METRICS_TLS_KEY_FILE', reason: 'is required when the other metrics TLS file is set' }))}\n`,
    );
    process.exit(EXIT_CONFIG);
  }
  return { certFile, keyFile };
}

interface Slot {
  def: ServiceDefinition;
  logger: Logger;
  running: RunningService | undefined;
  state: LifecycleState;
  /** Its `failed` resolved: still stopped, so its connections close cleanly. */
  failedWhileRunning: boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  return Promise.race([p.then((value) => ({ done: true as const, value })), timeout]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * Runs the services until SIGTERM/SIGINT, then drains them and exits. Never returns: it owns the process.
 *
 * 1. Loads the shared config and each service's section (exit 2 with one line on stderr when bad).
 * 2. Starts telemetry once (/metrics, /healthz, /readyz on KEC_METRICS_PORT), then each service in order, each with
 *    its own logger, meter and tracer. /readyz is 503 until every service is started and reports ready.
 * 3. A start() that throws is logged with its cause; the started services are stopped and the process exits 1
 *    (no restart loop in the process: the orchestrator restarts it).
 * 4. On the first SIGTERM/SIGINT (or a service's `failed`): abort ctx.signal, stop() services in reverse start
 *    order within KEC_SHUTDOWN_GRACE_MS, close telemetry, exit 0 (1 when a stop failed, the grace expired, or a
 *    service failed). A second signal exits 1 at once.
 */
export async function runServices(definitions: readonly ServiceDefinition[], options: RunOptions): Promise<never> {
  const env = options.env;
  const configFile = options.configFile ?? configFromArgv(options.argv) ?? env['KEC_CONFIG_FILE'] ?? undefined;
  const file = configFile === '' ? undefined : configFile;
  const shared: SharedConfig = loadConfigOrExit(sharedConfigSpec, { env, file });
  for (const def of definitions) {
    if (def.config) loadConfigOrExit(def.config, { env, file });
  }
  const names = definitions.map((d) => d.name);
  const processName = options.processName ?? (definitions.length === 1 ? names[0]! : 'kec');
  const logOptions = { level: shared.logLevel, cluster: shared.cluster, format: shared.logFormat };
  const log = createLogger({ service: processName, ...logOptions });

  let processState: LifecycleState = 'starting';
  let exitCode = EXIT_OK;
  let shuttingDown: Promise<never> | undefined;
  let inFlightStart: Promise<unknown> | undefined;
  const controller = new AbortController();
  const slots: Slot[] = definitions.map((def) => ({
    def,
    logger: definitions.length === 1 ? log : createLogger({ service: def.name, ...logOptions }),
    running: undefined,
    state: 'starting',
    failedWhileRunning: false,
  }));

  const setProcessState = (state: LifecycleState, extra: Record<string, unknown> = {}): void => {
    processState = state;
    const level = state === 'failed' ? 'error' : 'info';
    log[level]({ state, services: names, ...extra }, `kec ${state}`);
  };
  const setState = (slot: Slot, state: LifecycleState, extra: Record<string, unknown> = {}): void => {
    slot.state = state;
    const level = state === 'failed' ? 'error' : 'info';
    slot.logger[level]({ state, ...extra }, `service ${state}`);
  };

  const exit = (code: number): never => {
    process.exit(code);
  };

  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    exit(EXIT_FAILURE);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled promise rejection; exiting');
    exit(EXIT_FAILURE);
  });

  setProcessState('starting', {
    configFile: file,
    node: process.version,
    metricsPort: shared.metricsPort,
    shutdownGraceMs: shared.shutdownGraceMs,
  });

  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry({
      service: processName,
      port: shared.metricsPort,
      host: shared.metricsHost,
      otlp: shared.otlpEndpoint ? { endpoint: shared.otlpEndpoint, sampleRatio: shared.traceSampleRatio } : undefined,
      tls: metricsTls(shared),
      logger: log,
      attributes: { 'k8s.cluster.name': shared.cluster },
    });
  } catch (err) {
    setProcessState('failed', {
      err,
      reason: `telemetry could not listen on ${shared.metricsHost} port ${shared.metricsPort}`,
    });
    return exit(EXIT_FAILURE);
  }
  telemetry.setReadiness('kec', () => (processState === 'running' ? undefined : processState));

  const shutdown = (reason: string, code: number): Promise<never> => {
    if (code > exitCode) exitCode = code;
    shuttingDown ??= (async () => {
      const began = performance.now();
      setProcessState('draining', { reason });
      clearInterval(summaryTimer);
      controller.abort(new Error(`kec is shutting down: ${reason}`));
      let stopFailed = false;
      const stopAll = (async () => {
        // A start() still running when the signal came: let it finish (it sees ctx.signal aborted), then stop it.
        await inFlightStart?.catch(() => undefined);
        for (const slot of [...slots].reverse()) {
          if (!slot.running || (slot.state !== 'running' && !slot.failedWhileRunning)) continue;
          setState(slot, 'draining');
          const t0 = performance.now();
          try {
            await slot.running.stop();
            setState(slot, 'stopped', { stopMs: Math.round(performance.now() - t0) });
          } catch (err) {
            stopFailed = true;
            setState(slot, 'failed', { err, during: 'stop' });
          }
        }
      })();
      const outcome = await withTimeout(stopAll, shared.shutdownGraceMs);
      if (!outcome.done) {
        const pending = slots.filter((s) => s.state === 'draining' || s.state === 'starting').map((s) => s.def.name);
        log.error({ graceMs: shared.shutdownGraceMs, pending }, 'shutdown grace expired; exiting without a clean stop');
        exitCode = EXIT_FAILURE;
      }
      if (stopFailed) exitCode = Math.max(exitCode, EXIT_FAILURE);
      const closed = await withTimeout(telemetry.close(), TELEMETRY_CLOSE_MS);
      if (!closed.done) log.warn('telemetry did not close in time');
      const drainMs = Math.round(performance.now() - began);
      if (exitCode === EXIT_OK) setProcessState('stopped', { drainMs, exitCode });
      else setProcessState('failed', { drainMs, exitCode });
      return exit(exitCode);
    })();
    return shuttingDown;
  };

  let summaryTimer: NodeJS.Timeout | undefined;
  const logSummaries = async (): Promise<void> => {
    for (const slot of slots) {
      if (slot.state !== 'running' || !slot.running?.summary) continue;
      try {
        const s = await slot.running.summary();
        if (!s || shuttingDown) continue;
        const { msg, ...fields } = s;
        slot.logger.info({ summary: true, ...fields }, msg);
      } catch (err) {
        slot.logger.debug({ err }, 'summary failed');
      }
    }
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal; exiting now without draining');
      exit(EXIT_FAILURE);
      return;
    }
    void shutdown(signal, EXIT_OK);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  for (const slot of slots) {
    if (shuttingDown) return shuttingDown;
    const { def } = slot;
    setState(slot, 'starting');
    telemetry.setReadiness(def.name, () => (slot.running ? slot.running.readiness() : slot.state));
    const ctx: ServiceContext = {
      shared,
      env,
      configFile: file,
      logger: slot.logger,
      meter: metrics.getMeter(`@kec/${def.name}`),
      tracer: trace.getTracer(`@kec/${def.name}`),
      registerHealthCheck: (name, check) => {
        telemetry.registerHealthCheck(`${def.name}/${name}`, check);
      },
      signal: controller.signal,
    };
    const t0 = performance.now();
    try {
      const starting = def.start(ctx);
      inFlightStart = starting;
      slot.running = await starting;
    } catch (err) {
      if (shuttingDown) {
        setState(slot, 'failed', { err, during: 'start (interrupted by shutdown)' });
        return shuttingDown;
      }
      if (err instanceof ConfigError) {
        process.stderr.write(`${formatConfigError(err)}\n`);
        setState(slot, 'failed', { err, during: 'start' });
        return shutdown(`${def.name} has a config error`, EXIT_CONFIG);
      }
      setState(slot, 'failed', { err, during: 'start' });
      return shutdown(`${def.name} failed to start`, EXIT_FAILURE);
    }
    setState(slot, 'running', { startMs: Math.round(performance.now() - t0) });
    if (shuttingDown) return shuttingDown; // the drain, which waited for this start, stops it
    void slot.running.failed?.then((err) => {
      if (slot.state !== 'running') return;
      slot.failedWhileRunning = true;
      setState(slot, 'failed', { err, during: 'run' });
      void shutdown(`${def.name} failed`, EXIT_FAILURE);
    });
  }
  if (definitions.length === 0) {
    log.warn('no services to run: serving /metrics, /healthz and /readyz only');
  }
  setProcessState('running', { port: telemetry.port });
  if (shared.logSummaryIntervalMs > 0) {
    summaryTimer = setInterval(() => void logSummaries(), shared.logSummaryIntervalMs);
    summaryTimer.unref();
  }
  return new Promise<never>(() => {});
}
