// ./dev up --demo: kube-sim with the scenario driver, then `kec run all` against it (embedded store), and where to
// look. Both are child processes in their own process groups, so a terminal's Ctrl-C (SIGINT to the foreground
// group) reaches only the demo, which then drains kec first and stops kube-sim after it (which writes its ground
// truth): each child gets one signal, in that order. A second Ctrl-C stops both at once. The demo keeps to its own
// subject root (`kecdemo`) and stream prefix (`DEMO_`), so it never claims the subjects of a real kec on the same
// NATS; its streams, KV bucket, Redis keys and data dir are reset at start. Env: KEC_DEMO_ROOT / KEC_DEMO_PREFIX /
// KEC_DEMO_REDIS_PREFIX / KEC_DEMO_DATA_DIR / KEC_DEMO_RATE / KEC_DEMO_SPEED (the test sets some), KEC_METRICS_PORT (9464),
// KEC_API_PORT (8080, what the printed kec lines talk to) and KEC_SQL_PORT (9465).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AlertmanagerProcess, startAlertmanager } from '@kec/notify';
import {
  cleanup,
  enrichmentCoverage,
  formatCoverage,
  type Isolation,
  kecEnv,
  ROOT,
  ready,
  sql,
  startKec,
  startSimProcess,
  waitFor,
} from './harness.ts';

const env = process.env;
const iso: Isolation = {
  id: 'demo',
  root: env.KEC_DEMO_ROOT || 'kecdemo',
  prefix: env.KEC_DEMO_PREFIX || 'DEMO_',
  redisPrefix: env.KEC_DEMO_REDIS_PREFIX || `${env.KEC_DEMO_ROOT || 'kecdemo'}:demo:`,
  kvBucket: `${env.KEC_DEMO_PREFIX || 'DEMO_'}kec_watch`.replace(/[^-_a-zA-Z0-9]/g, '_'),
  dataDir: env.KEC_DEMO_DATA_DIR || join(ROOT, '.run/demo'),
  cluster: 'demo',
};
const metricsPort = env.KEC_METRICS_PORT || '9464';
const sqlPort = env.KEC_SQL_PORT || '9465';
const say = (s = '') => process.stdout.write(`${s}\n`);

await cleanup(iso, env.KEC_NATS_URL, env.KEC_REDIS_URL);
rmSync(iso.dataDir, { recursive: true, force: true });

// If the demo itself fails, take its children down with it.
const children: { kill(sig: NodeJS.Signals): void }[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
process.on('uncaughtException', (err) => {
  process.stderr.write(`demo failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
// The children are in their own process groups, so a signal that kills the demo would not reach them: until kec
// is up, a signal takes them down and exits; from then on it drains (below).
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
for (const signal of SIGNALS) {
  process.on(signal, () => {
    say(`\n${signal} while starting: stopping`);
    process.exit(1);
  });
}

const sim = await startSimProcess(
  ['--scenario', 'all', '--rate', env.KEC_DEMO_RATE || '20', '--speed', env.KEC_DEMO_SPEED || '10', '--seed', '7'],
  process.env,
  { detached: true },
);
children.push(sim);
say(`kube-sim (pid ${sim.pid}) on ${sim.url}, playing every scenario; KUBECONFIG=${sim.kubeconfig}`);
// A real Alertmanager (Debian's prometheus-alertmanager, installed by ./dev setup) on a free port: the alerter routes
// every alert to it. Without the binary the demo still runs; alerts then only go to <root>.alerts.demo.
let am: AlertmanagerProcess | undefined;
try {
  am = await startAlertmanager({ groupWait: '5s', groupInterval: '30s' });
  children.push({ kill: () => void am?.stop() });
} catch (err) {
  say(`no Alertmanager (${(err as Error).message.split('\n')[0]}); alerts go to ${iso.root}.alerts.demo only`);
}
mkdirSync(iso.dataDir, { recursive: true });
const alertsFile = join(iso.dataDir, 'alerts.yaml');
if (am) {
  writeFileSync(
    alertsFile,
    [
      '# The demo routes kec alerts (the shipped default rules) to the Alertmanager it started.',
      'apiVersion: kec.alerts/v1',
      'receivers:',
      `  - { name: alertmanager, type: alertmanager, url: "${am.url}", resendInterval: 1m }`,
      'route:',
      '  receiver: alertmanager',
      '  group_by: [alertname, namespace]',
      '  group_wait: 0s',
      '  group_interval: 10s',
      '',
    ].join('\n'),
  );
}
const kecE = kecEnv(iso, sim.kubeconfig, {
  ...(am
    ? { KEC_ALERTER_CONFIG_FILES: alertsFile, KEC_ALERTER_DELIVERED_BUCKET: `${iso.prefix}notify_delivered` }
    : {}),
  KEC_METRICS_PORT: metricsPort,
  KEC_SQL_PORT: sqlPort,
  // the API of this process (kec get events, kec timeline, ...): loopback, no token needed for the demo
  KEC_API_PORT: env.KEC_API_PORT || '8080',
  KEC_API_ANONYMOUS: 'true',
  ...(env.KEC_NATS_URL ? { KEC_NATS_URL: env.KEC_NATS_URL } : {}),
  ...(env.KEC_REDIS_URL ? { KEC_REDIS_URL: env.KEC_REDIS_URL } : {}),
  KEC_LOG_LEVEL: env.KEC_LOG_LEVEL || 'info',
  // kec's stdout is a pipe to this process: its `auto` would choose JSON, so the demo decides for its terminal.
  KEC_LOG_FORMAT: env.KEC_LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json'),
});
// JetStream reserves max_bytes on disk up front: the catalogue sizes (8 GiB for KEC_RAW, KEC_ENRICHED, KEC_EVENTS)
// would reserve ~28 GB for a throwaway demo, so its streams are capped at KEC_DEMO_STREAM_MAX_BYTES (1 GiB).
const demoMaxBytes = env.KEC_DEMO_STREAM_MAX_BYTES || String(1024 ** 3);
for (const s of ['WATCHER', 'ENRICHER', 'CORRELATOR', 'WRITER']) kecE[`KEC_${s}_STREAM_MAX_BYTES`] = demoMaxBytes;
const kecStarting = startKec('kec', ['all'], kecE, { detached: true });
const kec = await kecStarting.catch(async (err: unknown) => {
  await sim.stop('SIGTERM', 5000);
  throw err;
});
children.push(kec);
say(`kec (pid ${kec.pid}) starting: kec run all`);
kec.child.stdout?.pipe(process.stdout);
kec.child.stderr?.pipe(process.stderr);

let stopping = false;
let readyAt = 0;
/** One line on how the stored events' objects were found (hit, tombstone, fetched, inferred, miss, unavailable). */
async function sayCoverage(atStop = false): Promise<void> {
  const c = await enrichmentCoverage(kec.sqlPort).catch(() => undefined);
  if (c && (atStop || !stopping)) {
    say(`enrichment after ${Math.round((Date.now() - readyAt) / 1000)} s: ${formatCoverage(c)}`);
  }
}
async function stop(reason: string): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  // stopping first: a second Ctrl-C (or kec exiting) during the coverage query below must stop now, not drain twice
  stopping = true;
  if (readyAt > 0) await sayCoverage(true);
  say(`\n${reason}: draining kec, then kube-sim`);
  const kecCode = await kec.stop('SIGTERM', 40_000);
  // kube-sim drains its queued writes and writes its ground truth: on a loaded machine that can take a while.
  const simCode = await sim.stop('SIGINT', 90_000);
  await am?.stop();
  say(`kec exited ${kecCode}, kube-sim exited ${simCode}`);
  process.exit(kecCode === 0 && simCode === 0 ? 0 : 1);
}
/** A second Ctrl-C: kec's second signal makes it exit at once; kube-sim is stopped; the demo exits 1. */
async function stopNow(signal: NodeJS.Signals): Promise<void> {
  say(`\n${signal} again: stopping kec and kube-sim now, without draining`);
  await Promise.all([kec.stop('SIGTERM', 3000), sim.stop('SIGINT', 3000), am?.stop()]);
  process.exit(1);
}
for (const signal of SIGNALS) {
  process.removeAllListeners(signal);
  process.on(signal, () => void (stopping ? stopNow(signal) : stop(signal)));
}
void kec.exited.then((code) => {
  if (!stopping) void stop(`kec exited on its own (${code})`);
});

await waitFor('kec ready', () => ready(kec.metricsPort), 60_000);
const first = Date.now();
readyAt = first;
await waitFor(
  'events in kec.events',
  async () => ((await sql<{ n: number }>(kec.sqlPort, 'SELECT count() AS n FROM kec.events'))[0]?.n ?? 0) > 0,
  120_000,
);
const apiPort = env.KEC_API_PORT || '8080';
const port = apiPort === '8080' ? '' : `KEC_API_PORT=${apiPort} `;
const q = (s: string) => `  ${port}./dev kec sql "${s}"`;
// the history commands read the API's address from KEC_API_URL (KEC_API_PORT is kec sql's shorthand)
const k = (s: string) => `  ${apiPort === '8080' ? '' : `KEC_API_URL=http://127.0.0.1:${apiPort} `}./dev kec ${s}`;
// The history commands name a real incident in a namespace and its root cause's object (`Kind/namespace/name`):
// the scenarios open the first incidents within about a minute of the first events.
const api = `http://127.0.0.1:${apiPort}/api/v1`;
const incident = await waitFor(
  'an incident in the API',
  async () => {
    const r = await fetch(`${api}/incidents?limit=20&since=1h`);
    if (!r.ok) return undefined;
    const items = ((await r.json()) as { items: { id: string; namespace: string; rootCause: { object: string } }[] })
      .items;
    return items.find((i) => i.namespace !== '' && i.rootCause.object.split('/').length === 3);
  },
  180_000,
  1000,
);
const [rcKind, rcNs, rcName] = incident.rootCause.object.split('/') as [string, string, string];
const history = [
  k(`get events -n ${incident.namespace}`),
  k('get events -A --types Warning'),
  k('get incidents'),
  k(`describe incident ${incident.id}`),
  k(`timeline ${rcKind.toLowerCase()}/${rcName} -n ${rcNs}`),
  k('top reasons --since 1h'),
];
say(`
kec is running (pid ${kec.pid}); first events reached the store ${((Date.now() - first) / 1000).toFixed(1)} s after ready.

History like kubectl, through the API of this process (${api}):
${history.join('\n')}

SQL against the embedded store (through the API of this process, POST http://127.0.0.1:${apiPort}/api/v1/sql):
${q('SELECT count() AS events, sum(count) AS occurrences FROM kec.events FINAL')}
${q('SELECT reason, count() AS n FROM kec.events FINAL GROUP BY reason ORDER BY n DESC LIMIT 10')}
${q("SELECT namespace, regarding_kind, regarding_name, reason, count FROM kec.events FINAL WHERE type = 'Warning' ORDER BY last_timestamp DESC LIMIT 10")}
${q('SELECT title, state, severity, root_cause_reason, occurrence_count FROM kec.incidents FINAL ORDER BY first_seen DESC LIMIT 10')}
${q('SHOW TABLES FROM kec')}

NATS subjects (nats sub '<subject>' -s ${kecE.KEC_NATS_URL}):
  ${iso.root}.raw.demo.>         raw events from the watcher (stream ${iso.prefix}KEC_RAW)
  ${iso.root}.enriched.demo.>    events with their objects' context (stream ${iso.prefix}KEC_ENRICHED)
  ${iso.root}.events.demo.>      correlated events, the writer's input (stream ${iso.prefix}KEC_EVENTS)
  ${iso.root}.incidents.demo.>   incidents (stream ${iso.prefix}KEC_INCIDENTS)
  ${iso.root}.alerts.demo        alerts firing/resolving (stream ${iso.prefix}KEC_ALERTS; kec silence add|ls|expire)
  ${iso.root}.dlq.>              dead letters, per stage (stream ${iso.prefix}KEC_DLQ)

${
  am
    ? `Alertmanager (kec's alerts, routed by ${alertsFile}): ${am.url}/#/alerts
  curl -s '${am.url}/api/v2/alerts' | head -c 600`
    : 'Alertmanager: not running (install prometheus-alertmanager: ./dev setup)'
}

Metrics and health: http://127.0.0.1:${kec.metricsPort}/metrics  /healthz  /readyz
kube-sim admin: ${sim.url}/_sim/stats

Ctrl-C drains kec and stops kube-sim.
DEMO READY`);
// A summary a minute: how much of what is stored could be enriched.
setInterval(() => void sayCoverage(), 60_000).unref();
