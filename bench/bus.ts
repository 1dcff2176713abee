// Benchmark of @kec/bus against the running NATS: publish and consume rates for ~1 KB JSON events.
// Usage: node bench/bus.ts [--messages 50000] [--window 256]     (or ./dev bench bus)
// Uses a random subject root and stream prefix and deletes its stream afterwards.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import {
  type BusMessage,
  connectBus,
  consume,
  consumerSpec,
  ensureConsumer,
  ensureStream,
  Publisher,
  streamSpec,
} from '../libs/bus/src/index.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    window: { type: 'string', default: '256' },
  },
});
const N = Number(values.messages);
const WINDOW = Number(values.window);
const url = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const id = randomBytes(4).toString('hex');
const bus = await connectBus({ url, name: 'bench-bus', root: `bench${id}`, logger: pino({ level: 'warn' }) });
const spec = streamSpec('KEC_RAW', bus.root, `BENCH${id}_`, { overrides: { KEC_RAW: { max_bytes: 1024 ** 3 } } });

function event(i: number): Uint8Array {
  const ns = `namespace-${i % 20}`;
  const e = {
    cluster: 'bench',
    uid: `0b7a${i.toString(16).padStart(8, '0')}-5f1c-4c59-9a57-2d4f6c1e8b3a`,
    resourceVersion: String(100000 + i),
    type: i % 7 === 0 ? 'Warning' : 'Normal',
    reason: i % 7 === 0 ? 'BackOff' : 'Pulled',
    regarding: {
      kind: 'Pod',
      namespace: ns,
      name: `web-7d9f8c6b5-${i % 1000}`,
      uid: 'c2f1d3e4-aaaa-bbbb-cccc-0123456789ab',
    },
    note: 'Back-off restarting failed container app in pod web-7d9f8c6b5 (combined from similar events)',
    reportingController: 'kubelet',
    reportingInstance: 'node-12.example.internal',
    series: { count: (i % 50) + 1, lastObservedTime: '2026-01-01T00:00:00.000000Z' },
    eventTime: '2026-01-01T00:00:00.000000Z',
    labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '7d9f8c6b5' },
    pad: '',
  };
  const base = JSON.stringify(e).length;
  e.pad = 'x'.repeat(Math.max(0, 1000 - base));
  return new TextEncoder().encode(JSON.stringify(e));
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const rows: Array<[string, string, string, string]> = [];
try {
  await ensureStream(bus.jsm, spec);
  const payloads = Array.from({ length: N }, (_, i) => event(i));
  const bytes = payloads[0]!.length;
  const subjects = Array.from({ length: 20 }, (_, k) => bus.subjects.raw('bench', `namespace-${k}`, 'Pod'));

  // --- publish: Nats-Msg-Id as the watcher sets it, bounded window ---
  const publisher = new Publisher(bus, { window: WINDOW });
  const lat = new Float64Array(N);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    void publisher.publish(subjects[i % 20]!, payloads[i]!, { msgId: `bench/${i}/${100000 + i}` }).then(() => {
      lat[i] = performance.now() - s;
    });
    if (publisher.inFlight >= WINDOW) await new Promise<void>((r) => setImmediate(r));
  }
  await publisher.flush();
  const pubS = (performance.now() - t0) / 1000;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  rows.push([
    `publish (window ${WINDOW}, msgId)`,
    Math.round(N / pubS).toLocaleString('en'),
    `${((N * bytes) / pubS / 1024 / 1024).toFixed(1)} MiB/s`,
    `ack p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms`,
  ]);

  // --- consume: JSON.parse + ack, fresh durable per run ---
  const runs: Array<{ label: string; durable: string; opts: Record<string, unknown> }> = [
    { label: 'consume (concurrency 1)', durable: 'c1', opts: { concurrency: 1, pullAhead: 512 } },
    { label: 'consume (concurrency 64)', durable: 'c64', opts: { concurrency: 64, pullAhead: 512 } },
    { label: 'consume batch 500', durable: 'b500', opts: { batch: { maxMessages: 500, maxWaitMs: 50 } } },
  ];
  for (const run of runs) {
    await ensureConsumer(bus.jsm, spec.name, consumerSpec(run.durable, { maxAckPending: 20_000 }));
    let done = 0;
    let finished!: () => void;
    const all = new Promise<void>((r) => {
      finished = r;
    });
    const isBatch = 'batch' in run.opts;
    const t1 = performance.now();
    const handle = await consume({
      bus,
      stream: spec.name,
      durable: run.durable,
      dlq: { stage: 'bench' },
      ...run.opts,
      handler: isBatch
        ? (msgs: BusMessage[]) => {
            for (const m of msgs) m.json();
            done += msgs.length;
            if (done >= N) finished();
          }
        : (m: BusMessage) => {
            m.json();
            if (++done >= N) finished();
          },
    } as Parameters<typeof consume>[0]);
    await all;
    await handle.stop();
    const s = (performance.now() - t1) / 1000;
    rows.push([
      `${run.label}, ack`,
      Math.round(N / s).toLocaleString('en'),
      `${((N * bytes) / s / 1024 / 1024).toFixed(1)} MiB/s`,
      '',
    ]);
  }
  console.log(
    `@kec/bus benchmark: ${N.toLocaleString('en')} messages of ${bytes} B JSON, nats-server ${bus.nc.info?.version}, stream ${spec.name} (file, R1)\n`,
  );
  const head: [string, string, string, string] = ['operation', 'msgs/s', 'throughput', 'notes'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const r of [head, ...rows])
    console.log(
      r
        .map((v, c) => v.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
} finally {
  try {
    await bus.jsm.streams.delete(spec.name);
  } catch {
    // not created
  }
  await bus.close();
}
