// The published contracts end to end: every message on the public subjects (kec.events, kec.incident, kec.pattern,
// kec.gap, kec.alert) of a run that produces each kind is valid against its schemas/*.json file, read as a
// subscriber reads it. Events, incidents and first-seen patterns come from a crash loop, alerts from the alerter on
// its incident (a real Alertmanager), and a gap from the watcher killed and restarted after kube-sim compacted its
// watch history past the watcher's checkpoint (the admin API's compaction, as etcd's).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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

let iso: Isolation;
let tap: ContractTap;
let sim: SimProc;
let am: AlertmanagerProcess;
let watcher: KecProc;
let rest: KecProc;
let env: NodeJS.ProcessEnv;

before(async () => {
  iso = newIsolation();
  tap = await ContractTap.start(iso.root);
  am = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused', groupWait: '1s', groupInterval: '2s' });
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
  env = kecEnv(iso, sim.kubeconfig, {
    KEC_WATCHER_CHECKPOINT_INTERVAL_MS: '100',
    KEC_ALERTER_CONFIG_FILES: file,
    KEC_ALERTER_DELIVERED_BUCKET: `${iso.prefix}delivered`,
    KEC_ALERTER_TICK_MS: '200',
    KEC_CORRELATOR_QUIET_MS: '10000',
    KEC_CORRELATOR_SWEEP_INTERVAL_MS: '1000',
  });
  watcher = await startKec('watcher', ['watcher'], env);
  rest = await startKec('kec', ['enricher', 'correlator', 'alerter'], env);
  await waitFor('kec ready', async () => (await ready(watcher.metricsPort)) && ready(rest.metricsPort), 90_000);
});

after(async () => {
  await watcher?.stop('SIGTERM');
  await rest?.stop('SIGTERM');
  await sim?.stop('SIGTERM');
  await am?.stop();
  await tap?.stop();
  await cleanup(iso);
});

test('contracts e2e - every message on kec.events/incidents/patterns/gaps/alerts matches its published schema', async (t) => {
  await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: ['crashloop'],
    rate: 2,
    durationMs: 300_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 7,
    concurrency: 4,
    repeat: false,
  });
  await waitFor(
    'events, incidents, patterns and an alert published',
    () => tap.seen.events > 0 && tap.seen.incidents > 0 && tap.seen.patterns > 0 && tap.seen.alerts > 0,
    120_000,
  );
  // A gap: the watcher dies, events go on, kube-sim compacts its history past the watcher's checkpoint, and the
  // restarted watcher's watch gets 410 and relists.
  await watcher.stop('SIGKILL');
  await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'none',
    rate: 5,
    durationMs: 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 8,
    concurrency: 4,
  });
  const compacted = await fetch(`${sim.url}/_sim/compact-silently`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.token}` },
  });
  assert.equal(compacted.status, 200, await compacted.text());
  watcher = await startKec('watcher', ['watcher'], env);
  await waitFor('a gap record published', () => tap.seen.gaps > 0, 60_000);
  t.diagnostic(tap.summary());
  assert.deepEqual(tap.violations.slice(0, 3), [], tap.summary());
  for (const [kind, n] of Object.entries(tap.seen)) assert.ok(n > 0, `${kind}: ${n} messages checked`);
});
