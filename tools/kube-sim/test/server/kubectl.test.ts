// kubectl against kube-sim (when kubectl is installed): list, watch, create and delete events, pods and leases.
// kubectl only sends a bearer token over TLS, so the simulator runs with tls: true here.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type KubeSim, startKubeSim } from '../../src/index.ts';
import { coreEvent, rand, waitFor } from './helpers.ts';

const run = promisify(execFile);

function kubectlPath(): string | undefined {
  try {
    return execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

describe('kube-sim kubectl', () => {
  const kubectl = kubectlPath();
  let sim: KubeSim;
  before(async () => {
    sim = await startKubeSim({ tls: true });
  });
  after(async () => {
    await sim.close();
  });
  const k = async (...args: string[]) => {
    const { stdout } = await run(kubectl!, ['--kubeconfig', sim.kubeconfigPath, ...args], { timeout: 20_000 });
    return stdout;
  };

  test('kubectl - create -f, get, get -o json, watch and delete events, pods and leases', async (t) => {
    if (!kubectl) {
      t.diagnostic('kubectl not installed');
      return;
    }
    const ns = rand('ns');
    await sim.store.create('/api/v1/namespaces', { metadata: { name: ns } });
    const file = join(sim.kubeconfigPath, '..', `${ns}.yaml`);
    writeFileSync(
      file,
      `apiVersion: v1
kind: Event
metadata: {name: web.17c8a9f0e3b1d2a4, namespace: ${ns}}
involvedObject: {kind: Pod, name: web, namespace: ${ns}}
reason: BackOff
message: Back-off restarting failed container
type: Warning
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${ns}}
spec:
  containers: [{name: app, image: nginx}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: kec-leader, namespace: ${ns}}
spec: {holderIdentity: me, leaseDurationSeconds: 15}
`,
    );
    const created = await k('create', '-f', file);
    assert.match(created, /event\/web\.17c8a9f0e3b1d2a4 created/);
    assert.match(created, /pod\/web created/);
    assert.match(created, /lease\.coordination\.k8s\.io\/kec-leader created/);
    const got = await k('get', 'events,pods,leases', '-n', ns);
    assert.match(got, /BackOff/);
    assert.match(await k('get', 'events', '-n', ns, '-o', 'name'), /^event\/web\.17c8a9f0e3b1d2a4$/m);
    assert.match(got, /pod\/web/);
    assert.match(got, /kec-leader/);
    const table = await k('get', 'events', '-n', ns);
    assert.match(table, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    assert.match(table, /Warning\s+BackOff\s+pod\/web\s+Back-off restarting failed container/);
    const json = JSON.parse(await k('get', 'events.events.k8s.io', '-n', ns, '-o', 'json'));
    assert.equal(json.items[0].note, 'Back-off restarting failed container');
    // Watch: kubectl prints the initial list, then the change made while it runs.
    const w = spawn(kubectl, [
      '--kubeconfig',
      sim.kubeconfigPath,
      'get',
      'events',
      '-n',
      ns,
      '--watch',
      '-o',
      'name',
      '--request-timeout=10s',
    ]);
    let out = '';
    w.stdout.on('data', (c) => {
      out += c;
    });
    await waitFor(() => out.includes('web.17c8a9f0e3b1d2a4'), 10_000, 'kubectl watch initial list');
    await sim.store.create(`/api/v1/namespaces/${ns}/events`, coreEvent(ns, 'late.1'));
    await waitFor(() => out.includes('late.1'), 10_000, 'kubectl watch change');
    w.kill();
    for (const [kind, name] of [
      ['event', 'web.17c8a9f0e3b1d2a4'],
      ['pod', 'web'],
      ['lease', 'kec-leader'],
    ]) {
      const del = await k('delete', kind!, name!, '-n', ns);
      assert.match(del, /deleted/);
    }
    const left = await k('get', 'pods,leases', '-n', ns, '-o', 'name');
    assert.equal(left.trim(), '');
    const ev = await k('get', 'events', '-A', '--field-selector', `involvedObject.namespace=${ns}`, '-o', 'name');
    assert.equal(ev.trim(), 'event/late.1');
  });
});
