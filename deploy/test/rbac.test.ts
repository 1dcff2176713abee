// Least-privilege RBAC proven against the code: the services that call the Kubernetes API (the watcher; the
// enricher's filler and its cache-miss fetcher) run as `kec run <service>` processes with the environment the chart
// renders for them, against kube-sim. kube-sim logs every API request (verb, resource, path). The test asserts that
// the Roles and ClusterRoles the chart binds to each service's ServiceAccount allow every request it made (RBAC
// semantics: ClusterRoleBinding cluster-wide, RoleBinding in its namespace, resourceNames) and that every verb and
// resource they grant was used: no more, no less. It also reads /healthz and /readyz on the port the rendered
// KEC_METRICS_PORT names, the probes' targets.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyCluster, KubeClient, type KubeSim, planCluster, startKubeSim, UidMap } from '@kec/kube-sim';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { find, freePort, helmTemplate, type K8sObject, podSpec, ROOT } from './helm.ts';

const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.KEC_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NS = 'kec-rbac';
const STREAM_BYTES = 32 * 1024 * 1024;

interface Call {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

/** An API path as kube-sim logged it -> group, resource, namespace, name. */
export function parseCall(verb: string, path: string): Call {
  const parts = path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api') {
    group = '';
    rest = parts.slice(2);
  } else {
    group = parts[1]!;
    rest = parts.slice(3);
  }
  if (rest[0] === 'watch') rest = rest.slice(1);
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  return { verb, group, resource: rest[0]!, namespace, name: rest[1] ?? '' };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Grant {
  rule: Rule;
  /** undefined: cluster-wide (ClusterRoleBinding); else the RoleBinding's namespace. */
  namespace: string | undefined;
  role: string;
}

/** The rules bound to a ServiceAccount by the rendered (Cluster)RoleBindings. */
function grantsOf(objects: readonly K8sObject[], sa: string, ns: string): Grant[] {
  const grants: Grant[] = [];
  for (const b of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const bound = (b.subjects ?? []).some(
      (s: { kind: string; name: string; namespace: string }) =>
        s.kind === 'ServiceAccount' && s.name === sa && s.namespace === ns,
    );
    if (!bound) continue;
    const role = find(objects, b.roleRef.kind, b.roleRef.name);
    const namespace = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
    for (const rule of role.rules as Rule[])
      grants.push({ rule, namespace, role: `${role.kind}/${role.metadata.name}` });
  }
  return grants;
}

/** Kubernetes RBAC: does a grant allow this request? */
function allows(g: Grant, c: Call): boolean {
  if (g.namespace !== undefined && g.namespace !== c.namespace) return false;
  const r = g.rule;
  if (!r.apiGroups.includes(c.group) || !r.resources.includes(c.resource) || !r.verbs.includes(c.verb)) return false;
  // resourceNames restrict requests that name one object; create, list and watch of a collection carry no name.
  if (r.resourceNames && r.resourceNames.length > 0) return c.name !== '' && r.resourceNames.includes(c.name);
  return true;
}

function grantTuples(g: Grant): string[] {
  const out: string[] = [];
  for (const group of g.rule.apiGroups)
    for (const resource of g.rule.resources)
      for (const verb of g.rule.verbs) out.push(`${g.role}: ${verb} ${resource}${group ? `.${group}` : ''}`);
  return out;
}

/** Every request allowed, and every granted (verb, resource) of every rule used by some request. */
function checkExactly(grants: Grant[], calls: Call[]): { denied: string[]; unused: string[] } {
  const denied = calls
    .filter((c) => !grants.some((g) => allows(g, c)))
    .map((c) => `${c.verb} ${c.resource}${c.group ? `.${c.group}` : ''} ns=${c.namespace} name=${c.name}`);
  const unused: string[] = [];
  for (const g of grants) {
    for (const group of g.rule.apiGroups)
      for (const resource of g.rule.resources)
        for (const verb of g.rule.verbs) {
          const probe = (c: Call) => c.group === group && c.resource === resource && c.verb === verb && allows(g, c);
          if (!calls.some(probe)) unused.push(`${g.role}: ${verb} ${resource}${group ? `.${group}` : ''}`);
        }
  }
  return { denied: [...new Set(denied)], unused };
}

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  port: number;
  stop: () => Promise<number | null>;
}

/** `kec run <service>` with the env the chart renders for a Deployment, pointed at kube-sim and test streams. */
async function runAsRendered(
  deployment: K8sObject,
  configYaml: string,
  overrides: Record<string, string>,
  dir: string,
): Promise<Proc> {
  const c = podSpec(deployment)!.containers[0];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const e of c.env as { name: string; value?: string }[]) if (e.value !== undefined) env[e.name] = e.value;
  const configFile = join(dir, `${deployment.metadata.name}.yaml`);
  writeFileSync(configFile, configYaml);
  const port = await freePort();
  Object.assign(env, {
    POD_NAMESPACE: NS,
    POD_NAME: `${deployment.metadata.name}-0`,
    KEC_CONFIG_FILE: configFile,
    KEC_DATA_DIR: join(dir, 'data'),
    KEC_METRICS_PORT: String(port),
    ...overrides,
  });
  const child = spawn(process.execPath, [join(ROOT, 'services/cli/src/main.ts'), ...(c.args as string[])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    port,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return await exited;
    },
  };
}

async function probe(port: number, path: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  await r.arrayBuffer();
  return r.status;
}

describe('RBAC versus the calls the services make', () => {
  let sim: KubeSim;
  let nc: NatsConnection;
  let dir: string;
  const id = randomBytes(4).toString('hex');
  const root = `t${id}`;
  const prefix = `T${id}_`;
  const prefixes = [prefix];
  const SCALED = ['--set', 'profile=scaled', '--set', 'clickhouse.authSecret=ch', '--set', 'grafana.enabled=false'];
  const rendered = helmTemplate(SCALED, 'kec', NS);
  const configYaml = find(rendered.objects, 'ConfigMap', 'kec-config').data['config.yaml'] as string;
  const kinds: { kind: string; apiVersion: string; path: string }[] = [
    { kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces' },
    { kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes' },
    { kind: 'Pod', apiVersion: 'v1', path: '/api/v1/pods' },
    { kind: 'Service', apiVersion: 'v1', path: '/api/v1/services' },
    { kind: 'PersistentVolumeClaim', apiVersion: 'v1', path: '/api/v1/persistentvolumeclaims' },
    { kind: 'Deployment', apiVersion: 'apps/v1', path: '/apis/apps/v1/deployments' },
    { kind: 'ReplicaSet', apiVersion: 'apps/v1', path: '/apis/apps/v1/replicasets' },
    { kind: 'StatefulSet', apiVersion: 'apps/v1', path: '/apis/apps/v1/statefulsets' },
    { kind: 'DaemonSet', apiVersion: 'apps/v1', path: '/apis/apps/v1/daemonsets' },
    { kind: 'Job', apiVersion: 'batch/v1', path: '/apis/batch/v1/jobs' },
    { kind: 'CronJob', apiVersion: 'batch/v1', path: '/apis/batch/v1/cronjobs' },
  ];
  let events = 0;

  const shared = (): Record<string, string> => ({
    KEC_NATS_URL: NATS_URL,
    // The chart renders R3 for its 3-node NATS; the test's NATS is one node.
    KEC_STREAM_REPLICAS: '1',
    KEC_REDIS_URL: REDIS_URL,
    KEC_LOG_LEVEL: 'warn',
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kec-rbac-'));
    sim = await startKubeSim({ port: 0 });
    const client = new KubeClient({ url: sim.url, token: sim.token });
    try {
      await applyCluster(client, planCluster(3, { nodes: 2 }), new UidMap());
    } finally {
      client.close();
    }
    await sim.store.create('/api/v1/namespaces', { metadata: { name: NS } });
    // One Event about an object of every kind the enricher caches.
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const k of kinds) {
      const list = (await sim.store.list(k.path)) as {
        items: { metadata: { name: string; namespace?: string; uid: string } }[];
      };
      const o = list.items[0];
      assert.ok(o, `kube-sim's cluster has a ${k.kind}`);
      const ns = o.metadata.namespace ?? 'default';
      await sim.store.create(`/api/v1/namespaces/${ns}/events`, {
        metadata: { name: `rbac-${k.kind.toLowerCase()}.${id}`, namespace: ns },
        involvedObject: {
          kind: k.kind,
          apiVersion: k.apiVersion,
          name: o.metadata.name,
          namespace: o.metadata.namespace,
          uid: o.metadata.uid,
        },
        reason: 'RbacProbe',
        message: `probe for ${k.kind}`,
        type: 'Normal',
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'rbac-test' },
      });
      events++;
    }
    nc = await connect({ servers: NATS_URL });
  });

  after(async () => {
    if (nc) {
      const jsm = await jetstreamManager(nc);
      for (const p of prefixes)
        for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_GAPS', 'KEC_DLQ'])
          await jsm.streams.delete(`${p}${s}`).catch(() => false);
      for (const p of prefixes) await jsm.streams.delete(`KV_kecrbac_${p}`).catch(() => false);
      await nc.close();
    }
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Requests logged at or after a simulator time (the log keeps the last 2000; these runs stay far below). */
  const callsSince = (from: number): Call[] => {
    const log = sim.requestLog();
    assert.ok(log.length < 2000, 'kube-sim request log did not overflow');
    return log.filter((e) => e.at >= from).map((e) => parseCall(e.verb, e.path));
  };

  const watcherEnv = (p: string) => ({
    ...shared(),
    KEC_WATCHER_KUBECONFIG: sim.kubeconfigPath,
    KEC_WATCHER_SUBJECT_ROOT: p === prefix ? root : `${root}e`,
    KEC_WATCHER_STREAM_PREFIX: p,
    KEC_WATCHER_STREAM_MAX_BYTES: String(STREAM_BYTES),
    KEC_WATCHER_KV_BUCKET: `kecrbac_${p}`,
    // Short lease timings so a renewal (update) happens within the test; the calls are the same.
    KEC_WATCHER_RETRY_PERIOD_MS: '300',
    KEC_WATCHER_RENEW_DEADLINE_MS: '1000',
    KEC_WATCHER_LEASE_DURATION_MS: '2000',
  });

  for (const api of ['core/v1', 'events.k8s.io/v1']) {
    test(`rbac - the watcher (${api}): list/watch events and its Lease, exactly what its roles grant`, async () => {
      // core/v1 fills the KEC_RAW the enricher test reads; events.k8s.io/v1 writes its own streams.
      const p = api === 'core/v1' ? prefix : `E${id}_`;
      if (p !== prefix) prefixes.push(p);
      const objects =
        api === 'core/v1'
          ? rendered.objects
          : helmTemplate(
              [...SCALED, '--set', `watcher.api=${api}`, '--set', 'watcher.leaseName=kec-watcher-e'],
              'kec',
              NS,
            ).objects;
      const from = sim.clock.now();
      const w = await runAsRendered(find(objects, 'Deployment', 'kec-watcher'), configYaml, watcherEnv(p), dir);
      try {
        await waitFor('the watcher publishing every event', async () => {
          const jsm = await jetstreamManager(nc);
          const info = await jsm.streams.info(`${p}KEC_RAW`).catch(() => undefined);
          return (info?.state.messages ?? 0) >= events;
        });
        await waitFor('a watch on events and a lease renewal', () => {
          const calls = callsSince(from);
          return (
            calls.some((c) => c.verb === 'watch' && c.resource === 'events') &&
            calls.some((c) => c.verb === 'update' && c.resource === 'leases')
          );
        });
        // The probes' targets answer on the port the rendered KEC_METRICS_PORT names.
        assert.equal(await probe(w.port, '/healthz'), 200);
        assert.equal(await waitFor('/readyz 200', async () => (await probe(w.port, '/readyz')) === 200), true);
      } finally {
        assert.equal(await w.stop(), 0, w.output());
      }
      const calls = callsSince(from);
      const group = api === 'core/v1' ? '' : 'events.k8s.io';
      assert.ok(
        calls.some((c) => c.resource === 'events' && c.group === group),
        `the watcher read ${api}`,
      );
      const { denied, unused } = checkExactly(grantsOf(objects, 'kec-watcher', NS), calls);
      assert.deepEqual(denied, [], 'requests the watcher made that its RBAC does not allow');
      assert.deepEqual(unused, [], 'granted verbs the watcher never used');
    });
  }

  test('rbac - the enricher: informers (list/watch), cache-miss GETs and its Lease, exactly its grants', async () => {
    const deployment = find(rendered.objects, 'Deployment', 'kec-enricher');
    const jsm = await jetstreamManager(nc);
    const base = {
      ...shared(),
      KEC_ENRICHER_KUBECONFIG: sim.kubeconfigPath,
      KEC_ENRICHER_SUBJECT_ROOT: root,
      KEC_ENRICHER_STREAM_PREFIX: prefix,
      KEC_ENRICHER_STREAM_MAX_BYTES: String(STREAM_BYTES),
      KEC_ENRICHER_RETRY_PERIOD_MS: '300',
      KEC_ENRICHER_RENEW_DEADLINE_MS: '1000',
      KEC_ENRICHER_LEASE_DURATION_MS: '2000',
    };
    const drained = (durable: string) => async () => {
      const ci = await jsm.consumers.info(`${prefix}KEC_RAW`, durable).catch(() => undefined);
      return (
        ci !== undefined && ci.num_pending === 0 && ci.num_ack_pending === 0 && ci.delivered.consumer_seq >= events
      );
    };
    const from = sim.clock.now();
    // The elected filler: one list+watch informer per cached kind, and the Lease.
    const filler = await runAsRendered(
      deployment,
      configYaml,
      { ...base, KEC_ENRICHER_REDIS_PREFIX: `t${id}f:`, KEC_ENRICHER_DURABLE: `filler_${id}` },
      dir,
    );
    try {
      await waitFor('the filler enriching every event', drained(`filler_${id}`));
      await waitFor('a lease renewal and a watch per kind', () => {
        const calls = callsSince(from);
        return (
          calls.some((c) => c.verb === 'update' && c.resource === 'leases') &&
          kinds.every((k) => calls.some((c) => c.verb === 'watch' && c.resource === k.path.split('/').pop()))
        );
      });
      assert.equal(await waitFor('/readyz 200', async () => (await probe(filler.port, '/readyz')) === 200), true);
      assert.equal(await probe(filler.port, '/healthz'), 200);
    } finally {
      assert.equal(await filler.stop(), 0, filler.output());
    }
    // A replica that is not the filler, with a cold cache: every object is a miss and costs a GET.
    const fetcher = await runAsRendered(
      deployment,
      configYaml,
      {
        ...base,
        KEC_ENRICHER_FILLER: 'false',
        KEC_ENRICHER_STARTUP_SYNC_WAIT_MS: '0',
        KEC_ENRICHER_COVER_WAIT_MS: '0',
        KEC_ENRICHER_GET_QPS: '1000',
        KEC_ENRICHER_GET_BURST: '1000',
        KEC_ENRICHER_REDIS_PREFIX: `t${id}g:`,
        KEC_ENRICHER_DURABLE: `fetcher_${id}`,
      },
      dir,
    );
    try {
      await waitFor('the fetcher enriching every event', drained(`fetcher_${id}`));
    } finally {
      assert.equal(await fetcher.stop(), 0, fetcher.output());
    }
    const calls = callsSince(from);
    for (const k of kinds) {
      const resource = k.path.split('/').pop();
      assert.ok(
        calls.some((c) => c.verb === 'get' && c.resource === resource),
        `a cache miss on a ${k.kind} was fetched`,
      );
    }
    const { denied, unused } = checkExactly(grantsOf(rendered.objects, 'kec-enricher', NS), calls);
    assert.deepEqual(denied, [], 'requests the enricher made that its RBAC does not allow');
    assert.deepEqual(unused, [], 'granted verbs the enricher never used');
  });

  test('rbac - single-node: `kec run all` holds exactly the watcher and enricher grants; no other pod has a token', () => {
    const single = helmTemplate([], 'kec', NS).objects;
    const all = grantsOf(single, 'kec-all', NS)
      .flatMap(grantTuples)
      .map((t) => t.replace(/^[^:]+: /, ''));
    const scaled = [...grantsOf(rendered.objects, 'kec-watcher', NS), ...grantsOf(rendered.objects, 'kec-enricher', NS)]
      .flatMap(grantTuples)
      .map((t) => t.replace(/^[^:]+: /, ''));
    assert.deepEqual([...new Set(all)].sort(), [...new Set(scaled)].sort());
    for (const sa of ['kec-correlator', 'kec-writer', 'kec-alerter', 'kec-api'])
      assert.deepEqual(grantsOf(rendered.objects, sa, NS), [], `${sa} has no RBAC`);
  });

  test('rbac - the checker itself refuses a call outside the grants and a grant never used', () => {
    const grants: Grant[] = [
      {
        rule: { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch', 'get'] },
        namespace: undefined,
        role: 'r',
      },
      {
        rule: { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['update'], resourceNames: ['l'] },
        namespace: 'ns',
        role: 'l',
      },
    ];
    const calls = [
      parseCall('list', '/api/v1/events?limit=500'),
      parseCall('watch', '/api/v1/events?watch=true'),
      parseCall('update', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l'),
      parseCall('update', '/apis/coordination.k8s.io/v1/namespaces/other/leases/l'),
      parseCall('get', '/api/v1/namespaces/a/secrets/s'),
    ];
    const r = checkExactly(grants, calls);
    assert.deepEqual(r.denied, ['update leases.coordination.k8s.io ns=other name=l', 'get secrets ns=a name=s']);
    assert.deepEqual(r.unused, ['r: get events']);
  });
});
