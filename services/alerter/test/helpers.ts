// Test helpers: incidents, events and patterns as the correlator publishes them; alerts files from text.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, connectBus, ensureStream, streamSpec } from '@kec/bus';
import { loadConfig, sharedConfigSpec } from '@kec/config';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { metrics, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { EventIn, IncidentIn, PatternIn } from '../src/index.ts';

export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';

export function incident(o: Partial<IncidentIn> & { id: string }): IncidentIn {
  return {
    schema: 'kec.incident/v1',
    cluster: 'prod',
    namespace: 'shop',
    title: 'BackOff on Pod shop/web-7d9f8b6c5d-x2x4z (+3 more)',
    severity: 'error',
    category: 'health',
    rootCause: {
      eventUid: 'u1',
      reason: 'BackOff',
      object: 'Pod/shop/web-7d9f8b6c5d-x2x4z',
      why: 'restarting failed container',
    },
    affected: ['Pod/shop/web-7d9f8b6c5d-x2x4z', 'Pod/shop/web-7d9f8b6c5d-b8k2m'],
    firstSeen: '2026-12-07T10:00:00.000Z',
    lastSeen: '2026-12-07T10:05:00.000Z',
    eventCount: 4,
    occurrenceCount: 120,
    state: 'open',
    version: 1,
    ...o,
  };
}

export function event(o: {
  reason: string;
  name: string;
  namespace?: string;
  kind?: string;
  occurrences?: number;
  severity?: 'info' | 'warning' | 'error' | 'critical';
  workload?: { kind: string; name: string } | null;
  node?: string;
  note?: string;
  labels?: Record<string, string>;
  cluster?: string;
}): EventIn {
  const ns = o.namespace ?? 'shop';
  return {
    schema: 'kec.events/v1',
    cluster: o.cluster ?? 'prod',
    namespace: ns,
    uid: `${o.name}-${o.reason}`,
    reason: o.reason,
    type: 'Warning',
    note: o.note ?? `Back-off restarting failed container app in pod ${o.name}`,
    regarding: { kind: o.kind ?? 'Pod', namespace: ns, name: o.name },
    enrichment: {
      object: { labels: o.labels ?? { app: 'web' } },
      workload: o.workload === undefined ? { kind: 'Deployment', name: 'web' } : o.workload,
      node: o.node ? { name: o.node } : null,
    },
    classification: { severity: o.severity ?? 'error', category: 'health' },
    fingerprint: { id: 'fp1' },
    occurrences: o.occurrences ?? 1,
    incidentId: null,
  };
}

export function pattern(o: Partial<PatternIn> = {}): PatternIn {
  return {
    schema: 'kec.pattern/v1',
    kind: 'storm',
    cluster: 'prod',
    namespace: 'shop',
    workload: 'Deployment/web',
    fingerprint: '',
    reason: 'BackOff',
    type: 'Warning',
    severity: 'error',
    rate: 2000,
    baseline: 3,
    at: '2026-12-07T10:00:00.000Z',
    ...o,
  };
}

export const waitFor = async <T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<Awaited<T>>> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Runs a ServiceDefinition in this process (as `kec run` would), returning its stop function. */
export async function startService(
  def: ServiceDefinition,
  env: Record<string, string>,
): Promise<{ running: RunningService; stop: () => Promise<void> }> {
  const abort = new AbortController();
  const ctx: ServiceContext = {
    shared: loadConfig(sharedConfigSpec, { env }),
    env,
    configFile: undefined,
    logger: pino({ level: process.env.KEC_TEST_LOG_LEVEL ?? 'error' }),
    meter: metrics.getMeter('alerter-test'),
    tracer: trace.getTracer('alerter-test'),
    registerHealthCheck: () => {},
    signal: abort.signal,
  };
  const running = await def.start(ctx);
  return {
    running,
    stop: async () => {
      abort.abort();
      await running.stop();
    },
  };
}

/** A private subject root, stream prefix and KV bucket; `cleanup` deletes what the test created. */
export async function space(): Promise<{
  id: string;
  root: string;
  prefix: string;
  bucket: string;
  bus: Bus;
  env(extra?: Record<string, string>): Record<string, string>;
  cleanup(): Promise<void>;
}> {
  const id = randomBytes(4).toString('hex');
  const root = `t${id}`;
  const prefix = `T${id}_`;
  const bucket = `alerter_${id}`;
  const bus = await connectBus({ url: NATS_URL, name: 'alerter-test', root, logger: pino({ level: 'error' }) });
  const streams = ['KEC_INCIDENTS', 'KEC_EVENTS', 'KEC_PATTERNS', 'KEC_DLQ'];
  const overrides = Object.fromEntries(
    [...streams, 'KEC_ALERTS', 'KEC_NOTIFICATIONS'].map((n) => [n, { max_bytes: 64 * 1024 * 1024 }]),
  );
  for (const s of streams) await ensureStream(bus.jsm, streamSpec(s, root, prefix, { overrides }));
  return {
    id,
    root,
    prefix,
    bucket,
    bus,
    env: (extra = {}) => ({
      KEC_NATS_URL: NATS_URL,
      KEC_CLUSTER: 'prod',
      KEC_ALERTER_SUBJECT_ROOT: root,
      KEC_ALERTER_STREAM_PREFIX: prefix,
      KEC_ALERTER_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
      KEC_ALERTER_BUCKET: bucket,
      KEC_ALERTER_DELIVERED_BUCKET: `delivered_${id}`,
      KEC_ALERTER_TICK_MS: '100',
      KEC_ALERTER_SENDER: 'false',
      ...extra,
    }),
    async cleanup() {
      for (const s of [...streams, 'KEC_ALERTS', 'KEC_NOTIFICATIONS']) {
        await bus.jsm.streams.delete(prefix + s).catch(() => undefined);
      }
      for (const b of [bucket, `delivered_${id}`]) {
        await bus.kvm
          .open(b)
          .then((kv) => kv.destroy())
          .catch(() => undefined);
      }
      await bus.close();
    },
  };
}

/** Every message of a stream so far, decoded. */
export async function readStream<T>(bus: Bus, stream: string): Promise<{ subject: string; msgId: string; data: T }[]> {
  const out: { subject: string; msgId: string; data: T }[] = [];
  const info = await bus.jsm.streams.info(stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!m) continue;
    out.push({ subject: m.subject, msgId: m.header?.get('Nats-Msg-Id') ?? '', data: m.json<T>() });
  }
  return out;
}

export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kec-alerter-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}
