// Backfill benchmark: the watcher (a child process) starts against N existing Events (default 200,000, created
// in-process through kube-sim's store) and publishes them all into JetStream. Prints the time to backfill and the
// watcher's peak RSS (VmHWM from /proc), the goal being <= 150 MB independent of N.
// Usage: node services/watcher/bench/backfill.ts [--events 200000] [--page-size 500] [--window 256] [--v8="FLAGS"]
// Needs the running NATS (KEC_NATS_URL). Random subject root, stream prefix, KV bucket; all deleted afterwards.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectBus } from '@kec/bus';
import { startKubeSim } from '@kec/kube-sim';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'page-size': { type: 'string', default: '500' },
    window: { type: 'string', default: '256' },
    /** V8 flags for the watcher process only, e.g. --v8="--max-semi-space-size=2 --max-old-space-size=96". */
    v8: { type: 'string', default: '' },
  },
});
const N = Number(values.events);
const natsUrl = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const id = randomBytes(4).toString('hex');
const root = `b${id}`;
const prefix = `B${id}_`;
const bucket = `kwb_${id}`;
const cluster = `bench-${id}`;

const sim = await startKubeSim({ port: 0, historyMaxEvents: 10_000 });
const bus = await connectBus({ url: natsUrl, name: 'watcher-bench', root, logger: pino({ level: 'silent' }) });
const t0 = performance.now();
const ts = `${new Date().toISOString().slice(0, 19)}Z`;
for (let i = 0; i < N; i++) {
  const ns = `ns-${i % 50}`;
  await sim.store.create(`/api/v1/namespaces/${ns}/events`, {
    metadata: { name: `pod-${i}.${(1_700_000_000_000 + i).toString(16)}`, namespace: ns },
    involvedObject: { kind: 'Pod', namespace: ns, name: `pod-${i}`, uid: `uid-${i}`, apiVersion: 'v1' },
    reason: i % 4 === 0 ? 'BackOff' : 'Pulled',
    message: `Back-off restarting failed container app in pod pod-${i}_${ns}(uid-${i}) attempt ${i % 97}`,
    source: { component: 'kubelet', host: `node-${i % 20}` },
    firstTimestamp: ts,
    lastTimestamp: ts,
    count: 1 + (i % 5),
    type: i % 4 === 0 ? 'Warning' : 'Normal',
    reportingComponent: 'kubelet',
    reportingInstance: `node-${i % 20}`,
  });
}
console.log(`created ${N} events in kube-sim in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');
const started = performance.now();
const v8Flags = values.v8.split(' ').filter((x) => x !== '');
const child = spawn(process.execPath, [...v8Flags, main], {
  env: {
    ...process.env,
    KEC_CLUSTER: cluster,
    KEC_NATS_URL: natsUrl,
    KEC_METRICS_PORT: '0',
    KEC_LOG_LEVEL: 'warn',
    KEC_WATCHER_KUBECONFIG: sim.kubeconfigPath,
    KEC_WATCHER_SUBJECT_ROOT: root,
    KEC_WATCHER_STREAM_PREFIX: prefix,
    KEC_WATCHER_KV_BUCKET: bucket,
    KEC_WATCHER_LEASE_NAME: `bench-${id}`,
    KEC_WATCHER_PAGE_SIZE: values['page-size'],
    KEC_WATCHER_PUBLISH_WINDOW: values.window,
    KEC_WATCHER_STREAM_MAX_BYTES: String(2 * 1024 ** 3),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let childLog = '';
child.stdout?.on('data', (d: Buffer) => {
  childLog = (childLog + d.toString()).slice(-20_000);
});
let childExit: number | null | undefined;
child.once('exit', (code) => {
  childExit = code;
});
const vm = (key: string): number => {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
const stream = `${prefix}KEC_RAW`;
let count = 0;
let lastPrint = 0;
let peak = 0;
for (;;) {
  await new Promise((r) => setTimeout(r, 200));
  peak = Math.max(peak, vm('VmHWM'));
  try {
    count = (await bus.jsm.streams.info(stream)).state.messages;
  } catch {
    count = 0;
  }
  const s = (performance.now() - started) / 1000;
  if (s - lastPrint >= 5) {
    lastPrint = s;
    console.log(`  ${s.toFixed(0)} s: ${count} in ${stream}, watcher RSS ${vm('VmRSS').toFixed(0)} MB`);
  }
  if (count >= N) break;
  if (childExit !== undefined) {
    console.log(`the watcher exited with ${childExit}:\n${childLog}`);
    break;
  }
  if (s > 600) {
    console.log('gave up after 600 s');
    break;
  }
}
const secs = (performance.now() - started) / 1000;
peak = Math.max(peak, vm('VmHWM'));
if (childExit === undefined) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
console.log(
  `backfill: ${count} events into JetStream in ${secs.toFixed(1)} s (${Math.round(count / secs)} events/s, incl. process start)`,
);
console.log(
  `watcher peak RSS (VmHWM): ${peak.toFixed(0)} MB (goal <= 150 MB)${v8Flags.length ? ` with ${v8Flags.join(' ')}` : ''}`,
);
for (const s of [`${prefix}KEC_RAW`, `${prefix}KEC_GAPS`, `KV_${bucket}`])
  await bus.jsm.streams.delete(s).catch(() => false);
await bus.close();
await sim.close();
