// GET /api/v1/watch: Server-Sent Events from real NATS subjects, filtered like /events, in the listed shape.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Store } from '@kec/store';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { sha256Hex, TokenStore } from '../src/auth.ts';
import { UnavailableError } from '../src/errors.ts';
import { payload } from './fixture.ts';

const root = `w${randomBytes(4).toString('hex')}`;
const TOKEN = 'kec_watch_test_token_abcdefghijklmnop';
let nc: NatsConnection;
let app: FastifyInstance;
let url = '';

const none = (): Store => {
  throw new UnavailableError('no store in this test');
};
const build = () =>
  buildApp({
    logger: pino({ level: 'silent' }),
    store: none,
    sqlStore: none,
    tokens: TokenStore.load({ env: `${sha256Hex(TOKEN)} read watcher`, anonymous: false }),
    sqlMaxRows: 10,
    maxBodyBytes: 1024,
    subjectRoot: root,
    subscribe: (subject, onMessage) => {
      const sub = nc.subscribe(subject, { callback: (err, msg) => (err ? undefined : onMessage(msg.data)) });
      return { unsubscribe: () => sub.unsubscribe() };
    },
    keepAliveMs: 200,
  });

before(async () => {
  nc = await connect({ servers: process.env['KEC_NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  app = await build();
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app?.close();
  await nc?.close();
});

test('watch - SSE frames of matching events and incidents only, as EventItems', async () => {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/watch?namespace=shop&type=Warning`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: ac.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  const read = async (until: (t: string) => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!until(text)) {
      if (Date.now() > deadline) throw new Error(`no frame in time: ${text}`);
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
  };
  await read((t) => t.includes(': watching'));
  const now = Date.now();
  const ev = (uid: string, ns: string, type: string) =>
    payload({ namespace: ns, uid, rv: 1, count: 1, first: now, at: now, reason: 'BackOff', type, object: 'p' });
  nc.publish(`${root}.events.c1.other.Pod.Warning.BackOff`, JSON.stringify(ev('skip-ns', 'other', 'Warning')));
  nc.publish(`${root}.events.c1.shop.Pod.Normal.BackOff`, JSON.stringify(ev('skip-type', 'shop', 'Normal')));
  nc.publish(`${root}.events.c1.shop.Pod.Warning.BackOff`, '{not json');
  nc.publish(`${root}.events.c1.shop.Pod.Warning.BackOff`, JSON.stringify(ev('keep', 'shop', 'Warning')));
  await read((t) => t.includes('"uid":"keep"'));
  await read((t) => t.includes(': keepalive'));
  ac.abort();
  const frames = text.split('\n\n').filter((f) => f.startsWith('event: event'));
  assert.equal(frames.length, 1, text);
  const data = JSON.parse((frames[0] as string).split('\ndata: ')[1] as string);
  assert.equal(data.type, 'event');
  assert.equal(data.event.uid, 'keep');
  assert.equal(data.event.object.kind, 'Pod');
  assert.equal(data.event.source, 'kubelet, node-1');
  const unauth = await fetch(`${url}/api/v1/watch`);
  assert.equal(unauth.status, 401);
});

test('watch - closing the app ends its open streams', async () => {
  const own = await build();
  const ownUrl = await own.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${ownUrl}/api/v1/watch`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  assert.match(Buffer.from(first.value ?? []).toString('utf8'), /: watching/);
  const closed = own.close();
  // Closing ends the stream (keepalives stop, reads reach done) well within the deadline, and close() then returns.
  const deadline = Date.now() + 5_000;
  for (;;) {
    const r = await Promise.race([
      reader.read(),
      new Promise<'late'>((res) => setTimeout(() => res('late'), Math.max(0, deadline - Date.now()))),
    ]);
    assert.notEqual(r, 'late', 'the stream was still open 5 s after app.close()');
    if (r !== 'late' && r.done) break;
  }
  await closed;
});
