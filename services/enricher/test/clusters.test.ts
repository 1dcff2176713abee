import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnrichedEvent } from '@kec/cache';
import type { KecEvent } from '@kec/model';
import { type BatchEnricher, ClusterRouter, parseClusters } from '../src/index.ts';
import { kecEvent } from './helpers.ts';

test('clusters - KEC_ENRICHER_CLUSTERS parses name=kubeconfig[#context]; empty means the own cluster', () => {
  const own = { name: 'home', kubeconfig: '/k' };
  assert.deepEqual(parseClusters('', own), [own]);
  assert.deepEqual(parseClusters('a=/etc/a.yaml,b=/etc/kc.yaml#ctx-b,c', own), [
    { name: 'a', kubeconfig: '/etc/a.yaml', context: undefined },
    { name: 'b', kubeconfig: '/etc/kc.yaml', context: 'ctx-b' },
    { name: 'c', kubeconfig: '', context: undefined },
  ]);
  assert.throws(() => parseClusters('A=/x', own), /not a cluster name/);
  assert.throws(() => parseClusters('a=/x,a=/y', own), /listed twice/);
});

test('clusters - a mixed batch goes to each cluster enricher in order; an unknown cluster is unavailable', async () => {
  const seen: Record<string, string[]> = {};
  const fake = (name: string): BatchEnricher => ({
    async enrichBatch(events: readonly KecEvent[]) {
      seen[name] = events.map((e) => e.uid);
      return events.map((e) => ({ ...e, enrichment: { status: 'hit', detail: name } }) as unknown as EnrichedEvent);
    },
  });
  const noAccess: string[] = [];
  const router = new ClusterRouter(
    new Map([
      ['a', fake('a')],
      ['b', fake('b')],
    ]),
    { onNoAccess: (c) => noAccess.push(c) },
  );
  const pod = { kind: 'Pod', namespace: 'shop', name: 'web-1' };
  const batch = [kecEvent('a', pod), kecEvent('b', pod), kecEvent('c', pod), kecEvent('a', pod)];
  const out = await router.enrichBatch(batch);
  assert.deepEqual(
    out.map((e) => e.uid),
    batch.map((e) => e.uid),
  );
  assert.deepEqual(
    out.map((e) => `${e.enrichment.status}/${e.enrichment.detail}`),
    ['hit/a', 'hit/b', 'unavailable/no-cluster-access', 'hit/a'],
  );
  assert.deepEqual(seen['a'], [batch[0]!.uid, batch[3]!.uid]);
  assert.deepEqual(noAccess, ['c']);
});
