// The Alertmanager notifier against a real Alertmanager (Debian's prometheus-alertmanager, started by the test on a
// free port with its own config and data dir), whose own webhook receiver reports firing and then resolved.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAlertmanager } from '../src/index.ts';
import { httpReceiver, notification, testOutbox, waitFor } from './helpers.ts';

interface AmWebhook {
  version: string;
  status: 'firing' | 'resolved';
  alerts: Array<{
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    endsAt: string;
  }>;
}

test('alertmanager - posted alerts are active in GET /api/v2/alerts with their labels; resolutions end them', async (t) => {
  const hook = await httpReceiver(t);
  const am = await startAlertmanager({ webhookUrl: `${hook.url}/am`, groupWait: '1s', groupInterval: '1s' });
  t.after(() => am.stop());
  const ob = await testOutbox(t);
  await ob.sender({
    receivers: [{ name: 'am', type: 'alertmanager', url: am.url, resendInterval: '1m' }],
  });
  const groupKey = '{}:{alertname="KecIncident", namespace="shop"}';
  const alert = (id: string, status: 'firing' | 'resolved') => ({
    id,
    status,
    labels: { alertname: 'KecIncident', namespace: 'shop', severity: 'error', workload: id, rule: 'error-incidents' },
    annotations: { summary: `CrashLoopBackOff on Deployment shop/${id}`, root_cause: 'OOMKilled' },
    startsAt: '2026-12-07T13:16:00.000Z',
    ...(status === 'resolved' ? { endsAt: new Date().toISOString() } : {}),
    generatorURL: `https://kec.example/incidents/inc-${id}`,
    incidentId: `inc-${id}`,
  });
  const t0 = Date.now();
  await ob.publish(notification('am', groupKey, 1, { alerts: [alert('web', 'firing'), alert('api', 'firing')] }));

  await waitFor(async () => (await am.alerts('active=true')).length === 2, 15_000, 'two active alerts');
  const active = (await am.alerts('active=true')).sort((a, b) => a.labels.workload!.localeCompare(b.labels.workload!));
  assert.deepEqual(
    active.map((a) => a.labels),
    [
      { alertname: 'KecIncident', namespace: 'shop', severity: 'error', workload: 'api', rule: 'error-incidents' },
      { alertname: 'KecIncident', namespace: 'shop', severity: 'error', workload: 'web', rule: 'error-incidents' },
    ],
  );
  const web = active[1]!;
  assert.equal(web.status.state, 'active');
  assert.equal(web.annotations.summary, 'CrashLoopBackOff on Deployment shop/web');
  assert.equal(web.annotations.incident_id, 'inc-web', 'incidentId carried as an annotation');
  assert.equal(web.generatorURL, 'https://kec.example/incidents/inc-web');
  assert.equal(web.startsAt, '2026-12-07T13:16:00.000Z');
  // endsAt = send time + 3 x resendInterval (1 m).
  const endsIn = Date.parse(web.endsAt) - t0;
  assert.ok(endsIn > 170_000 && endsIn < 200_000, `endsAt ${web.endsAt} is ~3 min ahead (${endsIn} ms)`);

  // Alertmanager's own webhook receiver got the group firing.
  const bodies = () => hook.requests.map((r) => JSON.parse(r.body) as AmWebhook);
  await waitFor(
    () => bodies().some((b) => b.status === 'firing' && b.alerts.length === 2),
    15_000,
    'AM webhook: firing',
  );

  // Resolve one, then the other: Alertmanager ends them (no longer active) and notifies the resolution.
  await ob.publish(notification('am', groupKey, 2, { alerts: [alert('web', 'resolved'), alert('api', 'firing')] }));
  await waitFor(
    async () => (await am.alerts('active=true')).map((a) => a.labels.workload).join() === 'api',
    15_000,
    'only api still active',
  );
  await ob.publish(notification('am', groupKey, 3, { status: 'resolved', alerts: [alert('api', 'resolved')] }));
  await waitFor(async () => (await am.alerts('active=true')).length === 0, 15_000, 'no active alert');
  await waitFor(
    () => bodies().some((b) => b.status === 'resolved' && b.alerts.every((a) => a.status === 'resolved')),
    20_000,
    'AM webhook: resolved',
  );
  const resolved = bodies().find((b) => b.status === 'resolved');
  assert.equal(resolved?.version, '4');
  assert.ok(resolved?.alerts.every((a) => a.labels.namespace === 'shop' && Date.parse(a.endsAt) <= Date.now()));
});

test('alertmanager - a 4xx answer (an alert Alertmanager refuses) is dead-lettered with its reason', async (t) => {
  const am = await startAlertmanager({});
  t.after(() => am.stop());
  const ob = await testOutbox(t);
  await ob.sender({ receivers: [{ name: 'am', type: 'alertmanager', url: am.url }] });
  // A label name Alertmanager 0.25's classic validation refuses ('bad-name' is not [a-zA-Z_][a-zA-Z0-9_]*).
  const n = notification('am', 'g-bad', 1);
  n.alerts[0]!.labels['bad-name'] = 'x';
  await ob.publish(n);
  await waitFor(async () => (await ob.deadLetters()).length === 1, 15_000, 'dead letter');
  const [dl] = await ob.deadLetters();
  assert.equal(dl?.headers['Kec-Notify-Status'], '400');
  assert.equal(dl?.headers['Kec-Dlq-Reason'], 'rejected');
  assert.match(dl?.headers['Kec-Dlq-Error'] ?? '', /HTTP 400/);
});

test('alertmanager - an alert that starts ahead of kec (cluster clock skew) is accepted, not rejected as ending first', async (t) => {
  const am = await startAlertmanager({ groupWait: '1s', groupInterval: '1s' });
  t.after(() => am.stop());
  const ob = await testOutbox(t);
  const s = await ob.sender({ receivers: [{ name: 'am', type: 'alertmanager', url: am.url, resendInterval: '1m' }] });
  const ahead = new Date(Date.now() + 10 * 60_000).toISOString(); // past now + 3 x resendInterval
  await ob.publish(
    notification('am', '{}:{alertname="KecSkew"}', 1, {
      alerts: [{ id: 'skew', status: 'firing', labels: { alertname: 'KecSkew' }, annotations: {}, startsAt: ahead }],
    }),
  );
  await waitFor(async () => (await am.alerts('active=true')).length === 1, 15_000, 'the skewed alert active');
  const [a] = await am.alerts('active=true');
  assert.ok(Date.parse(a!.startsAt) <= Date.now(), `startsAt ${a!.startsAt} is not in the future`);
  assert.deepEqual(
    s.stats().map((r) => [r.name, r.sent, r.deadLettered]),
    [['am', 1, 0]],
  );
});
