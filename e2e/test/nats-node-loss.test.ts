// A 3-node NATS cluster on loopback (own ports and store directories), streams at KEC_STREAM_REPLICAS=3: while a
// paced publisher and a shared durable consumer run (5,000 events; 50,000 with KEC_TEST_FULL=1), the stream's
// leader is SIGKILLed, restarted, and once it has caught up the new leader is killed (a follower's loss stalls
// nothing, a leader's forces an election). Every event must be stored exactly once (Nats-Msg-Id dedup absorbs the
// publisher's retries) and handled at least once; the longest publish stall after each kill (the recovery time) is
// reported.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type Bus,
  type ConsumerHandle,
  connectBus,
  consume,
  consumerSpec,
  ensureConsumer,
  ensureStream,
  type PublishError,
  Publisher,
  streamSpec,
} from '@kec/bus';
import { pino } from 'pino';
import { type KecProc, kecEnv, newIsolation, Proc, ready, startKec, waitFor } from '../src/harness.ts';
import { freePort, reachable } from '../src/infra.ts';

const FULL = process.env.KEC_TEST_FULL === '1';
const N = FULL ? 50_000 : 5_000;
/** Publishing is paced so the faults land in the middle of the run: ~25 s quick, ~60 s full. */
const RATE = FULL ? 850 : 200;
const silent = pino({ level: 'silent' });

interface Node {
  name: string;
  port: number;
  conf: string;
  proc: Proc | undefined;
}

let dir: string;
const nodes: Node[] = [];
let bus: Bus | undefined;
let handle: ConsumerHandle | undefined;
let alerter: KecProc | undefined;

async function startNode(n: Node): Promise<void> {
  n.proc = new Proc(n.name, '/usr/sbin/nats-server', ['-c', n.conf], process.env, dir);
  await waitFor(
    `${n.name} on ${n.port}`,
    () => {
      if (!n.proc?.alive) throw new Error(`${n.name} exited: ${n.proc?.output.slice(-2000)}`);
      return reachable(n.port);
    },
    20_000,
    50,
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kec-nats-cluster-'));
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const routes = await Promise.all([0, 1, 2].map(() => freePort()));
  for (let i = 0; i < 3; i++) {
    const name = `kec-n${i}`;
    const conf = join(dir, `${name}.conf`);
    writeFileSync(
      conf,
      `server_name: ${name}
listen: 127.0.0.1:${ports[i]}
jetstream { store_dir: "${join(dir, name)}", max_memory_store: 64MB, max_file_store: 1GB }
cluster {
  name: kec-test
  listen: 127.0.0.1:${routes[i]}
  routes: [${routes.map((p) => `nats://127.0.0.1:${p}`).join(', ')}]
}
`,
    );
    nodes.push({ name, port: ports[i]!, conf, proc: undefined });
  }
  await Promise.all(nodes.map(startNode));
});

after(async () => {
  await alerter?.stop('SIGTERM');
  await handle?.stop().catch(() => undefined);
  await bus?.close().catch(() => undefined);
  await Promise.all(nodes.map((n) => n.proc?.stop('SIGTERM', 10_000)));
  rmSync(dir, { recursive: true, force: true });
});

test('nats node loss - R3 streams on a 3-node cluster: kill, restart, kill another; nothing lost, nothing stored twice', async (t) => {
  const url = nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(',');
  // A fresh cluster answers JetStream requests only once it has elected its meta leader (seconds on a slow machine);
  // connectBus checks JetStream, so it is retried until then.
  bus = await waitFor(
    'JetStream on the 3-node cluster',
    () =>
      connectBus({
        url,
        name: 'kec-node-loss',
        logger: silent,
        root: 'nl',
        reconnectDelayMs: { initial: 100, max: 500 },
      }),
    30_000,
    250,
  );
  const b = bus;
  const spec = streamSpec('KEC_RAW', 'nl', 'NL_', {
    replicas: 3,
    overrides: { KEC_RAW: { max_bytes: 256 * 1024 * 1024 } },
  });
  // The cluster elects its JetStream meta leader first: creation fails with 503 until then.
  await waitFor('an R3 stream', () => ensureStream(b.jsm, spec).then(() => true), 30_000, 250);
  const info = await b.jsm.streams.info(spec.name);
  assert.equal(info.config.num_replicas, 3);
  await ensureConsumer(
    b.jsm,
    spec.name,
    consumerSpec('nl-reader', { filterSubject: b.subjects.all('raw'), ackWaitMs: 5000 }),
  );

  const seen = new Map<number, number>();
  handle = await consume({
    bus: b,
    stream: spec.name,
    durable: 'nl-reader',
    dlq: { stage: 'node-loss' },
    concurrency: 4,
    maxDeliver: 1_000,
    handler: (m) => {
      const i = m.json<{ i: number }>().i;
      seen.set(i, (seen.get(i) ?? 0) + 1);
    },
  });

  const publisher = new Publisher(b, { window: 128, timeoutMs: 2000 });
  let retries = 0;
  let acked = 0;
  let lastAckAt = Date.now();
  /** Longest time without any publish ack, per fault window. */
  const stalls: Record<string, number> = {};
  let window = 'steady';
  const publishOne = async (i: number): Promise<void> => {
    const subject = b.subjects.raw('c', `ns${i % 7}`, 'Pod');
    for (;;) {
      try {
        await publisher.publish(subject, { i, pad: 'x'.repeat(200) }, { msgId: `nl-${i}` });
        const now = Date.now();
        stalls[window] = Math.max(stalls[window] ?? 0, now - lastAckAt);
        lastAckAt = now;
        acked++;
        return;
      } catch (err) {
        if (!(err as PublishError).retryable) throw err;
        retries++;
        await new Promise((r) => setTimeout(r, 100)); // back off, then the same id again (dedup)
      }
    }
  };

  const events: string[] = [];
  const t0 = Date.now();
  const log = (what: string) => events.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what} (acked ${acked})`);
  const caughtUp = async (): Promise<void> => {
    await waitFor(
      'every replica current',
      async () => {
        const si = await b.jsm.streams.info(spec.name);
        const replicas = si.cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
      },
      60_000,
      250,
    );
  };
  /** The node leading the stream: killing it forces an election, the fault that stalls publishers. */
  const streamLeader = async (): Promise<Node> => {
    const name = (await b.jsm.streams.info(spec.name)).cluster?.leader;
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`stream leader ${name} is none of ${nodes.map((x) => x.name).join(', ')}`);
    return n;
  };
  const faults = (async () => {
    await waitFor('30% published', () => acked >= N * 0.3, 300_000, 20);
    const first = await streamLeader();
    window = 'kill-1';
    lastAckAt = Date.now();
    first.proc!.kill('SIGKILL');
    log(`SIGKILL ${first.name} (stream leader)`);
    await first.proc!.exited;
    await waitFor('45% published', () => acked >= N * 0.45, 300_000, 20);
    window = 'restart';
    await startNode(first);
    log(`restarted ${first.name}`);
    await caughtUp();
    log(`${first.name} caught up`);
    await waitFor('65% published', () => acked >= N * 0.65, 300_000, 20);
    const second = await waitFor('a stream leader', () => streamLeader(), 30_000, 100);
    window = 'kill-2';
    lastAckAt = Date.now();
    second.proc!.kill('SIGKILL');
    log(`SIGKILL ${second.name} (stream leader)`);
    await second.proc!.exited;
  })();

  // Paced publishing: chunks of 50 in flight, RATE per second on average.
  for (let i = 0; i < N; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, k) => publishOne(i + k)));
    const due = t0 + ((i + 50) / RATE) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  log('all published');
  await faults;
  await waitFor(`all ${N} handled`, () => seen.size === N, FULL ? 300_000 : 120_000, 100);
  log('all handled');
  const si = await b.jsm.streams.info(spec.name);
  const handled = [...seen.values()].reduce((a, v) => a + v, 0);
  t.diagnostic(events.join('; '));
  t.diagnostic(
    `${N} events: stored ${si.state.messages}, handled ${seen.size} distinct (${handled - seen.size} redeliveries), ` +
      `publish retries ${retries}; longest publish stall: ${Object.entries(stalls)
        .map(([w, ms]) => `${w} ${ms} ms`)
        .join(', ')}`,
  );
  assert.equal(si.state.messages, N, 'each event stored exactly once');
  const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !seen.has(i));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} events never handled`);
  await handle.stop();
  handle = undefined;
  await b.jsm.streams.delete(spec.name).catch(() => undefined);
});

test('nats node loss - the alerter creates its streams and KV buckets with KEC_STREAM_REPLICAS', async () => {
  // The previous test leaves a node down: an R3 stream needs all three peers to be created.
  for (const n of nodes) if (!n.proc?.alive) await startNode(n);
  const url = nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(',');
  const b = await waitFor(
    'JetStream on the 3-node cluster',
    () => bus ?? connectBus({ url, name: 'kec-node-loss', logger: silent, root: 'nl' }),
    30_000,
    250,
  );
  bus = b;
  // The restarted node must have rejoined before the alerter provisions (it exits when a stream cannot be made).
  const probe = streamSpec('KEC_DLQ', 'nlprobe', 'NLP_', {
    replicas: 3,
    overrides: { KEC_DLQ: { max_bytes: 1024 * 1024 } },
  });
  await waitFor('an R3 stream again', () => ensureStream(b.jsm, probe).then(() => true), 60_000, 250);
  await b.jsm.streams.delete(probe.name);
  const iso = newIsolation();
  const dirFile = join(dir, 'alerts.yaml');
  // A receiver, so the sender (and its delivered-versions bucket) starts too.
  writeFileSync(
    dirFile,
    'apiVersion: kec.alerts/v1\nreceivers:\n  - { name: hook, type: webhook, url: "http://127.0.0.1:9/ce" }\nroute: { receiver: hook }\n',
  );
  alerter = await startKec(
    'alerter',
    ['alerter'],
    kecEnv(iso, '/dev/null', {
      KEC_NATS_URL: url,
      KEC_STREAM_REPLICAS: '3',
      // Each node stores every replica: small streams fit the cluster's 1 GB per node.
      KEC_ALERTER_STREAM_MAX_BYTES: String(16 * 1024 * 1024),
      KEC_ALERTER_CONFIG_FILES: dirFile,
      KEC_ALERTER_DELIVERED_BUCKET: `${iso.prefix}delivered`,
    }),
  );
  const a = alerter;
  await waitFor(
    'the alerter ready on the cluster',
    () => {
      if (!a.alive) throw new Error(`alerter exited: ${a.output.slice(-3000)}`);
      return ready(a.metricsPort);
    },
    60_000,
    250,
  );
  const streams = ['KEC_INCIDENTS', 'KEC_EVENTS', 'KEC_PATTERNS', 'KEC_DLQ', 'KEC_ALERTS', 'KEC_NOTIFICATIONS'].map(
    (s) => iso.prefix + s,
  );
  const buckets = [`KV_${iso.prefix}alerter`, `KV_${iso.prefix}delivered`];
  try {
    for (const name of [...streams, ...buckets]) {
      const info = await b.jsm.streams.info(name);
      assert.equal(info.config.num_replicas, 3, `${name} has 3 replicas`);
    }
  } finally {
    await a.stop('SIGTERM');
    alerter = undefined;
    rmSync(iso.dataDir, { recursive: true, force: true });
    for (const name of [...streams, ...buckets]) await b.jsm.streams.delete(name).catch(() => undefined);
  }
});
