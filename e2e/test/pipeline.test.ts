// The whole pipeline, one OS process per service replica (two watchers, two enrichers, two correlators, two
// writers sharing one ClickHouse engine over HTTP through tools/chdb-http), against kube-sim in its own process,
// while the scenario driver plays every scenario: the store must equal the ground truth.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runScenarios } from '@kec/kube-sim';
import {
  ContractTap,
  cleanup,
  type Isolation,
  metricSum,
  newIsolation,
  type SimProc,
  scrape,
  startSimProcess,
} from '../src/index.ts';
import { Pipeline } from '../src/pipeline.ts';
import { compareStore, expectedTotals, summary, waitForStore } from '../src/verify.ts';

const FULL = process.env.KEC_TEST_FULL === '1';
let iso: Isolation;
let sim: SimProc;
let pipe: Pipeline;
let tap: ContractTap;

before(async () => {
  iso = newIsolation();
  // every message on the public subjects, checked against schemas/*.json
  tap = await ContractTap.start(iso.root);
  sim = await startSimProcess(['--scenario', 'none']);
  pipe = new Pipeline(iso, sim.kubeconfig, { writers: 2 });
  await pipe.startAll();
});

after(async () => {
  await pipe?.stopAll().catch(() => undefined);
  await sim?.stop('SIGTERM');
  await tap?.stop();
  await cleanup(iso);
});

test('pipeline - every scenario through 8 service processes: store equals the ground truth', async (t) => {
  const t0 = Date.now();
  const { groundTruth: gt, stats } = await runScenarios({
    kubeconfig: sim.kubeconfig,
    scenarios: 'all',
    rate: FULL ? 40 : 5,
    durationMs: (FULL ? 120 : 20) * 60_000,
    speed: Number.POSITIVE_INFINITY,
    seed: 11,
    repeat: FULL,
    concurrency: 8,
  });
  const want = expectedTotals(gt);
  const playMs = Date.now() - t0;
  const waitMs = await waitForStore(pipe.writer.sqlPort, gt, FULL ? 600_000 : 120_000);
  const c = await compareStore(pipe.writer.sqlPort, gt);
  const line = summary(c);
  t.diagnostic(
    `${want.events} events (${stats.creates ?? '?'} creates) played in ${playMs} ms; store complete ${waitMs} ms later; ${line}`,
  );
  assert.deepEqual(c.missing, [], line);
  assert.deepEqual(
    c.wrongCount.slice(0, 5),
    [],
    `${line} ${JSON.stringify(c.wrongCount.slice(0, 5).map((w) => ({ ...w, gt: gt.events[w.uid] })))}`,
  );
  assert.equal(c.duplicates, 0, line);
  assert.equal(c.extra, 0, line);
  assert.equal(c.storedOccurrences, c.expectedOccurrences, line);
  assert.deepEqual(c.wrongOccurrences.slice(0, 5), [], line);
  assert.equal(c.gaps, 0, `no faults, so no gaps; ${line}`);
  // The correlator's own scenario tests score root cause first 51/53 (services/correlator/README.md), and so does
  // this suite's quick variant. The full variant repeats every scenario on the same workloads and nodes, with
  // pauses (30-120 s) shorter than the correlator's grouping window (15 min): a repeat joins the incident still open
  // from the run before, and which repeat's root cause wins depends on timing (148, 135 and 143 of 202 in three
  // runs), so there it is reported, not asserted.
  if (!FULL) assert.ok(c.incidents.rootCauseMatched >= Math.ceil(c.incidents.expected * 0.75), line);
  // Both writer replicas took a share of the work from the shared durable.
  for (const w of pipe.byService('writer')) {
    assert.ok(metricSum(await scrape(w.metricsPort), 'kec_writer_rows_written_total') > 0, `${w.name} wrote rows`);
  }
  t.diagnostic(tap.summary());
  assert.deepEqual(tap.violations.slice(0, 3), [], tap.summary());
  assert.ok(tap.seen.events > 0 && tap.seen.incidents > 0, tap.summary());
  const codes = await pipe.stopAll();
  for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} drained with exit ${code}`);
});
