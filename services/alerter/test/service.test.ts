// The alerter service through the real NATS: incidents -> alerts (KEC_ALERTS) -> grouped notifications in the outbox
// (KEC_NOTIFICATIONS), with two replicas sharing state; silences through the KV; bad input dead-lettered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Publisher } from '@kec/bus';
import { loadConfig } from '@kec/config';
import type { Notification } from '@kec/notify';
import {
  type AlertPayload,
  addSilence,
  alerterConfig,
  alerterService,
  alertsConfigFrom,
  expireSilence,
} from '../src/index.ts';
import { event, incident, readStream, space, startService, waitFor, writeTemp } from './helpers.ts';

const ALERTS = `apiVersion: kec.alerts/v1
receivers:
  - name: team
    type: webhook
    url: http://127.0.0.1:9/hook
route:
  receiver: team
  group_by: [alertname, namespace]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
`;

test('service - an incident becomes one firing then one resolved notification, two replicas, no duplicates', async () => {
  const sp = await space();
  const file = writeTemp('alerts.yaml', ALERTS);
  const env = sp.env({ KEC_ALERTER_CONFIG_FILES: file });
  const a = await startService(alerterService, env);
  const b = await startService(alerterService, env);
  try {
    const pub = new Publisher(sp.bus);
    const put = (i: ReturnType<typeof incident>) =>
      pub.publish(sp.bus.subjects.incidents(i.cluster, i.namespace), i, { msgId: `${i.cluster}/${i.id}/${i.version}` });
    // three incidents in one namespace (one group), one below the default rule's severity, one in another namespace
    await put(incident({ id: 'i1', version: 1 }));
    await put(incident({ id: 'i2', version: 1, severity: 'critical' }));
    await put(incident({ id: 'i3', version: 1, severity: 'warning' }));
    await put(incident({ id: 'i4', version: 1, namespace: 'pay' }));
    await put(incident({ id: 'i1', version: 2, occurrenceCount: 999 })); // an update: no new notification by itself
    const notes = await waitFor('two groups notified', async () => {
      const n = await readStream<Notification>(sp.bus, `${sp.prefix}KEC_NOTIFICATIONS`);
      const ids = new Set(n.flatMap((x) => x.data.alerts.map((al) => al.incidentId)));
      return ids.has('i1') && ids.has('i2') && ids.has('i4') ? n : undefined;
    });
    for (const n of notes) {
      assert.equal(n.subject, `${sp.root}.notifications.team`);
      assert.equal(n.msgId, `team/${n.data.groupKey}/${n.data.version}`);
      assert.equal(n.data.status, 'firing');
    }
    assert.ok(!notes.some((n) => n.data.alerts.some((al) => al.incidentId === 'i3')), 'warning incidents do not alert');
    // resolve i1: the shop group says so once
    await put(incident({ id: 'i1', version: 3, state: 'resolved' }));
    const resolved = await waitFor('the resolution', async () => {
      const n = await readStream<Notification>(sp.bus, `${sp.prefix}KEC_NOTIFICATIONS`);
      return n.find((x) => x.data.alerts.some((al) => al.incidentId === 'i1' && al.status === 'resolved'));
    });
    assert.equal(resolved.data.groupLabels['namespace'], 'shop');
    // the public subject carries each transition once: i1 firing+resolved, i2 firing, i4 firing
    const alerts = await waitFor('alert transitions', async () => {
      const x = await readStream<AlertPayload>(sp.bus, `${sp.prefix}KEC_ALERTS`);
      return x.length >= 4 ? x : undefined;
    });
    assert.deepEqual(alerts.map((x) => `${x.data.incidentId}:${x.data.status}`).sort(), [
      'i1:firing',
      'i1:resolved',
      'i2:firing',
      'i4:firing',
    ]);
    assert.ok(alerts.every((x) => x.subject === `${sp.root}.alerts.prod`));
    // Let a few more intervals pass: nothing changes, so nothing more is notified, and versions are 1..n per group.
    await new Promise((r) => setTimeout(r, 2500)); // a quiet period to observe that nothing is sent (not synchronisation)
    const all = await readStream<Notification>(sp.bus, `${sp.prefix}KEC_NOTIFICATIONS`);
    const byGroup = new Map<string, number[]>();
    for (const n of all) byGroup.set(n.data.groupKey, [...(byGroup.get(n.data.groupKey) ?? []), n.data.version]);
    for (const [k, versions] of byGroup) {
      assert.deepEqual(
        versions,
        versions.map((_, i) => i + 1),
        `group ${k}: versions in order, none twice`,
      );
    }
    assert.equal(byGroup.size, 2);
    // Every notification of a group says something new (group_wait 0 may split i1 and i2 over two intervals).
    const said = new Map<string, string>();
    for (const n of all) {
      const text = n.data.alerts
        .map((al) => `${al.incidentId}:${al.status}`)
        .sort()
        .join(',');
      assert.notEqual(said.get(n.data.groupKey), text, `group ${n.data.groupKey} v${n.data.version} repeats itself`);
      said.set(n.data.groupKey, text);
    }
    const resolutions = all.filter((n) => n.data.alerts.some((al) => al.status === 'resolved'));
    assert.equal(resolutions.length, 1);
  } finally {
    await a.stop();
    await b.stop();
    await sp.cleanup();
  }
});

test('service - a bad alerts file fails the start with file:line', async () => {
  const file = writeTemp('bad.yaml', 'apiVersion: kec.alerts/v1\nrules:\n  - id: x\n    source: incident\n');
  const cfg = loadConfig(alerterConfig, { env: { KEC_ALERTER_CONFIG_FILES: file } });
  assert.throws(
    () => alertsConfigFrom(cfg),
    new RegExp(`${file}:4: rule x /rules/0/source: must be one of incidents, events, patterns`),
  );
});

test('service - silenced and inhibited alerts are not notified while that holds, and are notified after', async () => {
  const sp = await space();
  const file = writeTemp(
    'alerts.yaml',
    `${ALERTS}rules:
  - id: pod-trouble
    alertname: KecPodTrouble
    source: events
    match: { reason: BackOff }
    threshold: { count: 0, window: 1m, by: [namespace, node] }
`,
  );
  // A silence on namespace shop, in place before the alerter starts (it loads the bucket before it is ready).
  const s = await addSilence(sp.bus, sp.bucket, {
    matchers: ['namespace="shop"'],
    endsAt: new Date(Date.now() + 3_600_000),
    createdBy: 'test',
    comment: 'maintenance',
  });
  const a = await startService(alerterService, sp.env({ KEC_ALERTER_CONFIG_FILES: file }));
  try {
    const pub = new Publisher(sp.bus);
    const put = (i: ReturnType<typeof incident>) =>
      pub.publish(sp.bus.subjects.incidents(i.cluster, i.namespace), i, { msgId: `${i.cluster}/${i.id}/${i.version}` });
    const notified = async () =>
      (await readStream<Notification>(sp.bus, `${sp.prefix}KEC_NOTIFICATIONS`)).flatMap((n) =>
        n.data.alerts.map((al) => `${al.labels['alertname']}:${al.incidentId ?? al.labels['node']}:${al.status}`),
      );
    // Incidents in shop (silenced since before the start) and pay (not).
    await put(incident({ id: 's1', version: 1 }));
    await put(incident({ id: 'p1', version: 1, namespace: 'pay' }));
    await waitFor('pay notified', async () => (await notified()).includes('KecIncident:p1:firing'));
    // A node problem on node-1, then pod trouble on node-1 (inhibited) and on node-2 (not).
    const node = incident({
      id: 'n1',
      namespace: '',
      severity: 'critical',
      category: 'node',
      rootCause: { eventUid: 'u', reason: 'NodeNotReady', object: 'Node//node-1', why: 'kubelet stopped posting' },
      affected: ['Node//node-1'],
    });
    await put(node);
    await waitFor('the node problem notified', async () => (await notified()).includes('KecNodeProblem:n1:firing'));
    for (const n of ['node-1', 'node-2']) {
      // (namespace web: the silence of shop must not be what mutes them)
      const e = event({ reason: 'BackOff', name: `web-${n}`, node: n, namespace: 'web' });
      await pub.publish(sp.bus.subjects.events('prod', 'web', 'Pod', 'Warning', 'BackOff'), e, { msgId: e.uid });
    }
    await waitFor('pod trouble on node-2 notified', async () =>
      (await notified()).includes('KecPodTrouble:node-2:firing'),
    );
    // An observation window of a few intervals: the silenced incident and the inhibited alert stay out.
    await new Promise((r) => setTimeout(r, 2500));
    let seen = await notified();
    assert.ok(!seen.some((x) => x.startsWith('KecIncident:s1')), `silenced: ${seen.join(' ')}`);
    assert.ok(!seen.includes('KecPodTrouble:node-1:firing'), `inhibited: ${seen.join(' ')}`);
    // The node problem resolves: the inhibited alert is notified; the silence expires: the silenced one is.
    await put({ ...node, version: 2, state: 'resolved' });
    await waitFor('the inhibited alert after the inhibition ended', async () =>
      (await notified()).includes('KecPodTrouble:node-1:firing'),
    );
    await expireSilence(sp.bus, sp.bucket, s.id);
    await waitFor('the silenced alert after the silence expired', async () =>
      (await notified()).includes('KecIncident:s1:firing'),
    );
    seen = await notified();
    assert.equal(seen.filter((x) => x === 'KecIncident:s1:firing').length, 1);
  } finally {
    await a.stop();
    await sp.cleanup();
  }
});
