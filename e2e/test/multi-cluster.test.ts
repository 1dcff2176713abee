// Two clusters, one pipeline: two kube-sims planned from the same seed (the same namespaces, pod names, even uids)
// whose app objects differ only in a label, a watcher per cluster (KEC_CLUSTER=a, b), one enricher pool serving
// both clusters (KEC_ENRICHER_CLUSTERS), one correlator pool and one writer. Every stored event must carry its own
// cluster's labels, incidents never mix clusters, and each cluster's rows equal its sim's ground truth.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type GroundTruth, runScenarios } from '@kec/kube-sim';
import {
  cleanup,
  type Isolation,
  type KecProc,
  kecEnv,
  newIsolation,
  ready,
  type SimProc,
  sql,
  startKec,
  startSimProcess,
  WaitAborted,
  waitFor,
} from '../src/index.ts';
import { compareStore, expectedTotals, summary, waitForStore } from '../src/verify.ts';

const FULL = process.env.KEC_TEST_FULL === '1';
const LABEL = 'kec.test/cluster';
const CLUSTERS = ['a', 'b'] as const;
let iso: Isolation;
const sims: Record<string, SimProc> = {};
const procs: KecProc[] = [];

async function start(name: string, services: string[], env: NodeJS.ProcessEnv): Promise<KecProc> {
  const p = await startKec(name, services, env);
  procs.push(p);
  await waitFor(
    `${name} ready`,
    () => {
      if (!p.alive) throw new WaitAborted(`${name} exited ${p.exitCode}: ${p.output.slice(-3000)}`);
      return ready(p.metricsPort);
    },
    90_000,
  );
  return p;
}

before(async () => {
  iso = newIsolation();
  for (const c of CLUSTERS) sims[c] = await startSimProcess(['--scenario', 'none']);
});

after(async () => {
  for (const p of [...procs].reverse()) await p.stop('SIGTERM', 20_000);
  for (const s of Object.values(sims)) await s.stop('SIGTERM');
  await cleanup(iso);
});

test('multi-cluster - two clusters with colliding names through one pipeline: labels, incidents and counts stay per cluster', async (t) => {
  const base = (extra: Record<string, string>) =>
    kecEnv(iso, sims.a!.kubeconfig, {
      KEC_SHUTDOWN_GRACE_MS: '10000',
      KEC_WRITER_BATCH_WAIT_MS: '200',
      KEC_SQL_MAX_ROWS: '1000000',
      KEC_ENRICHER_LEASE_DURATION_MS: '4000',
      KEC_ENRICHER_RENEW_DEADLINE_MS: '3000',
      KEC_ENRICHER_RETRY_PERIOD_MS: '500',
      ...extra,
    });
  const writer = await start('writer-0', ['writer', 'sql'], base({}));
  for (let i = 0; i < 2; i++) await start(`correlator-${i}`, ['correlator'], base({}));
  const pool = CLUSTERS.map((c) => `${c}=${sims[c]!.kubeconfig}`).join(',');
  for (let i = 0; i < 2; i++) {
    await start(
      `enricher-${i}`,
      ['enricher'],
      base({ KEC_ENRICHER_CLUSTERS: pool, KEC_ENRICHER_IDENTITY: `enricher-${i}` }),
    );
  }
  for (const c of CLUSTERS) {
    await start(
      `watcher-${c}`,
      ['watcher'],
      base({ KEC_CLUSTER: c, KUBECONFIG: sims[c]!.kubeconfig, KEC_WATCHER_IDENTITY: `watcher-${c}` }),
    );
  }

  // The same seed and plan time: identical names and uids in both clusters; only the label differs.
  const nowMs = Date.now();
  const runs = await Promise.all(
    CLUSTERS.map((c) =>
      runScenarios({
        kubeconfig: sims[c]!.kubeconfig,
        scenarios: FULL ? 'all' : ['crashloop', 'image-pull', 'rollout'],
        rate: FULL ? 20 : 1,
        durationMs: (FULL ? 60 : 5) * 60_000,
        speed: Number.POSITIVE_INFINITY,
        seed: 16,
        repeat: false,
        concurrency: 4,
        clusterOptions: { nowMs, labels: { [LABEL]: c } },
      }),
    ),
  );
  const gt: Record<string, GroundTruth> = { a: runs[0]!.groundTruth, b: runs[1]!.groundTruth };
  t.diagnostic(`cluster a: ${expectedTotals(gt.a!).events} events, b: ${expectedTotals(gt.b!).events}`);

  for (const c of CLUSTERS) {
    const other = CLUSTERS.find((o) => o !== c);
    const waited = await waitForStore(writer.sqlPort, gt[c]!, FULL ? 600_000 : 180_000, `cluster = '${other}'`);
    const cmp = await compareStore(writer.sqlPort, gt[c]!, c);
    const line = summary(cmp);
    t.diagnostic(`cluster ${c}: complete after ${waited} ms; ${line}`);
    assert.deepEqual(cmp.missing, [], line);
    assert.equal(cmp.extra, 0, line);
    assert.equal(cmp.duplicates, 0, line);
    assert.equal(cmp.storedOccurrences, cmp.expectedOccurrences, line);
    assert.deepEqual(cmp.wrongOccurrences.slice(0, 5), [], line);
  }

  // The names collide: the same namespace/pod names carry events in both clusters.
  const [collide] = await sql<{ n: number }>(
    writer.sqlPort,
    `SELECT count() AS n FROM (SELECT namespace, regarding_name FROM kec.events FINAL WHERE regarding_kind = 'Pod'
     GROUP BY namespace, regarding_name HAVING uniqExact(cluster) = 2)`,
  );
  t.diagnostic(`${collide?.n} pod names have events in both clusters`);
  assert.ok(Number(collide?.n) > 0, 'pod names collide across the clusters');

  // Labels: every enriched object of cluster c carries c's label, never the other's.
  const labels = await sql<{ cluster: string; label: string; n: number }>(
    writer.sqlPort,
    `SELECT cluster, object_labels['${LABEL}'] AS label, count() AS n FROM kec.events FINAL
     WHERE mapContains(object_labels, '${LABEL}') GROUP BY cluster, label ORDER BY cluster, label`,
  );
  t.diagnostic(`labels by cluster: ${JSON.stringify(labels)}`);
  for (const c of CLUSTERS)
    assert.ok(
      labels.some((r) => r.cluster === c && r.label === c && Number(r.n) > 0),
      c,
    );
  assert.deepEqual(
    labels.filter((r) => r.cluster !== r.label),
    [],
    'no event carries the other cluster label',
  );
  // Owners resolved in each cluster (the pods' controllers exist in both clusters under the same names).
  const owners = await sql<{ cluster: string; n: number }>(
    writer.sqlPort,
    "SELECT cluster, count() AS n FROM kec.events FINAL WHERE workload_name != '' GROUP BY cluster ORDER BY cluster",
  );
  assert.deepEqual(
    owners.map((r) => r.cluster),
    ['a', 'b'],
    `workloads resolved in both clusters: ${JSON.stringify(owners)}`,
  );
  const [ownerDiff] = await sql<{ n: number }>(
    writer.sqlPort,
    `SELECT count() AS n FROM (SELECT namespace, regarding_name, uniqExact(workload_name) AS w FROM kec.events FINAL
      WHERE regarding_kind = 'Pod' AND workload_name != '' GROUP BY namespace, regarding_name HAVING w > 1)`,
  );
  assert.equal(Number(ownerDiff?.n), 0, 'the same pod has the same workload in both clusters');

  // Incidents never mix clusters: every event linked to an incident is of the incident's cluster.
  const [mixed] = await sql<{ n: number }>(
    writer.sqlPort,
    `SELECT count() AS n FROM kec.events AS e FINAL INNER JOIN (SELECT id, cluster FROM kec.incidents FINAL) AS i
     ON e.incident_id = i.id WHERE e.cluster != i.cluster`,
  );
  const [incidents] = await sql<{ a: number; b: number }>(
    writer.sqlPort,
    "SELECT countIf(cluster = 'a') AS a, countIf(cluster = 'b') AS b FROM kec.incidents FINAL",
  );
  t.diagnostic(`incidents: a ${incidents?.a}, b ${incidents?.b}`);
  assert.ok(Number(incidents?.a) > 0 && Number(incidents?.b) > 0, 'each cluster has its incidents');
  assert.equal(Number(mixed?.n), 0, 'no incident links an event of another cluster');
});
