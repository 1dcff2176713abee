import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { applyCluster, KubeClient, type KubeSim, planCluster, startKubeSim, UidMap } from '../../src/index.ts';

let sim: KubeSim;
before(async () => {
  sim = await startKubeSim({ port: 0 });
});
after(async () => {
  await sim?.close();
});

const NOW = Date.parse('2026-11-22T07:00:00Z');

test('cluster - plan is deterministic for a seed and differs across seeds', () => {
  const a = planCluster(42, { nowMs: NOW });
  const b = planCluster(42, { nowMs: NOW });
  const c = planCluster(43, { nowMs: NOW });
  assert.deepEqual(a.objects, b.objects);
  assert.notDeepEqual(
    a.pods.map((p) => p.name),
    c.pods.map((p) => p.name),
  );
});

test('cluster - names follow the controllers patterns and owner uids are consistent', () => {
  const m = planCluster('names', { nowMs: NOW });
  const byUid = new Map(m.objects.map((o) => [(o.body['metadata'] as { uid: string }).uid, o.body]));
  for (const pod of m.pods) {
    const owner = byUid.get(pod.owner.uid);
    assert.ok(owner, `owner of ${pod.name} exists`);
    assert.equal((owner['metadata'] as { name: string }).name, pod.owner.name);
    if (pod.owner.kind === 'ReplicaSet') {
      const hash = pod.labels['pod-template-hash'];
      assert.match(hash ?? '', /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
      assert.match(pod.owner.name, new RegExp(`^${pod.workload.name}-${hash}$`));
      assert.match(pod.name, new RegExp(`^${pod.owner.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      const rsOwner = (owner['metadata'] as { ownerReferences: { kind: string; uid: string; controller: boolean }[] })
        .ownerReferences[0]!;
      assert.equal(rsOwner.kind, 'Deployment');
      assert.equal(rsOwner.controller, true);
      assert.ok(byUid.has(rsOwner.uid));
    } else if (pod.owner.kind === 'StatefulSet') {
      assert.match(pod.name, new RegExp(`^${pod.owner.name}-\\d+$`));
    } else if (pod.owner.kind === 'Job') {
      const m2 = /^(.+)-(\d+)$/.exec(pod.owner.name);
      assert.ok(m2, `job name ${pod.owner.name} is <cronjob>-<minutes>`);
      assert.equal(m2[1], pod.workload.name);
      assert.equal(Number(m2[2]) % 30, 0, 'scheduled on the half hour');
      assert.equal(pod.labels['job-name'], pod.owner.name);
      assert.equal(pod.labels['batch.kubernetes.io/job-name'], pod.owner.name);
      assert.equal(pod.labels['controller-uid'], pod.owner.uid);
    } else {
      assert.equal(pod.owner.kind, 'DaemonSet');
    }
  }
  const dsPods = m.pods.filter((p) => p.workload.kind === 'DaemonSet' && p.workload.name === 'kube-proxy');
  assert.deepEqual(dsPods.map((p) => p.node).sort(), m.nodes.map((n) => n.name).sort(), 'one kube-proxy pod per node');
  for (const n of m.nodes) assert.match(n.zone, /^eu-west-1[abc]$/);
  for (const ns of m.namespaces) assert.ok(ns.labels['team'] && ns.labels['owner']);
});

test('cluster - applied through the API, owner chains resolve to the server uids (G2)', async () => {
  const m = planCluster('apply', { nowMs: NOW, nodes: 3 });
  const uids = new UidMap();
  const client = new KubeClient({ url: sim.url, token: sim.token });
  try {
    const stats = await applyCluster(client, m, uids);
    assert.equal(stats.created, m.objects.length);
    const dpod = m.pods.find((p) => p.owner.kind === 'ReplicaSet')!;
    const pod = (await client.must('GET', `/api/v1/namespaces/${dpod.namespace}/pods/${dpod.name}`)) as {
      metadata: { uid: string; ownerReferences: { name: string; uid: string }[] };
      spec: { nodeName: string };
      status: { podIP: string; phase: string };
    };
    assert.equal(pod.spec.nodeName, dpod.node);
    assert.equal(pod.status.podIP, dpod.ip);
    assert.equal(pod.status.phase, 'Running');
    const rsRef = pod.metadata.ownerReferences[0]!;
    const rs = (await client.must('GET', `/apis/apps/v1/namespaces/${dpod.namespace}/replicasets/${rsRef.name}`)) as {
      metadata: { uid: string; ownerReferences: { name: string; uid: string }[] };
    };
    assert.equal(rs.metadata.uid, rsRef.uid);
    const dRef = rs.metadata.ownerReferences[0]!;
    const d = (await client.must('GET', `/apis/apps/v1/namespaces/${dpod.namespace}/deployments/${dRef.name}`)) as {
      metadata: { uid: string };
    };
    assert.equal(d.metadata.uid, dRef.uid);
    const jpod = m.pods.find((p) => p.owner.kind === 'Job')!;
    const jp = (await client.must('GET', `/api/v1/namespaces/${jpod.namespace}/pods/${jpod.name}`)) as {
      metadata: { labels: Record<string, string>; ownerReferences: { name: string; uid: string }[] };
    };
    const job = (await client.must('GET', `/apis/batch/v1/namespaces/${jpod.namespace}/jobs/${jpod.owner.name}`)) as {
      metadata: { uid: string; ownerReferences: { kind: string; uid: string }[] };
    };
    assert.equal(jp.metadata.ownerReferences[0]!.uid, job.metadata.uid);
    assert.equal(jp.metadata.labels['controller-uid'], job.metadata.uid);
    const cj = (await client.must(
      'GET',
      `/apis/batch/v1/namespaces/${jpod.namespace}/cronjobs/${jpod.workload.name}`,
    )) as { metadata: { uid: string } };
    assert.equal(job.metadata.ownerReferences[0]!.uid, cj.metadata.uid);
    const ns = (await client.must('GET', '/api/v1/namespaces/kube-system')) as {
      metadata: { labels: Record<string, string> };
    };
    assert.equal(ns.metadata.labels['team'], 'platform', 'existing namespaces get the team labels');
  } finally {
    client.close();
  }
});
