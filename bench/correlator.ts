// Correlator benchmark: events/s per replica through the real bus and Redis. kube-sim's scenario driver plays every
// scenario plus noise (default 20 virtual minutes at 50 occurrences/s); a watch captures every observation; each is
// wrapped as kec.enriched/v1 with a stand-in enrichment (workload from the pod name; no cache), published into a
// private KEC_ENRICHED; then `--replicas` correlator services (in process, the real ServiceDefinition) drain it into
// KEC_EVENTS/KEC_INCIDENTS/KEC_PATTERNS. Prints events/s (total and per replica) and the incidents and patterns made.
//
//   ./dev bench correlator [--minutes 20] [--rate 50] [--replicas 1] [--seed 7]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connectBus, ensureStream, Publisher, streamSpec } from '@kec/bus';
import type { EnrichedEvent } from '@kec/cache';
import { loadConfig, sharedConfigSpec } from '@kec/config';
import { CorrelatorState, correlatorService } from '@kec/correlator';
import { runScenarios, startKubeSim } from '@kec/kube-sim';
import { eventMsgId, type KecEvent, normalizeEvent } from '@kec/model';
import { metrics, trace } from '@opentelemetry/api';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    rate: { type: 'string', default: '50' },
    replicas: { type: 'string', default: '1' },
    seed: { type: 'string', default: '7' },
  },
});
const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.KEC_REDIS_URL ?? 'redis://127.0.0.1:6379';
const replicas = Number(values.replicas);

// --- 1. observations from the driver, through a watch ---------------------------------------------------------
const sim = await startKubeSim({ port: 0, historyMaxEvents: 2_000_000 });
const observations: KecEvent[] = [];
const ac = new AbortController();
const res = await fetch(
  `${sim.url}/api/v1/events?watch=1&allowWatchBookmarks=false&resourceVersion=${sim.resourceVersion()}&timeoutSeconds=3600`,
  { headers: { authorization: `Bearer ${sim.token}` }, signal: ac.signal },
);
const watching = (async () => {
  if (!res.body) throw new Error('no watch body');
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const frame = JSON.parse(line) as { type: string; object: unknown };
        if (frame.type === 'ADDED' || frame.type === 'MODIFIED' || frame.type === 'DELETED')
          observations.push(normalizeEvent(frame.object, { cluster: 'bench', watchType: frame.type }));
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
})();
await runScenarios({
  sim,
  scenarios: 'all',
  rate: Number(values.rate),
  durationMs: Number(values.minutes) * 60_000,
  speed: Number.POSITIVE_INFINITY,
  seed: values.seed,
  repeat: true,
});
const target = BigInt(sim.resourceVersion());
for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
  const last = observations.at(-1);
  if (last && BigInt(last.resourceVersion) >= target) break;
  await new Promise((r) => setTimeout(r, 100));
}
ac.abort();
await watching.catch(() => {});
await sim.close();

const enriched: EnrichedEvent[] = observations.map((e) => {
  const pod = e.regarding.kind === 'Pod' ? e.regarding.name : '';
  const wl = pod.replace(/-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{8,10}$/, '');
  return {
    ...e,
    schema: 'kec.enriched/v1',
    enrichment: {
      status: 'miss',
      detail: 'bench',
      object: null,
      pod: null,
      owners: [],
      workload: pod ? { kind: 'Deployment', name: wl, uid: `w-${wl}` } : null,
      node: null,
      namespaceLabels: {},
      enrichedAt: e.observedAt,
    },
  };
});

// --- 2. into a private KEC_ENRICHED ----------------------------------------------------------------------------
const id = randomBytes(4).toString('hex');
const root = `b${id}`;
const prefix = `B${id}_`;
const redisPrefix = `b${id}:`;
const names = ['KEC_ENRICHED', 'KEC_EVENTS', 'KEC_INCIDENTS', 'KEC_PATTERNS', 'KEC_DLQ'];
const maxBytes = 1024 * 1024 * 1024;
const overrides = Object.fromEntries(names.map((n) => [n, { max_bytes: maxBytes }]));
const bus = await connectBus({
  url: NATS_URL,
  name: `bench-correlator-${id}`,
  root,
  logger: pino({ level: 'silent' }),
});
for (const s of names) await ensureStream(bus.jsm, streamSpec(s, root, prefix, { overrides }));
const pub = new Publisher(bus, { window: 1024 });
await Promise.all(
  enriched.map((e) =>
    pub.publish(bus.subjects.enriched(e.cluster, e.namespace, e.regarding.kind || 'Unknown'), e, {
      msgId: eventMsgId(e.cluster, e.uid, e.resourceVersion),
    }),
  ),
);
const n = (await bus.jsm.streams.info(`${prefix}KEC_ENRICHED`)).state.messages;

// --- 3. correlators drain it -------------------------------------------------------------------------------------
const env: Record<string, string> = {
  KEC_CLUSTER: 'bench',
  KEC_NATS_URL: NATS_URL,
  KEC_REDIS_URL: REDIS_URL,
  KEC_METRICS_PORT: '0',
  KEC_LOG_LEVEL: 'warn',
  KEC_CORRELATOR_SUBJECT_ROOT: root,
  KEC_CORRELATOR_STREAM_PREFIX: prefix,
  KEC_CORRELATOR_REDIS_PREFIX: redisPrefix,
  KEC_CORRELATOR_STREAM_MAX_BYTES: String(maxBytes),
  KEC_CORRELATOR_SWEEP_INTERVAL_MS: '0',
};
const t0 = performance.now();
const running = [];
for (let i = 0; i < replicas; i++) {
  running.push(
    await correlatorService.start({
      shared: loadConfig(sharedConfigSpec, { env }),
      env,
      configFile: undefined,
      logger: pino({ level: 'warn' }),
      meter: metrics.getMeter('bench'),
      tracer: trace.getTracer('bench'),
      registerHealthCheck: () => {},
      signal: new AbortController().signal,
    }),
  );
}
let done = 0;
for (const deadline = Date.now() + 600_000; Date.now() < deadline; ) {
  done = (await bus.jsm.streams.info(`${prefix}KEC_EVENTS`)).state.messages;
  if (done >= n) break;
  await new Promise((r) => setTimeout(r, 100));
}
const seconds = (performance.now() - t0) / 1000;
const incidents = (await bus.jsm.streams.info(`${prefix}KEC_INCIDENTS`)).state.messages;
const patterns = (await bus.jsm.streams.info(`${prefix}KEC_PATTERNS`)).state.messages;
for (const r of running) await r.stop();
for (const s of names) await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => false);
await bus.close();
const state = CorrelatorState.connect(REDIS_URL, redisPrefix, {
  windowMs: 1,
  occurrenceTtlSec: 60,
  incidentTtlSec: 60,
  maxAffected: 1,
});
await state.purge();
await state.close();

const rate = done / seconds;
console.log(
  `correlator: ${done}/${n} observations in ${seconds.toFixed(1)} s with ${replicas} replica(s): ` +
    `${Math.round(rate)} events/s, ${Math.round(rate / replicas)} events/s per replica; ` +
    `${incidents} incident versions, ${patterns} patterns; load average ${loadavg()[0]?.toFixed(1)}`,
);
