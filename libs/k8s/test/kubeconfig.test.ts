import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inClusterAuth, type KubeAuth, KubeClient, loadKubeAuth } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kec-k8s-kc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(
  user: string,
  cluster = 'server: https://127.0.0.1:6443\n      certificate-authority: ca.crt',
): string {
  const p = join(dir, `kc-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    p,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    ${cluster.replace(/\n {6}/g, '\n    ')}
users:
- name: u
  user:
    ${user.replace(/\n {6}/g, '\n    ')}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
  );
  return p;
}

test('kubeconfig - token file, CA relative to the kubeconfig, without loading client-node', async () => {
  writeFileSync(join(dir, 'ca.crt'), 'CA-PEM');
  writeFileSync(join(dir, 'token'), 'tok-1\n');
  const auth = loadKubeAuth({ kubeconfigPath: kubeconfig('tokenFile: token') }) as KubeAuth;
  assert.equal(auth.kind, 'kec-auth');
  assert.equal(auth.server, 'https://127.0.0.1:6443');
  assert.deepEqual(await auth.headers(), { Authorization: 'Bearer tok-1' });
  assert.equal((await auth.tls()).ca?.toString(), 'CA-PEM');
});

test('kubeconfig - client certificate data and insecure-skip-tls-verify over http', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const p = kubeconfig(
    `client-certificate-data: ${b64('CERT')}\n      client-key-data: ${b64('KEY')}`,
    'server: http://127.0.0.1:8080\n      insecure-skip-tls-verify: true',
  );
  const auth = loadKubeAuth({ kubeconfigPath: p }) as KubeAuth;
  const tls = await auth.tls();
  assert.equal(tls.cert?.toString(), 'CERT');
  assert.equal(tls.key?.toString(), 'KEY');
  assert.equal(tls.rejectUnauthorized, false);
  assert.deepEqual(await auth.headers(), {});
  const c = new KubeClient(auth);
  assert.equal(c.authSource, `kubeconfig ${p}`);
  c.close();
});

test('kubeconfig - plain http without skip-verify is refused, like client-node', () => {
  const p = kubeconfig('token: t', 'server: http://127.0.0.1:8080');
  assert.throws(() => KubeClient.load({ kubeconfigPath: p }), /HTTP protocol is not allowed/);
});

test('kubeconfig - exec users fall back to client-node', () => {
  const p = kubeconfig('exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}');
  const c = KubeClient.load({ kubeconfigPath: p });
  assert.equal(c.authSource, 'client-node');
  c.close();
});

test('kubeconfig - in-cluster: service host/port, CA and a token file re-read from the service account dir', async () => {
  const sa = mkdtempSync(join(dir, 'sa-'));
  writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
  writeFileSync(join(sa, 'token'), 'sa-token');
  const auth = inClusterAuth({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  assert.equal(auth.server, 'https://[fd00::1]:443');
  assert.deepEqual(await auth.headers(), { Authorization: 'Bearer sa-token' });
  assert.equal((await auth.tls()).ca?.toString(), 'SA-CA');
  assert.throws(() => inClusterAuth({}, sa), /not in a cluster/);
});
