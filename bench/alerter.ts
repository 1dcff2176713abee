// Alerter benchmark: kube-sim, then `kec run watcher enricher correlator` and `kec run alerter` as two OS processes
// (the alerter alone, so its CPU and RSS are its own), notifications delivered by the alerter's sender to a local
// CloudEvents webhook.
//   1. latency: background noise at --rate events/s (default 1,000, the driver in this process) for --seconds
//      (default 30) while a probe Event (reason BenchProbe, its own alert and group, group_wait 0) is written every
//      250 ms: p50/p99 from the probe's write into kube-sim to its notification at the webhook;
//   2. storm: 10,000 BackOff Events about 200 pods of one Deployment written as fast as kube-sim takes them:
//      notifications received for them (grouped by alertname and namespace, group_interval 5 s);
//   3. the alerter process: CPU seconds (utime+stime from /proc) per 1,000 events it consumed, RSS (VmRSS, VmHWM).
//   ./dev bench alerter [--rate 1000] [--seconds 30] [--storm 10000]
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
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
import { runScenarios } from '@kec/kube-sim';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    storm: { type: 'string', default: '10000' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const STORM = Number(values.storm);
const say = (s: string) => process.stdout.write(`${s}\n`);

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

async function postEvent(sim: SimProc, body: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${sim.url}/api/v1/namespaces/${(body.metadata as { namespace: string }).namespace}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`event: HTTP ${r.status} ${await r.text()}`);
}

function event(name: string, ns: string, reason: string, type: string, pod: string, message: string) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    metadata: { name, namespace: ns },
    involvedObject: { kind: 'Pod', namespace: ns, name: pod, uid: `uid-${pod}`, apiVersion: 'v1' },
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
const env = kecEnv(iso, sim.kubeconfig, {
  KEC_LOG_LEVEL: 'info',
  KEC_ALERTER_CONFIG_FILES: file,
  KEC_ALERTER_DELIVERED_BUCKET: `${iso.prefix}delivered`,
  KEC_ALERTER_TICK_MS: '200',
});
const pipe = await startKec('pipeline', ['watcher', 'enricher', 'correlator'], env);
const alerter = await startKec('alerter', ['alerter'], env);
try {
  await waitFor(
    'kec ready',
    async () => (await ready(pipe.metricsPort)) && (await ready(alerter.metricsPort)),
    120_000,
  );
  const before = procStats(alerter.pid);
  const inputsBefore = metricSum(await scrape(alerter.metricsPort), 'kec_alerter_inputs_total', 'KEC_EVENTS');

  // 1. latency under background load
  say(`latency: ${RATE} background events/s for ${SECONDS} s, a probe every 250 ms`);
  const written = new Map<string, number>();
  const driver = runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'none',
    rate: RATE,
    durationMs: SECONDS * 1000,
    speed: 1,
    seed: 7,
    concurrency: 8,
  });
  let probes = 0;
  const probeTimer = setInterval(() => {
    const name = `probe-${probes++}`;
    written.set(`Pod/default/${name}`, Date.now());
    postEvent(sim, event(`${name}.bench`, 'default', 'BenchProbe', 'Warning', name, 'bench probe')).catch((err) =>
      say(`probe failed: ${String(err)}`),
    );
  }, 250);
  const played = await driver;
  clearInterval(probeTimer);
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
    `  ${played.stats.wallMs ? Math.round((played.groundTruth.events ? Object.keys(played.groundTruth.events).length : 0) / (played.stats.wallMs / 1000)) : '?'} events/s offered; ` +
      `${lat.length}/${written.size} probes notified; write -> webhook p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${Math.max(...lat)} ms`,
  );

  // 2. storm
  say(`storm: ${STORM} BackOff events about 200 pods of Deployment web in namespace storm`);
  const t0 = Date.now();
  const stormBefore = received.filter((r) => r.alertname !== 'BenchProbe').length;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < STORM; i = next++) {
        const pod = `web-7d9f8b6c5d-${(i % 200).toString().padStart(3, '0')}xz`.replace(/[aeiou013]/g, 'b');
        await postEvent(
          sim,
          event(
            `backoff-${i}`,
            'storm',
            'BackOff',
            'Warning',
            pod,
            `Back-off restarting failed container app in pod ${pod}`,
          ),
        );
      }
    }),
  );
  const writeMs = Date.now() - t0;
  const stormEvents = () => metricSum(alertSumCache, 'kec_alerter_inputs_total', 'KEC_EVENTS');
  let alertSumCache = await scrape(alerter.metricsPort);
  await waitFor(
    'the alerter consumed the storm',
    async () => {
      alertSumCache = await scrape(alerter.metricsPort);
      return stormEvents() - inputsBefore >= STORM;
    },
    300_000,
  ).catch(() => say('  (the alerter did not see every storm event within 300 s)'));
  await new Promise((r) => setTimeout(r, 12_000)); // two more group intervals for the last notifications
  const stormNotes = received.filter((r) => r.alertname !== 'BenchProbe').length - stormBefore;
  say(
    `  written in ${writeMs} ms; ${stormNotes} notifications for ${STORM} storm events (groups: ${[...new Set(received.filter((r) => r.alertname !== 'BenchProbe').map((r) => r.alertname))].join(', ')})`,
  );

  // 3. the alerter's cost
  const after = procStats(alerter.pid);
  const consumed = metricSum(await scrape(alerter.metricsPort), 'kec_alerter_inputs_total') - inputsBefore;
  say(
    `alerter process: ${(after.cpuS - before.cpuS).toFixed(1)} CPU s for ${consumed} input messages = ` +
      `${((1000 * (after.cpuS - before.cpuS)) / Math.max(1, consumed)).toFixed(3)} CPU s per 1,000 events; ` +
      `RSS ${after.rssMB.toFixed(0)} MB (peak ${after.hwmMB.toFixed(0)} MB)`,
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
