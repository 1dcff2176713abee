// Sender throughput and latency: N notifications over G groups published to the real NATS outbox, delivered to a
// local webhook receiver that answers 200 at once. Prints notifications/s, outbox->2xx latency p50/p99, CPU and RSS.
// Usage: ./dev bench notify/sender [N] [GROUPS] [CONCURRENCY] [RATE]   (RATE notifications/s; 0 = all at once)
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectBus, ensureStream, Publisher, streamSpec } from '@kec/bus';
import { pino } from 'pino';
import {
  type Notification,
  notificationMsgId,
  notificationSubject,
  notificationsStreamSpec,
  startNotificationSender,
} from '../src/index.ts';

const N = Number(process.argv[2] ?? 5000);
const GROUPS = Number(process.argv[3] ?? 500);
const CONCURRENCY = Number(process.argv[4] ?? 8);
const RATE = Number(process.argv[5] ?? 0);

const received: number[] = [];
const publishedAt = new Map<string, number>();
const latencies: number[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    received.push(now);
    const sent = publishedAt.get(decodeURIComponent(String(req.headers['ce-id'] ?? '')));
    if (sent !== undefined) latencies.push(now - sent);
    res.writeHead(200);
    res.end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;

const id = randomBytes(4).toString('hex');
const bus = await connectBus({
  url: process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222',
  name: 'bench-notify',
  root: `b${id}`,
  logger: pino({ level: 'silent' }),
});
const prefix = `B${id}_`;
const outbox = notificationsStreamSpec(bus.root, prefix, { max_bytes: 128 * 1024 * 1024 });
const dlq = streamSpec('KEC_DLQ', bus.root, prefix, { overrides: { KEC_DLQ: { max_bytes: 16 * 1024 * 1024 } } });
await ensureStream(bus.jsm, outbox);
await ensureStream(bus.jsm, dlq);

try {
  const pub = new Publisher(bus);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const sender = await startNotificationSender({
    bus,
    stream: outbox.name,
    logger: pino({ level: 'silent' }),
    receivers: [
      { name: 'hook', type: 'webhook', url: `http://127.0.0.1:${port}/`, mode: 'binary', concurrency: CONCURRENCY },
    ],
  });
  for (let i = 0; i < N; i++) {
    const g = `{}:{namespace="ns-${i % GROUPS}"}`;
    const n: Notification = {
      schema: 'kec.notification/v1',
      receiver: 'hook',
      groupKey: g,
      groupLabels: { namespace: `ns-${i % GROUPS}` },
      version: Math.floor(i / GROUPS) + 1,
      status: 'firing',
      commonLabels: { alertname: 'KecIncident', namespace: `ns-${i % GROUPS}`, severity: 'error' },
      commonAnnotations: { summary: `BackOff on ns-${i % GROUPS}` },
      truncatedAlerts: 0,
      alerts: [
        {
          id: `a${i % GROUPS}`,
          status: 'firing',
          labels: { alertname: 'KecIncident', namespace: `ns-${i % GROUPS}` },
          annotations: { summary: 'BackOff' },
          startsAt: new Date().toISOString(),
        },
      ],
    };
    if (RATE > 0) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
    publishedAt.set(notificationMsgId(n), Date.now());
    void pub.publish(notificationSubject(bus.root, 'hook'), n, { msgId: notificationMsgId(n) });
  }
  await pub.flush();
  const deadline = Date.now() + 300_000;
  while (received.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = sender.stats()[0];
  await sender.stop();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const m = process.memoryUsage();
  const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(34)} ${v}\n`);
  line(
    'notifications',
    `${received.length} / ${N} over ${GROUPS} groups, concurrency ${CONCURRENCY}, ${RATE > 0 ? `${RATE}/s` : 'all at once'}`,
  );
  line(
    'throughput (publish + deliver)',
    `${(received.length / elapsed).toFixed(0)} notifications/s (${elapsed.toFixed(1)} s)`,
  );
  line('latency publish -> receiver', `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`);
  line('sent / skipped / failed', `${stats?.sent} / ${stats?.skipped} / ${stats?.failedAttempts}`);
  line('CPU (sender + publisher + receiver)', `${((cpu.user + cpu.system) / 1e6 / (N / 1000)).toFixed(3)} s per 1,000`);
  line('RSS', `${(m.rss / 1024 / 1024).toFixed(0)} MiB`);
} finally {
  for (const s of [outbox.name, dlq.name]) await bus.jsm.streams.delete(s).catch(() => {});
  await bus.close();
  server.close();
}
