// The staleWatchesCloseSilently fault: a watch from a compacted RV gets 200 and a clean EOF with no ERROR 410
// (kubernetes PR #137307 reports this for Event watches served from etcd); a fresh RV is unaffected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, watch } from './helpers.ts';

let sim: KubeSim;
before(async () => {
  sim = await startKubeSim({});
});
after(async () => {
  await sim.close();
});

test('faults - staleWatchesCloseSilently: a compacted RV gets a clean EOF instead of ERROR 410, until reset', async () => {
  const ns = rand('ns');
  const base = `/api/v1/namespaces/${ns}/events`;
  await sim.store.create(base, coreEvent(ns, 'a.1'));
  const stale = sim.resourceVersion();
  sim.faults.compactSilently();
  assert.equal((await request(sim, 'POST', '/_sim/stale-watches-close-silently', { on: true })).status, 200);

  const silent = await watch(sim, `${base}?watch=true&resourceVersion=${stale}`);
  assert.equal(silent.status, 200);
  await silent.waitEnd();
  assert.equal(silent.error, undefined);
  assert.equal(silent.frames.length, 0, 'no ERROR frame');

  const fresh = await watch(sim, `${base}?watch=true&resourceVersion=${sim.resourceVersion()}&timeoutSeconds=5`);
  await sim.store.create(base, coreEvent(ns, 'a.2'));
  await fresh.waitFrames(1);
  assert.equal(fresh.frames[0].type, 'ADDED', 'a current RV still watches normally');
  fresh.close();

  sim.faults.reset();
  const loud = await watch(sim, `${base}?watch=true&resourceVersion=${stale}`);
  await loud.waitEnd();
  assert.equal(loud.frames[0].type, 'ERROR');
  assert.equal(loud.frames[0].object.code, 410);
});
