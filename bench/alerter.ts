// Alerter benchmark: kube-sim, then `kec run watcher enricher correlator` and `kec run alerter` as two OS processes
// (the alerter alone, so its CPU and RSS are its own), notifications delivered by the alerter's sender to a local
// CloudEvents webhook.
//   1. latency: background Events (Normal, as kubelet writes them about a running Pod) at --rate per second (default
//      1,000), paced and created over keep-alive HTTP for --seconds (default 30), while a probe Event (Warning
//      BenchProbe about its own Pod: its own alert and group, group_wait 0) is written every 250 ms: p50/p99 from
//      the probe's write into kube-sim to its notification at the webhook, and the background rate reached;
//   2. storm: --storm (default 10,000) BackOff Events about 200 Pods of one Deployment, written as fast as kube-sim
//      takes them: notifications received for them (grouped by alertname and namespace, group_interval 5 s);
//   3. the alerter process: CPU seconds (utime+stime from /proc) per 1,000 events it consumed, RSS (VmRSS, VmHWM).
// Every Pod the Events are about exists before kec starts, as in a cluster: the enricher finds them in its cache
// (an Event about an unknown Pod waits KEC_ENRICHER_COVER_WAIT_MS for the informer, which is not what is measured).
//   ./dev bench alerter [--rate 1000] [--seconds 30] [--storm 10000] [--cpu-prof DIR]
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cleanup,
  kecEnv,
  metricSum,
  newIsolation,
  ready,
  type SimProc,
  scrape,
  startKec,
  startSimProcess,
  waitFor,
} from '@kec/e2e';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    storm: { type: 'string', default: '10000' },
    'cpu-prof': { type: 'string' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const STORM = Number(values.storm);
const PROBE_MS = 250;
const STORM_PODS = 200;
const say = (s: string) => process.stdout.write(`${s}\n`);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function procStats(pid: number): { cpuS: number; rssMB: number; hwmMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[11]) + Number(f[12])) / 100;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { cpuS, rssMB: kb('VmRSS'), hwmMB: kb('VmHWM') };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : Number.NaN;
};

/** POSTs JSON to kube-sim over keep-alive HTTP (cheaper than fetch: the load generator leaves the CPU to kec). */
function poster(sim: SimProc): (path: string, obj: object) => Promise<{ metadata: { uid: string } }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return (path, obj) =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(`${sim.url}${path}`),
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 201
              ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: { uid: string } })
              : reject(new Error(`HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(obj));
    });
}

interface PodRef {
  name: string;
  namespace: string;
  uid: string;
}

function event(name: string, pod: PodRef, reason: string, type: string, message: string) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    metadata: { name, namespace: pod.namespace },
    involvedObject: { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid, apiVersion: 'v1' },
    reason,
    message,
    type,
    count: 1,
    source: { component: 'kubelet', host: 'node-a' },
    firstTimestamp: now,
    lastTimestamp: now,
  };
}

const iso = newIsolation();
const received: { at: number; alertname: string; objects: string[] }[] = [];
const sink = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    const ce = JSON.parse(body) as {
      data: { alerts: { labels: Record<string, string> }[]; groupLabels: Record<string, string> };
    };
    received.push({
      at: Date.now(),
      alertname: ce.data.groupLabels['alertname'] ?? '',
      objects: ce.data.alerts.map((a) => a.labels['object'] ?? ''),
    });
    res.end('ok');
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const sinkPort = (sink.address() as { port: number }).port;
const file = join(iso.dataDir, 'alerts.yaml');
writeFileSync(
  file,
  `apiVersion: kec.alerts/v1
rules:
  - id: bench-probe
    alertname: BenchProbe
    source: events
    match: { reason: BenchProbe }
    severity: warning
    threshold: { count: 0, window: 1m, by: [object] }
  - id: bench-backoff
    alertname: BenchBackOff
    source: events
    match: { reason: BackOff, namespace: storm }
    threshold: { count: 100, window: 10m, by: [namespace, workload] }
receivers:
  - { name: hook, type: webhook, url: "http://127.0.0.1:${sinkPort}/ce" }
route:
  receiver: hook
  group_by: [alertname, namespace]
  group_wait: 0s
  group_interval: 5s
  routes:
    - { matchers: ['alertname="BenchProbe"'], group_by: [alertname, object], group_interval: 1s }
`,
);
const sim = await startSimProcess(['--scenario', 'none']);
const post = poster(sim);

// The Pods every Event is about, before kec starts (its caches list them).
const pod = async (namespace: string, name: string, labels: Record<string, string>): Promise<PodRef> => {
  const p = await post(`/api/v1/namespaces/${namespace}/pods`, {
    metadata: { name, namespace, labels },
    spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  });
  return { name, namespace, uid: p.metadata.uid };
};
await post('/api/v1/namespaces', { metadata: { name: 'storm' } }).catch(() => undefined);
const noisePod = await pod('default', 'bench-noise', { app: 'bench-noise' });
const probes: PodRef[] = [];
for (let i = 0; i < Math.ceil((SECONDS * 1000) / PROBE_MS) + 8; i++)
  probes.push(await pod('default', `probe-${i}`, { app: 'bench-probe' }));
const stormPods: PodRef[] = [];
for (let i = 0; i < STORM_PODS; i++) {
  // Kubernetes' pod-name suffix alphabet (no vowels, no 0/1/3), so the correlator and alerter see Deployment/web.
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let k = 0, x = i; k < 5; k++, x = Math.floor(x / alphabet.length)) suffix += alphabet[x % alphabet.length];
  stormPods.push(await pod('storm', `web-7d9f8b6c5d-${suffix}`, { app: 'web' }));
}

const env = kecEnv(iso, sim.kubeconfig, {
  KEC_LOG_LEVEL: 'info',
  KEC_ALERTER_CONFIG_FILES: file,
  KEC_ALERTER_DELIVERED_BUCKET: `${iso.prefix}delivered`,
  KEC_ALERTER_TICK_MS: '200',
});
const pipe = await startKec('pipeline', ['watcher', 'enricher', 'correlator'], env);
const alerter = await startKec(
  'alerter',
  ['alerter'],
  env,
  values['cpu-prof'] ? { nodeOptions: `--cpu-prof --cpu-prof-dir=${values['cpu-prof']}` } : {},
);
try {
  await waitFor(
    'kec ready',
    async () => (await ready(pipe.metricsPort)) && (await ready(alerter.metricsPort)),
    120_000,
  );
  say(`load average ${load()}`);
  const before = procStats(alerter.pid);
  const inputsBefore = metricSum(await scrape(alerter.metricsPort), 'kec_alerter_inputs_total');

  // 1. latency under background load
  say(`latency: ${RATE} background events/s for ${SECONDS} s, a probe every ${PROBE_MS} ms`);
  const reasons = [
    ['Pulled', 'Container image "registry.example/app:1" already present on machine'],
    ['Created', 'Created container app'],
    ['Started', 'Started container app'],
  ] as const;
  let bgWritten = 0;
  let bgFailed = 0;
  const t0 = Date.now();
  const background = (async () => {
    const pending = new Set<Promise<unknown>>();
    for (let i = 0; i < RATE * SECONDS; i++) {
      const wait = t0 + (i * 1000) / RATE - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait)); // pacing the load, not synchronisation
      const [reason, message] = reasons[i % reasons.length] as readonly [string, string];
      const w = post('/api/v1/namespaces/default/events', event(`bg-${i}`, noisePod, reason, 'Normal', message))
        .then(
          () => {
            bgWritten++;
          },
          () => {
            bgFailed++;
          },
        )
        .finally(() => pending.delete(w));
      pending.add(w);
      if (pending.size >= 64) await Promise.race(pending);
    }
    await Promise.all(pending);
    return (Date.now() - t0) / 1000;
  })();
  const written = new Map<string, number>();
  let probeFailed = 0;
  for (let n = 0; Date.now() - t0 < SECONDS * 1000 && n < probes.length; n++) {
    const wait = t0 + n * PROBE_MS - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait)); // the probes' schedule
    const p = probes[n] as PodRef;
    written.set(`Pod/default/${p.name}`, Date.now());
    post(
      '/api/v1/namespaces/default/events',
      event(`${p.name}.bench`, p, 'BenchProbe', 'Warning', 'bench probe'),
    ).catch(() => {
      probeFailed++;
    });
  }
  const bgSeconds = await background;
  if (!pipe.alive || !alerter.alive) throw new Error('a kec process exited during the latency phase');
  await waitFor(
    'every probe notified',
    () => [...written.keys()].every((o) => received.some((r) => r.objects.includes(o))),
    120_000,
  ).catch(() => say('  (some probes were not notified within 120 s)'));
  const lat: number[] = [];
  for (const [o, t] of written) {
    const r = received.find((x) => x.objects.includes(o));
    if (r) lat.push(r.at - t);
  }
  say(
    `  background: ${bgWritten} events written in ${bgSeconds.toFixed(1)} s = ${Math.round(bgWritten / bgSeconds)} events/s ` +
      `(asked ${RATE}; ${bgFailed} failed); load average ${load()}`,
  );
  say(
    `  ${lat.length}/${written.size} probes notified (${probeFailed} writes failed); write -> webhook ` +
      `p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${Math.max(...lat)} ms`,
  );

  // 2. storm
  say(`storm: ${STORM} BackOff events about ${STORM_PODS} pods of Deployment web in namespace storm`);
  const s0 = Date.now();
  const stormBefore = received.filter((r) => r.alertname !== 'BenchProbe').length;
  const stormInputsBefore = metricSum(await scrape(alerter.metricsPort), 'kec_alerter_inputs_total', 'KEC_EVENTS');
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < STORM; i = next++) {
        const p = stormPods[i % STORM_PODS] as PodRef;
        await post(
          '/api/v1/namespaces/storm/events',
          event(
            `backoff-${i}`,
            p,
            'BackOff',
            'Warning',
            `Back-off restarting failed container app in pod ${p.name}_storm(${p.uid})`,
          ),
        );
      }
    }),
  );
  const writeMs = Date.now() - s0;
  await waitFor(
    'the alerter consumed the storm',
    async () =>
      metricSum(await scrape(alerter.metricsPort), 'kec_alerter_inputs_total', 'KEC_EVENTS') - stormInputsBefore >=
      STORM,
    300_000,
  ).catch(() => say('  (the alerter did not see every storm event within 300 s)'));
  const consumedMs = Date.now() - s0;
  // What the storm's groups notify within two group intervals (2 x 5 s) plus 2 s after the last event was consumed.
  await new Promise((r) => setTimeout(r, 12_000));
  const stormNotes = received.filter((r) => r.alertname !== 'BenchProbe').length - stormBefore;
  say(
    `  written in ${writeMs} ms, consumed by the alerter in ${consumedMs} ms; ${stormNotes} notifications for ` +
      `${STORM} storm events = ${((stormNotes * 10_000) / STORM).toFixed(1)} per 10,000 (groups: ${[
        ...new Set(received.filter((r) => r.alertname !== 'BenchProbe').map((r) => r.alertname)),
      ].join(', ')})`,
  );

  // 3. the alerter's cost
  const after = procStats(alerter.pid);
  const consumed = metricSum(await scrape(alerter.metricsPort), 'kec_alerter_inputs_total') - inputsBefore;
  say(
    `alerter process: ${(after.cpuS - before.cpuS).toFixed(1)} CPU s for ${consumed} input messages = ` +
      `${((1000 * (after.cpuS - before.cpuS)) / Math.max(1, consumed)).toFixed(3)} CPU s per 1,000 events; ` +
      `RSS ${after.rssMB.toFixed(0)} MB (peak ${after.hwmMB.toFixed(0)} MB); load average ${load()}`,
  );
} finally {
  for (const p of [pipe, alerter]) {
    if (!p.alive) say(`${p.name} exited early (${p.exitCode}); its last output:\n${p.output.slice(-3000)}`);
  }
  await alerter.stop('SIGTERM');
  await pipe.stop('SIGTERM');
  await sim.stop('SIGTERM');
  await new Promise((r) => sink.close(r));
  await cleanup(iso);
}
