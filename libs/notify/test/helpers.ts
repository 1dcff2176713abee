// Test helpers: a Bus on a random root with this test's own outbox and DLQ streams, local HTTP receivers that record
// every request, and notification builders.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Bus, connectBus, ensureStream, type KV, openKv, Publisher, streamSpec } from '@kec/bus';
import type { Meter } from '@opentelemetry/api';
import { pino } from 'pino';
import {
  type Notification,
  type NotificationAlert,
  type NotificationSender,
  type NotificationSenderOptions,
  notificationMsgId,
  notificationSubject,
  notificationsStreamSpec,
  startNotificationSender,
} from '../src/index.ts';

export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
export const FULL = process.env.KEC_TEST_FULL === '1';
export const silent = pino({ level: 'silent' });

export function randomId(): string {
  return randomBytes(4).toString('hex');
}

/** Waits until `cond()` is true, polling every 20 ms; throws after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestOutbox {
  bus: Bus;
  stream: string;
  dlqStream: string;
  publisher: Publisher;
  /** Publishes a notification as the alerter does (subject per receiver, msg id receiver/groupKey/version). */
  publish(n: Notification): Promise<{ duplicate: boolean }>;
  /** Starts a sender on this outbox (stopped by cleanup). */
  sender(opts: Omit<NotificationSenderOptions, 'bus'>): Promise<NotificationSender>;
  /** A KV bucket of this test (destroyed by cleanup, before the connection closes). */
  kv(): Promise<KV>;
  /** Dead letters so far: headers and data. */
  deadLetters(): Promise<Array<{ headers: Record<string, string>; data: unknown }>>;
  cleanup(): Promise<void>;
}

export async function testOutbox(t: { after(fn: () => Promise<void>): void }, meter?: Meter): Promise<TestOutbox> {
  const id = randomId();
  const bus = await connectBus({
    url: NATS_URL,
    name: 'notify-test',
    root: `t${id}`,
    logger: silent,
    ...(meter ? { meter } : {}),
  });
  const prefix = `T${id}_`;
  const outbox = notificationsStreamSpec(bus.root, prefix, { max_bytes: 64 * 1024 * 1024 });
  const dlq = streamSpec('KEC_DLQ', bus.root, prefix, { overrides: { KEC_DLQ: { max_bytes: 16 * 1024 * 1024 } } });
  await ensureStream(bus.jsm, outbox);
  await ensureStream(bus.jsm, dlq);
  const publisher = new Publisher(bus);
  const senders: NotificationSender[] = [];
  const buckets: KV[] = [];
  const tob: TestOutbox = {
    bus,
    stream: outbox.name,
    dlqStream: dlq.name,
    publisher,
    async publish(n) {
      const ack = await publisher.publish(notificationSubject(bus.root, n.receiver), n, {
        msgId: notificationMsgId(n),
      });
      return { duplicate: ack.duplicate };
    },
    async sender(opts) {
      const s = await startNotificationSender({ bus, stream: outbox.name, logger: silent, ...opts });
      senders.push(s);
      return s;
    },
    async kv() {
      const kv = await openKv(bus, `notify${buckets.length}_${id}`, { ttlMs: 600_000 });
      buckets.push(kv);
      return kv;
    },
    async deadLetters() {
      const info = await bus.jsm.streams.info(dlq.name);
      const out: Array<{ headers: Record<string, string>; data: unknown }> = [];
      if (info.state.messages === 0) return out;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await bus.jsm.streams.getMessage(dlq.name, { seq });
        if (!m) continue;
        const headers: Record<string, string> = {};
        for (const k of m.header?.keys() ?? []) headers[k] = m.header.get(k);
        out.push({ headers, data: m.json() });
      }
      return out;
    },
    async cleanup() {
      await Promise.allSettled(senders.map((s) => s.stop()));
      await publisher.flush().catch(() => {});
      for (const s of [outbox.name, dlq.name]) await bus.jsm.streams.delete(s).catch(() => {});
      for (const kv of buckets) await kv.destroy().catch(() => {});
      await bus.close();
    },
  };
  t.after(() => tob.cleanup());
  return tob;
}

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpReceiver {
  /** Base URL (http://127.0.0.1:PORT). */
  url: string;
  port: number;
  requests: Recorded[];
  /** Decides each answer (default 200 `ok`); may be async (a slow receiver). */
  reply: (r: Recorded) => Reply | Promise<Reply>;
  /** Stops listening (connections are refused) until start(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A local HTTP receiver on a free port that records every request. */
export async function httpReceiver(t: { after(fn: () => Promise<void>): void }): Promise<HttpReceiver> {
  let server: Server | undefined;
  const rec: HttpReceiver = {
    url: '',
    port: 0,
    requests: [],
    reply: () => ({ status: 200, body: 'ok' }),
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
    async up() {
      const s = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
          const r: Recorded = {
            method: req.method ?? '',
            url: req.url ?? '',
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
            at: Date.now(),
          };
          rec.requests.push(r);
          Promise.resolve(rec.reply(r)).then(
            (a) => {
              res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
              res.end(a.body ?? '');
            },
            () => {
              res.writeHead(500);
              res.end('test receiver failed');
            },
          );
        });
      });
      s.keepAliveTimeout = 1000;
      rec.port = await listen(s, rec.port);
      rec.url = `http://127.0.0.1:${rec.port}`;
      server = s;
    },
    async close() {
      await rec.down();
    },
  };
  await rec.up();
  t.after(() => rec.close());
  return rec;
}

/** A notification with sensible defaults; `alerts` default to one firing alert of the group. */
export function notification(
  receiver: string,
  groupKey: string,
  version: number,
  over: Partial<Notification> = {},
): Notification {
  const status = over.status ?? 'firing';
  const alert: NotificationAlert = {
    id: `alert-${groupKey}`,
    status,
    labels: { alertname: 'KecIncident', namespace: 'shop', severity: 'error', group: groupKey },
    annotations: { summary: `BackOff on ${groupKey} (v${version})` },
    startsAt: '2026-12-07T13:16:00.000Z',
    ...(status === 'resolved' ? { endsAt: new Date().toISOString() } : {}),
    generatorURL: `https://kec.example/incidents/${groupKey}`,
    incidentId: `inc-${groupKey}`,
    counts: { occurrences: version },
  };
  return {
    schema: 'kec.notification/v1',
    receiver,
    groupKey,
    groupLabels: { group: groupKey },
    version,
    status,
    commonLabels: { alertname: 'KecIncident', namespace: 'shop', severity: 'error', cluster: 'prod-1' },
    commonAnnotations: {
      summary: `BackOff on ${groupKey}`,
      root_cause: 'ImagePullBackOff',
      affected: 'Pod shop/web-1',
    },
    externalURL: 'https://kec.example',
    truncatedAlerts: 0,
    alerts: [alert],
    ...over,
  };
}
