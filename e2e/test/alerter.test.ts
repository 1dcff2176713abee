// The alerter end to end, as processes: kube-sim -> watcher -> enricher -> correlator -> alerter -> a real
// Alertmanager (Debian's prometheus-alertmanager, on a free port with its own config and data dir). Background noise
// alone raises no alert with the shipped defaults; a crash loop becomes an incident, the incident an alert visible in
// Alertmanager's GET /api/v2/alerts with kec's labels, and Alertmanager's own webhook receiver gets it firing, then
// resolved once the correlator resolves the incident.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runScenarios } from '@kec/kube-sim';
import { type AlertmanagerProcess, startAlertmanager } from '@kec/notify';
import {
  ContractTap,
  cleanup,
  type Isolation,
  type KecProc,
  kecEnv,
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

let iso: Isolation;
let sim: SimProc;
let am: AlertmanagerProcess;
let kec: KecProc;
let sink: Server;
const received: Webhook[] = [];
let tap: ContractTap;

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
  // Give the pipeline time to carry the noise through (its events must reach the alerter before we look).
  const metrics = async () => (await fetch(`http://127.0.0.1:${kec.metricsPort}/metrics`)).text();
  await waitFor(
    'the correlator consumed the noise',
    async () => /kec_correlator_events_total\{[^}]*\} \d+/.test(await metrics()),
    60_000,
  );
  await waitFor(
    'the enriched backlog drained',
    async () => {
      const m = await metrics();
      const pending = [...m.matchAll(/kec_bus_consumer_pending\{[^}]*consumer="correlator"[^}]*\} (\d+)/g)].map((x) =>
        Number(x[1]),
      );
      return pending.length > 0 && pending.every((n) => n === 0);
    },
    120_000,
  );
  assert.deepEqual(
    (await am.alerts()).map((a) => a.labels['alertname']),
    [],
    'the shipped defaults stay quiet on background noise',
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
