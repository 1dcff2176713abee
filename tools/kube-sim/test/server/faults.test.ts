// Fault injection, in-process and through the /_sim/ admin API, and the stats the enricher tests count with.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, type CoreV1Event, makeInformer } from '@kubernetes/client-node';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, waitFor, watch } from './helpers.ts';

describe('kube-sim faults', () => {
  let sim: KubeSim;
  before(async () => {
    sim = await startKubeSim({});
  });
  after(async () => {
    await sim.close();
  });

  test('faults - closeWatches ends streams cleanly; the informer re-watches from its RV without relisting', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/events`;
    const raw = await watch(sim, `${base}?watch=true`);
    const core = sim.kubeConfig.makeApiClient(CoreV1Api);
    const informer = makeInformer(sim.kubeConfig, base, () => core.listNamespacedEvent({ namespace: ns }));
    const adds: string[] = [];
    informer.on('add', (e: CoreV1Event) => adds.push(e.metadata.name!));
    sim.resetStats();
    await informer.start();
    await waitFor(() => (sim.stats().requests['watch events'] ?? 0) === 1);
    sim.faults.closeWatches();
    await raw.waitEnd();
    assert.equal(raw.error, undefined);
    assert.equal(raw.frames.length, 0);
    await waitFor(() => (sim.stats().requests['watch events'] ?? 0) === 2, 5000, 're-watch');
    await sim.store.create(base, coreEvent(ns, 'after.1'));
    await waitFor(() => adds.includes('after.1'));
    assert.equal(sim.stats().requests['list events'], 1, 'no relist after a clean EOF');
    await informer.stop();
  });

  test('faults - compactSilently: EOF without ERROR, then resuming from any seen RV is 410', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/events`;
    await sim.store.create(base, coreEvent(ns, 'a.1'));
    const rv = sim.resourceVersion();
    const w = await watch(sim, `${base}?watch=true&resourceVersion=${rv}`);
    const admin = await request(sim, 'POST', '/_sim/compact-silently');
    assert.equal(admin.status, 200);
    await w.waitEnd();
    assert.equal(w.frames.length, 0, 'no ERROR frame');
    const resume = await watch(sim, `${base}?watch=true&resourceVersion=${rv}`);
    await resume.waitEnd();
    assert.equal(resume.frames[0].type, 'ERROR');
    assert.equal(resume.frames[0].object.code, 410);
  });

  test('faults - failNextWatches: the next N watches get 200 + ERROR 410 + EOF, or HTTP 410', async () => {
    sim.faults.failNextWatches(2);
    for (let i = 0; i < 2; i++) {
      const w = await watch(sim, `/api/v1/events?watch=true&resourceVersion=${sim.resourceVersion()}`);
      assert.equal(w.status, 200);
      await w.waitEnd();
      assert.equal(w.frames.length, 1);
      assert.equal(w.frames[0].object.reason, 'Expired');
    }
    const ok = await watch(sim, `/api/v1/events?watch=true&resourceVersion=${sim.resourceVersion()}&timeoutSeconds=1`);
    assert.equal(ok.status, 200);
    await ok.waitEnd(3000);
    assert.equal(ok.frames.length, 0);
    await request(sim, 'POST', '/_sim/fail-next-watches', { n: 1, mode: 'http' });
    const http410 = await request(sim, 'GET', '/api/v1/events?watch=true');
    assert.equal(http410.status, 410);
  });

  test('faults - resetConnections destroys watch sockets; the informer reports an error', async () => {
    const ns = rand('ns');
    const w = await watch(sim, `/api/v1/namespaces/${ns}/events?watch=true`);
    const core = sim.kubeConfig.makeApiClient(CoreV1Api);
    const informer = makeInformer(sim.kubeConfig, `/api/v1/namespaces/${ns}/events`, () =>
      core.listNamespacedEvent({ namespace: ns }),
    );
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    await waitFor(() => sim.stats().openWatches >= 2);
    sim.faults.resetConnections();
    await waitFor(() => w.error !== undefined || w.ended, 5000, 'raw watch cut');
    await waitFor(() => errors.length > 0, 5000, 'informer error');
    await informer.stop();
  });

  test('faults - latency delays each request', async () => {
    // The delay is a lower bound (a loaded machine only adds to it); after clearing it, a request must not wait
    // anywhere near it. 600 ms leaves a wide margin for a slow CI machine on the upper side.
    sim.faults.setLatency(600);
    const t0 = Date.now();
    await request(sim, 'GET', '/api/v1/namespaces');
    assert.ok(Date.now() - t0 >= 590);
    await request(sim, 'POST', '/_sim/latency', { ms: 0 });
    const t1 = Date.now();
    await request(sim, 'GET', '/api/v1/namespaces');
    assert.ok(Date.now() - t1 < 590, `took ${Date.now() - t1} ms without latency`);
  });

  test('faults - failFraction answers 429 with Retry-After or 500', async () => {
    sim.faults.failFraction(1, 429, 3);
    const r = await request(sim, 'GET', '/api/v1/pods');
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '3');
    assert.equal(r.json.reason, 'TooManyRequests');
    assert.equal(r.json.details.retryAfterSeconds, 3);
    await request(sim, 'POST', '/_sim/fail-fraction', { fraction: 1, status: 500 });
    const r2 = await request(sim, 'GET', '/api/v1/pods');
    assert.equal(r2.status, 500);
    assert.equal(r2.json.reason, 'InternalError');
    sim.faults.failFraction(0.5, 500);
    let fails = 0;
    for (let i = 0; i < 60; i++) if ((await request(sim, 'GET', '/api/v1/pods')).status === 500) fails++;
    assert.ok(fails > 5 && fails < 55, `about half fail (${fails}/60)`);
    sim.faults.reset();
    assert.equal((await request(sim, 'GET', '/api/v1/pods')).status, 200);
  });

  test('faults - expire-tokens over the admin API; clock offset moves creationTimestamp', async () => {
    const admin = await request(sim, 'POST', '/_sim/clock', { offsetMs: 86_400_000 });
    assert.equal(admin.status, 200);
    const ns = rand('ns');
    const c = await request(sim, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p' } });
    const age = new Date(c.json.metadata.creationTimestamp).getTime() - Date.now();
    assert.ok(age > 86_000_000, 'a day ahead');
    sim.clock.setOffset(0);
    const before = sim.token;
    await request(sim, 'POST', '/_sim/expire-tokens');
    assert.equal(
      (await request(sim, 'GET', '/api/v1/pods', undefined, { authorization: `Bearer ${before}` })).status,
      401,
    );
    sim.faults.rotateToken();
    assert.equal((await request(sim, 'GET', '/api/v1/pods')).status, 200);
  });

  test('stats - request counts by verb and resource, object counts, current RV', async () => {
    sim.resetStats();
    const ns = rand('ns');
    await sim.store.create(`/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p' } });
    await request(sim, 'GET', `/api/v1/namespaces/${ns}/pods/p`);
    await request(sim, 'GET', `/api/v1/namespaces/${ns}/pods/p`);
    await request(sim, 'GET', `/apis/apps/v1/namespaces/${ns}/replicasets/x`);
    const s = (await request(sim, 'GET', '/_sim/stats')).json;
    assert.equal(s.requests['get pods'], 2);
    assert.equal(s.requests['get replicasets.apps'], 1);
    assert.ok(s.objects.pods >= 1);
    assert.equal(s.resourceVersion, sim.resourceVersion());
    const del = await request(sim, 'POST', '/_sim/expire-events', { all: true });
    assert.equal(del.status, 200);
  });
});
