// L3/L7/L8 list semantics: snapshot pagination, key order, selectors per API group, PartialObjectMetadata.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, request, watch } from './helpers.ts';

const PARTIAL = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const PARTIAL_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

describe('kube-sim list', () => {
  let sim: KubeSim;
  before(async () => {
    sim = await startKubeSim({});
  });
  after(async () => {
    await sim.close();
  });

  test('list - L8: pages are one consistent snapshot in namespace/name order with remainingItemCount', async () => {
    const p = rand('p');
    const nss = [`${p}-b`, `${p}-a`, `${p}-a-x`];
    const names: string[] = [];
    for (let i = 0; i < 24; i++) {
      const ns = nss[i % 3]!;
      const name = `e${(i * 7) % 24}.1`;
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, name));
      names.push(`${ns}/${name}`);
    }
    const expected = [...names].sort();
    const got: string[] = [];
    let cont = '';
    let rv = '';
    let page = 0;
    for (;;) {
      const r = await request(sim, 'GET', `/api/v1/events?limit=10${cont ? `&continue=${cont}` : ''}`);
      assert.equal(r.status, 200);
      if (!rv) rv = r.json.metadata.resourceVersion;
      assert.equal(r.json.metadata.resourceVersion, rv, 'every page keeps the first page RV');
      for (const e of r.json.items) {
        if (e.metadata.namespace.startsWith(p)) got.push(`${e.metadata.namespace}/${e.metadata.name}`);
        assert.ok(Number(e.metadata.resourceVersion) <= Number(rv));
      }
      // Writes between pages must not show up in later pages.
      if (page === 0) {
        await sim.store.create(`/api/v1/namespaces/${nss[0]}/events`, coreEvent(nss[0]!, 'zz-late.1'));
        await sim.store.delete(`/api/v1/namespaces/${nss[0]}/events/${expected[expected.length - 1]!.split('/')[1]}`);
        await sim.store.patch(`/api/v1/namespaces/${nss[0]}/events/${expected[expected.length - 2]!.split('/')[1]}`, {
          count: 42,
        });
      }
      const all = (await request(sim, 'GET', '/api/v1/events')).json.items.length;
      if (page === 0 && r.json.metadata.continue) assert.ok(r.json.metadata.remainingItemCount > 0 || all > 0);
      page++;
      cont = r.json.metadata.continue ?? '';
      if (!cont) {
        assert.equal(r.json.metadata.remainingItemCount, undefined);
        break;
      }
    }
    assert.deepEqual(got, expected, 'snapshot content in etcd key order');
  });

  test('list - remainingItemCount only without selectors; limit with a selector still fills pages', async () => {
    const ns = rand('ns');
    for (let i = 0; i < 6; i++) {
      await sim.store.create(
        `/api/v1/namespaces/${ns}/events`,
        coreEvent(ns, `e${i}.1`, { type: i % 2 ? 'Normal' : 'Warning' }),
      );
    }
    const plain = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?limit=2`);
    assert.equal(plain.json.metadata.remainingItemCount, 4);
    const sel = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events?limit=2&fieldSelector=type%3DNormal`);
    assert.equal(sel.json.items.length, 2);
    assert.ok(sel.json.metadata.continue);
    assert.equal(sel.json.metadata.remainingItemCount, undefined);
    const withRv = await request(
      sim,
      'GET',
      `/api/v1/namespaces/${ns}/events?limit=2&resourceVersion=1&continue=${plain.json.metadata.continue}`,
    );
    assert.equal(withRv.status, 400);
  });

  test('list - L3 validation: resourceVersionMatch without RV, Exact with 0, sendInitialEvents on a list are 422', async () => {
    assert.equal((await request(sim, 'GET', '/api/v1/events?resourceVersionMatch=NotOlderThan')).status, 422);
    assert.equal(
      (await request(sim, 'GET', '/api/v1/events?resourceVersionMatch=Exact&resourceVersion=0')).status,
      422,
    );
    assert.equal((await request(sim, 'GET', '/api/v1/events?sendInitialEvents=true')).status, 422);
    const future = await request(sim, 'GET', `/api/v1/events?resourceVersion=${Number(sim.resourceVersion()) + 1000}`);
    assert.equal(future.status, 504);
    assert.match(future.json.message, /^Too large resource version/);
    assert.ok((await request(sim, 'GET', '/api/v1/events?resourceVersion=abc&limit=1')).status >= 400);
  });

  test('list - L7: core/v1 event field selectors, including source falling back to reportingComponent', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/events`;
    await sim.store.create(base, coreEvent(ns, 'a.1', { involvedObject: { kind: 'Node', name: 'n1', namespace: ns } }));
    await sim.store.create(
      base,
      coreEvent(ns, 'b.1', { source: {}, reportingComponent: 'default-scheduler', type: 'Normal' }),
    );
    const q = async (fs: string) => {
      const r = await request(sim, 'GET', `${base}?fieldSelector=${encodeURIComponent(fs)}`);
      assert.equal(r.status, 200, r.text);
      return r.json.items.map((e: { metadata: { name: string } }) => e.metadata.name);
    };
    assert.deepEqual(await q('involvedObject.kind=Node'), ['a.1']);
    assert.deepEqual(await q('involvedObject.kind==Pod,type=Normal'), ['b.1']);
    assert.deepEqual(await q('type!=Normal'), ['a.1']);
    assert.deepEqual(await q('source=default-scheduler'), ['b.1']);
    assert.deepEqual(await q('source=kubelet'), ['a.1']);
    assert.deepEqual(await q('reportingComponent=default-scheduler'), ['b.1']);
    assert.deepEqual(await q('metadata.name=a.1'), ['a.1']);
    assert.deepEqual(await q(`metadata.namespace=${ns}`), ['a.1', 'b.1']);
    for (const bad of ['regarding.kind=Pod', 'foo=bar', 'reportingController=x']) {
      const r = await request(sim, 'GET', `${base}?fieldSelector=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400);
      assert.equal(r.json.reason, 'BadRequest');
      assert.equal(r.json.message, `field label not supported: ${bad.split('=')[0]}`);
    }
  });

  test('list - L7: events.k8s.io/v1 accepts regarding.* and reportingController, rejects involvedObject.*', async () => {
    const ns = rand('ns');
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'a.1'));
    const base = `/apis/events.k8s.io/v1/namespaces/${ns}/events`;
    const ok = await request(sim, 'GET', `${base}?fieldSelector=regarding.kind%3DPod,reportingController%3Dkubelet`);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.items.length, 1);
    const bad = await request(sim, 'GET', `${base}?fieldSelector=involvedObject.kind%3DPod`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'field label not supported: involvedObject.kind');
    const w = await request(sim, 'GET', `${base}?watch=true&fieldSelector=involvedObject.kind%3DPod`);
    assert.equal(w.status, 400, 'a watch with a bad selector fails before streaming');
    const syntax = await request(sim, 'GET', `${base}?fieldSelector=reason`);
    assert.equal(syntax.status, 400);
  });

  test('list - label selectors: full set syntax; invalid ones are 400', async () => {
    const ns = rand('ns');
    const base = `/api/v1/namespaces/${ns}/pods`;
    await sim.store.create(base, { metadata: { name: 'p1', labels: { app: 'web', tier: 'fe', n: '3' } } });
    await sim.store.create(base, { metadata: { name: 'p2', labels: { app: 'db' } } });
    await sim.store.create(base, { metadata: { name: 'p3' } });
    const q = async (ls: string) => {
      const r = await request(sim, 'GET', `${base}?labelSelector=${encodeURIComponent(ls)}`);
      assert.equal(r.status, 200, `${ls}: ${r.text}`);
      return r.json.items.map((e: { metadata: { name: string } }) => e.metadata.name);
    };
    assert.deepEqual(await q('app=web'), ['p1']);
    assert.deepEqual(await q('app==db'), ['p2']);
    assert.deepEqual(await q('app!=web'), ['p2', 'p3']);
    assert.deepEqual(await q('app in (web, db)'), ['p1', 'p2']);
    assert.deepEqual(await q('app notin (web)'), ['p2', 'p3']);
    assert.deepEqual(await q('tier'), ['p1']);
    assert.deepEqual(await q('!tier'), ['p2', 'p3']);
    assert.deepEqual(await q('app,!tier'), ['p2']);
    assert.deepEqual(await q('n>2'), ['p1']);
    for (const bad of ['app in web', 'app=(x', '=x', 'a b']) {
      const r = await request(sim, 'GET', `${base}?labelSelector=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.match(r.json.message, /unable to parse requirement/);
    }
    const podFs = await request(sim, 'GET', `${base}?fieldSelector=spec.nodeName%3D`);
    assert.equal(podFs.json.items.length, 3);
  });

  test('list - PartialObjectMetadata(List) for get, list and watch when the Accept header asks', async () => {
    const ns = rand('ns');
    const base = `/apis/apps/v1/namespaces/${ns}/replicasets`;
    await sim.store.create(base, { metadata: { name: 'rs1', labels: { a: 'b' } }, spec: { replicas: 2 } });
    const get = await request(sim, 'GET', `${base}/rs1`, undefined, { accept: PARTIAL });
    assert.equal(get.json.kind, 'PartialObjectMetadata');
    assert.equal(get.json.apiVersion, 'meta.k8s.io/v1');
    assert.equal(get.json.metadata.name, 'rs1');
    assert.equal(get.json.spec, undefined);
    const list = await request(sim, 'GET', base, undefined, { accept: PARTIAL_LIST });
    assert.equal(list.json.kind, 'PartialObjectMetadataList');
    assert.equal(list.json.apiVersion, 'meta.k8s.io/v1');
    assert.equal(list.json.items[0].kind, 'PartialObjectMetadata');
    assert.deepEqual(list.json.items[0].metadata.labels, { a: 'b' });
    const w = await watch(sim, `${base}?watch=true&resourceVersion=${sim.resourceVersion()}`, { accept: PARTIAL });
    await sim.store.patch(`${base}/rs1`, { spec: { replicas: 3 } });
    await w.waitFrames(1);
    assert.equal(w.frames[0].object.kind, 'PartialObjectMetadata');
    assert.equal(w.frames[0].object.spec, undefined);
    assert.equal(w.frames[0].object.metadata.generation, 2);
    w.close();
    const full = await request(sim, 'GET', `${base}/rs1`);
    assert.equal(full.json.kind, 'ReplicaSet');
  });

  test('list - Table rendering for events (kubectl get): printEvent columns and cells', async () => {
    const ns = rand('ns');
    await sim.store.create(
      `/api/v1/namespaces/${ns}/events`,
      coreEvent(ns, 'web.1', {
        count: 7,
        involvedObject: { kind: 'Pod', name: 'web', namespace: ns, fieldPath: 'spec.containers{app}' },
      }),
    );
    const accept =
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const r = await request(sim, 'GET', `/api/v1/namespaces/${ns}/events`, undefined, { accept });
    assert.equal(r.json.kind, 'Table');
    assert.equal(r.json.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(
      r.json.columnDefinitions.map((c: { name: string }) => c.name),
      ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
    );
    const cells = r.json.rows[0].cells;
    assert.deepEqual(cells.slice(1, 7), [
      'Warning',
      'BackOff',
      'pod/web',
      'spec.containers{app}',
      'kubelet, node-1',
      'Back-off restarting failed container',
    ]);
    assert.equal(cells[8], 7);
    assert.equal(r.json.rows[0].object.kind, 'PartialObjectMetadata');
    const pods = await request(sim, 'GET', `/api/v1/namespaces/${ns}/pods`, undefined, { accept });
    assert.equal(pods.json.kind, 'PodList', 'other kinds fall back to JSON');
  });
});
