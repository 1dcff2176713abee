// Metrics (OpenTelemetry -> Prometheus text), traces (W3C context, no exporter by default), and one HTTP server
// for /metrics, /healthz and /readyz.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { context, type Meter, metrics, propagation, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, InstrumentType, MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { registerProcessMetrics } from './process-metrics.ts';

/** Returns undefined when fine, or the reason it is not. A check that throws reports the error's message. */
export type StatusCheck = () => string | undefined;

export interface TelemetryOptions {
  /** `service.name` of the metrics and traces resource, and the meter/tracer name (`@kec/<service>`). */
  service: string;
  /** HTTP port for /metrics, /healthz, /readyz; 0 picks a free port (read it back from `port`). */
  port: number;
  /** Interface to listen on. @default '0.0.0.0' (a pod's probes and Prometheus come from outside) */
  host?: string;
  /** PEM certificate and key files: set, the server speaks HTTPS only. */
  tls?: { certFile: string; keyFile: string } | undefined;
  logger: Logger;
  /** Resource attributes such as `k8s.cluster.name`. */
  attributes?: Record<string, string>;
  /** Span processors (e.g. a BatchSpanProcessor around an OTLP exporter). @default none: spans are not exported */
  spanProcessors?: SpanProcessor[];
  /**
   * Export traces over OTLP/HTTP (JSON) to `endpoint` (a collector's base URL, `/v1/traces` appended unless given),
   * batched; `sampleRatio` of new traces are kept (0..1), and a trace continued from a message header keeps its
   * parent's decision, so one event's trace is whole or absent.
   */
  otlp?: { endpoint: string; sampleRatio: number } | undefined;
}

export interface Telemetry {
  /** The meter `@kec/<service>`; other meters come from `metrics.getMeter()` (the provider is global). */
  meter: Meter;
  tracer: Tracer;
  /** Adds or replaces a liveness check; /healthz answers 503 with every failing reason. Returns a remover. */
  registerHealthCheck(name: string, check: StatusCheck): () => void;
  /** Adds or replaces a readiness source; /readyz is 200 only when every source reports undefined. */
  setReadiness(name: string, check: StatusCheck): () => void;
  /** The port actually listened on. */
  port: number;
  /** Stops the HTTP server, flushes and shuts down the providers, and unregisters the globals. */
  close(): Promise<void>;
}

let active = false;

/** The OTLP/HTTP traces URL of a collector endpoint: `<base>/v1/traces` unless the path already says it. */
export function tracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (!u.pathname.endsWith('/v1/traces')) u.pathname = `${u.pathname.replace(/\/$/, '')}/v1/traces`;
  return u.toString();
}

/**
 * Buckets for every histogram named `*_seconds` (the SDK's default buckets, 0 to 10000, suit milliseconds).
 * From 1 ms to 60 s: pipeline stage latencies, end-to-end lag and shutdown durations all fit.
 */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function evaluate(checks: Map<string, StatusCheck>): Record<string, string> {
  const failing: Record<string, string> = {};
  for (const [name, check] of checks) {
    try {
      const reason = check();
      if (reason !== undefined) failing[name] = reason;
    } catch (err) {
      failing[name] = `check threw: ${(err as Error).message}`;
    }
  }
  return failing;
}

function reply(res: ServerResponse, failing: Record<string, string>, bad: string): void {
  const ok = Object.keys(failing).length === 0;
  const body = JSON.stringify(ok ? { status: 'ok' } : { status: bad, reasons: failing });
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${body}\n`);
}

/**
 * Starts metrics, tracing and the HTTP endpoint. Registers the MeterProvider, TracerProvider, an AsyncLocalStorage
 * context manager and the W3C trace-context + baggage propagator globally, so any library using
 * `@opentelemetry/api` reports through them. One per process: a second call before `close()` throws.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  if (active) throw new Error('startTelemetry: telemetry is already running in this process');
  active = true;
  const { logger } = options;
  try {
    const resource = resourceFromAttributes({ 'service.name': options.service, ...options.attributes });
    // Scope labels are left out: metric names already carry the service (kec_<service>_...).
    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    const meterProvider = new MeterProvider({
      resource,
      readers: [exporter],
      views: [
        {
          instrumentType: InstrumentType.HISTOGRAM,
          instrumentName: '*_seconds',
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: SECONDS_BUCKETS } },
        },
      ],
    });
    const spanProcessors = [...(options.spanProcessors ?? [])];
    if (options.otlp) {
      const exporter = new OTLPTraceExporter({ url: tracesUrl(options.otlp.endpoint) });
      spanProcessors.push(new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 }));
    }
    const tracerProvider = new TracerProvider({
      resource,
      spanProcessors,
      // With nothing to export to, new traces are not recorded: a span per message and stage (consume and publish)
      // was ~3 % of the enricher's and correlator's CPU for nothing. Their contexts still propagate (traceparent with
      // the sampled flag off), and a trace continued from a sampled parent is recorded as before.
      ...(options.otlp
        ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.otlp.sampleRatio) }) }
        : spanProcessors.length === 0
          ? { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }
          : {}),
    });
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);

    const stopProcessMetrics = registerProcessMetrics(meterProvider.getMeter('@kec/process'));
    const health = new Map<string, StatusCheck>();
    const readiness = new Map<string, StatusCheck>();
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      switch (path) {
        case '/metrics':
          exporter.getMetricsRequestHandler(req, res);
          return;
        case '/healthz':
          reply(res, evaluate(health), 'unhealthy');
          return;
        case '/readyz':
          reply(res, evaluate(readiness), 'not ready');
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
      }
    };
    const server = options.tls
      ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, handler)
      : createServer(handler);
    server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval, so connections are reused
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    logger.info(
      {
        host: options.host ?? '0.0.0.0',
        tls: options.tls !== undefined,
        // `"port":N,"endpoints"` stays adjacent: scripts and the e2e harness read the port from this line.
        port,
        endpoints: ['/metrics', '/healthz', '/readyz'],
      },
      'telemetry listening',
    );

    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closed ??= (async () => {
        stopProcessMetrics();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        const results = await Promise.allSettled([meterProvider.shutdown(), tracerProvider.shutdown()]);
        for (const r of results) {
          if (r.status === 'rejected') logger.warn({ err: r.reason }, 'telemetry shutdown error');
        }
        metrics.disable();
        trace.disable();
        propagation.disable();
        context.disable();
        active = false;
      })();
      return closed;
    };

    const add = (map: Map<string, StatusCheck>, name: string, check: StatusCheck): (() => void) => {
      map.set(name, check);
      return () => {
        if (map.get(name) === check) map.delete(name);
      };
    };

    return {
      meter: meterProvider.getMeter(`@kec/${options.service}`),
      tracer: tracerProvider.getTracer(`@kec/${options.service}`),
      registerHealthCheck: (name, check) => add(health, name, check),
      setReadiness: (name, check) => add(readiness, name, check),
      port,
      close,
    };
  } catch (err) {
    metrics.disable();
    trace.disable();
    propagation.disable();
    context.disable();
    active = false;
    throw err;
  }
}
