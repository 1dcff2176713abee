// The alerter end to end, as processes: kube-sim -> watcher -> enricher -> correlator -> alerter -> a real
// Alertmanager (Debian's prometheus-alertmanager, on a free port with its own config and data dir). Background noise
// alone raises no alert with the shipped defaults; a crash loop becomes an incident, the incident an alert visible in
// Alertmanager's GET /api/v2/alerts with kec's labels, and Alertmanager's own webhook receiver gets it firing, then
// resolved once the correlator resolves the incident. Then every scenario with noise: the shipped defaults alert on
// the incidents of the scenarios that are problems, and on nothing that only noise or healthy change made.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connectBus } from '@kec/bus';
import { type GroundTruth, runScenarios } from '@kec/kube-sim';
import { type AlertmanagerProcess, startAlertmanager } from '@kec/notify';
import { pino } from 'pino';
import {
  ContractTap,
  cleanup,
  type Isolation,
  type KecProc,
  kecEnv,
  NATS_URL,
  newIsolation,
  ready,
  type SimProc,
  startKec,
  startSimProcess,
  waitFor,
} from '../src/index.ts';

interface Webhook {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

const silent = pino({ level: 'silent' });
let iso: Isolation;
let sim: SimProc;
let am: AlertmanagerProcess;
let kec: KecProc;
let sink: Server;
const received: Webhook[] = [];
let tap: ContractTap;

interface StreamMsg<T> {
  seq: number;
  data: T;
}

/** The messages of one of the run's streams with a sequence above `after`, in order. */
async function readStream<T>(stream: string, after = 0): Promise<StreamMsg<T>[]> {
  const bus = await connectBus({ url: NATS_URL, name: 'alerter-e2e', root: iso.root, logger: silent });
  try {
    const name = iso.prefix + stream;
    const last = (await bus.jsm.streams.info(name)).state.last_seq;
    const out: StreamMsg<T>[] = [];
    if (last <= after) return out;
    const c = await bus.js.consumers.get(name, { opt_start_seq: after + 1 });
    const it = await c.consume({ max_messages: 1000 });
    for await (const m of it) {
      out.push({ seq: m.seq, data: m.json<T>() });
      if (m.seq >= last) break;
    }
    await it.close();
    return out;
  } finally {
    await bus.close();
  }
}

/**
 * Waits until every message written so far went through the correlator and the alerter: their consumers have
 * nothing pending or unacked. The alerter acks an input after its alert transitions are on KEC_ALERTS, so after this
 * KEC_ALERTS holds every alert those inputs raise.
 */
async function drained(what: string, timeoutMs: number): Promise<void> {
  const bus = await connectBus({ url: NATS_URL, name: 'alerter-e2e', root: iso.root, logger: silent });
  try {
    const idle = async (stream: string, durable: string) => {
      const i = await bus.jsm.consumers.info(iso.prefix + stream, durable);
      return i.num_pending === 0 && i.num_ack_pending === 0;
    };
    // Idle three checks in a row with KEC_RAW not growing (the watcher still relays what kube-sim took): each stage
    // publishes its outputs before it acks its input, so a message in flight shows as pending somewhere.
    let streak = 0;
    let raw = -1;
    await waitFor(
      what,
      async () => {
        const rawNow = (await bus.jsm.streams.info(`${iso.prefix}KEC_RAW`)).state.last_seq;
        const ok =
          rawNow === raw &&
          (await idle('KEC_RAW', 'enricher')) &&
          (await idle('KEC_ENRICHED', 'correlator')) &&
          (await idle('KEC_INCIDENTS', 'alerter')) &&
          (await idle('KEC_PATTERNS', 'alerter'));
        raw = rawNow;
        streak = ok ? streak + 1 : 0;
        return streak >= 3;
      },
      timeoutMs,
      500,
    );
  } finally {
    await bus.close();
  }
}

before(async () => {
  iso = newIsolation();
  // every message on the public subjects (alerts included), checked against schemas/*.json
  tap = await ContractTap.start(iso.root);
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push(JSON.parse(body) as Webhook);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const port = (sink.address() as { port: number }).port;
  am = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/am`,
    groupBy: ['alertname', 'namespace'],
    groupWait: '1s',
    groupInterval: '2s',
  });
  sim = await startSimProcess(['--scenario', 'none']);
  const file = join(iso.dataDir, 'alerts.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: kec.alerts/v1',
      'receivers:',
      `  - { name: am, type: alertmanager, url: "${am.url}", resendInterval: 10s }`,
      'route:',
      '  receiver: am',
      '  group_by: [alertname, namespace]',
      '  group_wait: 0s',
      '  group_interval: 1s',
      '',
    ].join('\n'),
  );
  kec = await startKec(
    'kec',
    ['watcher', 'enricher', 'correlator', 'alerter'],
    kecEnv(iso, sim.kubeconfig, {
      KEC_ALERTER_CONFIG_FILES: file,
      KEC_ALERTER_DELIVERED_BUCKET: `${iso.prefix}delivered`,
      KEC_ALERTER_EXTERNAL_URL: 'http://kec.example',
      KEC_ALERTER_TICK_MS: '200',
      KEC_CORRELATOR_QUIET_MS: '10000',
      KEC_CORRELATOR_SWEEP_INTERVAL_MS: '1000',
    }),
  );
  await waitFor('kec ready', () => ready(kec.metricsPort), 90_000);
});

after(async () => {
  await kec?.stop('SIGTERM');
  await sim?.stop('SIGTERM');
  await am?.stop();
  await new Promise((r) => sink?.close(r));
  await tap?.stop();
  await cleanup(iso);
});

test('alerter e2e - noise alone alerts nothing; a crash loop fires in a real Alertmanager, then resolves', async (t) => {
  // Noise only (the driver's background events), 10 virtual minutes played at once, ending now.
  await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'none',
    rate: 5,
    durationMs: 600_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 7,
    concurrency: 4,
  });
  // The noise must have gone all the way through the alerter before we look: every input it would alert on is
  // acked only after its transitions are on KEC_ALERTS.
  const metrics = async () => (await fetch(`http://127.0.0.1:${kec.metricsPort}/metrics`)).text();
  await waitFor(
    'the correlator consumed the noise',
    async () => /kec_correlator_events_total\{[^}]*\} \d+/.test(await metrics()),
    60_000,
  );
  await drained('the noise through the correlator and the alerter', 180_000);
  const storms = (await readStream<{ kind: string; reason: string; type?: string; severity?: string }>('KEC_PATTERNS'))
    .filter((m) => m.data.kind === 'storm')
    .map((m) => `${m.data.reason} (${m.data.type}, ${m.data.severity})`);
  t.diagnostic(`storm patterns of the noise: ${storms.join(', ') || 'none'}`);
  assert.deepEqual(
    (await readStream<{ labels: Record<string, string> }>('KEC_ALERTS')).map((m) => m.data.labels),
    [],
    'the shipped defaults raise no alert on background noise',
  );
  assert.deepEqual(
    (await am.alerts()).map((a) => a.labels['alertname']),
    [],
    'and Alertmanager has none',
  );
  // A crash loop: an error incident.
  await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: ['crashloop'],
    rate: 0,
    durationMs: 300_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 7,
    concurrency: 4,
    repeat: false,
  });
  const alert = await waitFor(
    'KecIncident in Alertmanager',
    async () => (await am.alerts('active=true')).find((a) => a.labels['alertname'] === 'KecIncident'),
    120_000,
  );
  t.diagnostic(JSON.stringify(alert.labels));
  assert.equal(alert.labels['cluster'], iso.cluster);
  assert.equal(alert.labels['rule'], 'kec-incident');
  assert.match(alert.labels['severity'] ?? '', /^(error|critical)$/);
  assert.equal(alert.labels['reason'], 'BackOff');
  assert.ok(alert.labels['incident_id'], 'incident id label');
  assert.ok(alert.labels['namespace'], 'namespace label');
  assert.equal(
    alert.generatorURL,
    `http://kec.example/incidents/${encodeURIComponent(alert.labels['incident_id'] ?? '')}`,
  );
  assert.ok(alert.annotations['summary'] && alert.annotations['root_cause'], 'summary and root cause annotations');
  await waitFor('firing at the webhook', () => received.find((w) => w.status === 'firing'), 60_000);
  // The scenario is over: the correlator resolves the incident after 10 s of quiet, the alerter sends the
  // resolution (endsAt in the past), and Alertmanager notifies its webhook receiver that it resolved.
  const resolved = await waitFor(
    'resolved at the webhook',
    () =>
      received.find((w) => w.status === 'resolved' && w.alerts.some((a) => a.labels['alertname'] === 'KecIncident')),
    120_000,
  );
  assert.equal(resolved.alerts[0]?.labels['incident_id'], alert.labels['incident_id']);
  // Everything Alertmanager ever notified came from the crash loop's incident: the noise raised nothing.
  const ids = new Set(received.flatMap((w) => w.alerts.map((a) => a.labels['incident_id'])));
  assert.deepEqual([...ids], [alert.labels['incident_id']]);
  t.diagnostic(tap.summary());
  assert.deepEqual(tap.violations.slice(0, 3), [], tap.summary());
  assert.ok(tap.seen.alerts > 0, tap.summary());
});

interface AlertMsg {
  status: string;
  labels: Record<string, string>;
  incidentId?: string;
}

/** Scenarios whose incidents are problems someone must hear of: the shipped defaults must alert on each. */
const PROBLEMS = [
  'crashloop',
  'image-pull',
  'oomkilled',
  'scheduling-noscaleup',
  'node-failure',
  'volume',
  'probes',
  'job-failure',
  'kernel',
];
/** Healthy change: kube-sim records it as an incident (its root cause is known), but nothing is wrong. */
const HEALTHY = ['rollout', 'hpa-rescale'];

test('alerter e2e - the shipped defaults on every scenario with noise: problems alert, noise and healthy change do not', async (t) => {
  const lastSeq = async (stream: string) => {
    const bus = await connectBus({ url: NATS_URL, name: 'alerter-e2e', root: iso.root, logger: silent });
    try {
      return (await bus.jsm.streams.info(iso.prefix + stream)).state.last_seq;
    } finally {
      await bus.close();
    }
  };
  const alertsBefore = await lastSeq('KEC_ALERTS');
  const eventsBefore = await lastSeq('KEC_EVENTS');
  const { groundTruth: gt } = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: 5,
    durationMs: 30 * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 11,
    concurrency: 4,
    repeat: false,
  });
  await drained('the scenarios through the correlator and the alerter', 240_000);
  const alerts = (await readStream<AlertMsg>('KEC_ALERTS', alertsBefore))
    .map((m) => m.data)
    .filter((a) => a.status === 'firing');
  // Each kec incident -> the ground-truth incidents its events belong to ('' for noise).
  const truthOf = new Map<string, Set<string>>();
  for (const { data: e } of await readStream<{ uid: string; incidentId?: string | null }>('KEC_EVENTS', eventsBefore)) {
    if (!e.incidentId) continue;
    const g = gt.events[e.uid]?.incident ?? '';
    const s = truthOf.get(e.incidentId) ?? new Set<string>();
    if (s.size === 0) truthOf.set(e.incidentId, s);
    s.add(g);
  }
  const scenarioOf = new Map(gt.incidents.map((g) => [g.id, g.scenario]));
  const describe = (a: AlertMsg) =>
    `${a.labels['alertname']} ${a.labels['reason']} ${a.labels['object'] ?? a.labels['workload'] ?? ''} -> ${
      a.incidentId ? [...(truthOf.get(a.incidentId) ?? [])].map((g) => g || 'noise').join(',') : 'storm'
    }`;
  t.diagnostic(`${alerts.length} alerts: ${alerts.map(describe).join('; ')}`);

  // Quiet: every alert is about a problem. An incident alert has events of a problem scenario's incident; a storm
  // alert is a storm of a reason the problems wrote as Warning events.
  const warningReasons = new Set(
    Object.values(gt.events as GroundTruth['events'])
      .filter((e) => e.incident && e.type === 'Warning')
      .map((e) => e.reason),
  );
  const unwanted = alerts.filter((a) => {
    if (!a.incidentId) return !warningReasons.has(a.labels['reason'] ?? '');
    const scenarios = [...(truthOf.get(a.incidentId) ?? [])].map((g) => (g ? scenarioOf.get(g) : 'noise'));
    return scenarios.every((s) => s === 'noise' || HEALTHY.includes(s ?? ''));
  });
  assert.deepEqual(unwanted.map(describe), [], 'no alert on noise or healthy change');

  // Loud: every incident of a problem scenario is in an alerted incident.
  const alerted = new Set(alerts.flatMap((a) => (a.incidentId ? [...(truthOf.get(a.incidentId) ?? [])] : [])));
  const missed = gt.incidents.filter((g) => PROBLEMS.includes(g.scenario) && !alerted.has(g.id));
  assert.deepEqual(
    missed.map((g) => `${g.id}: ${g.title}`),
    [],
    'every problem scenario incident alerted',
  );
  assert.ok(
    PROBLEMS.every((p) => gt.incidents.some((g) => g.scenario === p)),
    'the run played every problem scenario',
  );
});
