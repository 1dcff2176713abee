// Audit 3 (client behaviour, B3/C4/C5) with the installed client-node 2.0.1; the server must keep quiet watches
// open (L13) so that only the client's own 30 s inactivity timeout ends them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CoreV1Api, makeInformer } from '@kubernetes/client-node';
import { startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, waitFor } from './helpers.ts';

describe('kube-sim clients', { concurrency: true }, () => {
  test('clients - 2.0.1 aborts a quiet watch after 30 s and re-watches from the same RV without relisting', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
      const core = sim.kubeConfig.makeApiClient(CoreV1Api);
      const informer = makeInformer(sim.kubeConfig, `/api/v1/namespaces/${ns}/events`, () =>
        core.listNamespacedEvent({ namespace: ns }),
      );
      await informer.start();
      const watches = () => sim.requestLog().filter((r) => r.verb === 'watch');
      await waitFor(() => watches().length === 2, 45_000, 'the client-side re-watch');
      const [w1, w2] = watches();
      const gap = w2!.at - w1!.at;
      assert.ok(gap >= 29_000 && gap < 40_000, `re-watch after ~30 s of silence (gap ${gap} ms)`);
      const rv = (q: string) => new URLSearchParams(q).get('resourceVersion');
      assert.equal(rv(w2!.query), rv(w1!.query));
      assert.equal(sim.requestLog().filter((r) => r.verb === 'list').length, 1);
      await informer.stop();
    } finally {
      await sim.close();
    }
  });

  test('clients - when the server ends every watch at once, 2.x backs off (1 s, 2 s, ...) instead of hot-looping', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      sim.faults.closeWatchesOnStart(true);
      const core = sim.kubeConfig.makeApiClient(CoreV1Api);
      const informer = makeInformer(sim.kubeConfig, `/api/v1/namespaces/${ns}/events`, () =>
        core.listNamespacedEvent({ namespace: ns }),
      );
      await informer.start();
      const watches = () => sim.requestLog().filter((r) => r.verb === 'watch');
      await waitFor(() => watches().length >= 4, 15_000, 'four watches');
      const at = watches().map((w) => w.at);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      assert.ok(gaps[2]! >= 1500, `backoff grows: gaps ${gaps.join(', ')} ms`);
      assert.ok(gaps[2]! >= gaps[0]!, `backoff grows: gaps ${gaps.join(', ')} ms`);
      await informer.stop();
    } finally {
      await sim.close();
    }
  });

  test('clients - C4: an expired token (401) on re-watch stops the informer; it does not retry on its own', async () => {
    const sim = await startKubeSim({});
    try {
      const ns = rand('ns');
      const core = sim.kubeConfig.makeApiClient(CoreV1Api);
      const informer = makeInformer(sim.kubeConfig, `/api/v1/namespaces/${ns}/events`, () =>
        core.listNamespacedEvent({ namespace: ns }),
      );
      const errors: unknown[] = [];
      informer.on('error', (e) => errors.push(e));
      await informer.start();
      await waitFor(() => sim.stats().openWatches === 1);
      sim.faults.expireTokens();
      sim.faults.closeWatches();
      await waitFor(() => errors.length > 0, 5000, 'error callback');
      const n = sim.requestLog().length;
      await new Promise((r) => setTimeout(r, 1500)); // observing that nothing happens needs elapsed time
      assert.equal(sim.requestLog().length, n, 'no further requests after the error');
      await informer.stop();
    } finally {
      await sim.close();
    }
  });
});
