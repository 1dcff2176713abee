// Checks on rendered manifests: Kubernetes OpenAPI schemas (kubernetes-models, generated from the Kubernetes 1.34
// OpenAPI) and the chart's policy (hardening, probes on served ports, limits, pinned images, RBAC).
import type { K8sObject } from './helm.ts';
import { podSpec } from './helm.ts';

type Validatable = { validate(): void };
type ModelClass = new (data: unknown) => Validatable;

/** Validates one object with the model class of its apiVersion and kind; returns the error text or undefined. */
export async function schemaProblem(o: K8sObject): Promise<string | undefined> {
  const spec = o.apiVersion.includes('/') ? o.apiVersion : `core/${o.apiVersion}`;
  const [group, version] = spec.split('/') as [string, string];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : group === 'core'
        ? `kubernetes-models/${version}`
        : `kubernetes-models/${group}/${version}`;
  let mod: Record<string, ModelClass>;
  try {
    mod = (await import(module)) as Record<string, ModelClass>;
  } catch {
    return `${o.kind}/${o.metadata.name}: no schema for apiVersion ${o.apiVersion}`;
  }
  const Cls = mod[o.kind];
  if (!Cls) return `${o.kind}/${o.metadata.name}: no schema for kind ${o.kind} in ${o.apiVersion}`;
  try {
    new Cls(o).validate();
    return undefined;
  } catch (err) {
    return `${o.kind}/${o.metadata.name}: ${(err as Error).message}`;
  }
}

/** Components whose pods call the Kubernetes API (and so get a service-account token). */
export const API_CALLERS = new Set(['watcher', 'enricher', 'all']);

const PINNED_TAG = /^[\w][\w.-]*[0-9][\w.-]*$/;
const FLOATING = /^(latest|main|master|stable|edge|nightly)$/;

export function imageProblem(image: string): string | undefined {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon <= slash) return `image ${image} has no tag`;
  const tag = image.slice(colon + 1);
  if (FLOATING.test(tag) || !PINNED_TAG.test(tag)) return `image ${image} is not pinned to a version`;
  return undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: manifests
type Any = Record<string, any>;

function portNumber(c: Any, port: string | number): number | undefined {
  return (c.ports ?? []).find((p: Any) => (typeof port === 'number' ? p.containerPort === port : p.name === port))
    ?.containerPort;
}

export function policyProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const byKind = (k: string) => objects.filter((o) => o.kind === k);
  const workloads = objects.filter((o) => podSpec(o));
  for (const w of workloads) {
    const id = `${w.kind}/${w.metadata.name}`;
    const spec = podSpec(w) as Any;
    const component = w.spec.template.metadata?.labels?.['app.kubernetes.io/component'];
    const psc = spec.securityContext ?? {};
    if (psc.runAsNonRoot !== true) problems.push(`${id}: pod runAsNonRoot is not true`);
    if (!(psc.runAsUser > 0)) problems.push(`${id}: pod runAsUser is not a non-zero uid`);
    if (psc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${id}: pod seccomp is not RuntimeDefault`);
    const wantToken = API_CALLERS.has(component);
    if (spec.automountServiceAccountToken !== wantToken)
      problems.push(`${id}: automountServiceAccountToken is ${spec.automountServiceAccountToken}, want ${wantToken}`);
    // Every workload has a PodDisruptionBudget selecting its pods.
    const labels = w.spec.template.metadata?.labels ?? {};
    const pdb = byKind('PodDisruptionBudget').find((p) =>
      Object.entries(p.spec.selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
    );
    if (!pdb) problems.push(`${id}: no PodDisruptionBudget selects its pods`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers] as Any[]) {
      const cid = `${id} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${cid}: root filesystem is not read-only`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${cid}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) problems.push(`${cid}: privileged`);
      if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push(`${cid}: capabilities do not drop ALL`);
      if (sc.capabilities?.add?.length) problems.push(`${cid}: adds capabilities`);
      if (sc.runAsUser === 0) problems.push(`${cid}: runs as root`);
      for (const r of ['cpu', 'memory']) {
        if (!c.resources?.limits?.[r]) problems.push(`${cid}: no ${r} limit`);
        if (!c.resources?.requests?.[r]) problems.push(`${cid}: no ${r} request`);
      }
      const img = imageProblem(c.image);
      if (img) problems.push(`${cid}: ${img}`);
      for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
        const p = c[probe];
        if (!p) {
          problems.push(`${cid}: no ${probe}`);
          continue;
        }
        const port = p.httpGet?.port ?? p.tcpSocket?.port;
        if (port !== undefined && portNumber(c, port) === undefined)
          problems.push(`${cid}: ${probe} port ${port} is not a port of the container`);
      }
      // kec containers: /healthz and /readyz on the port KEC_METRICS_PORT tells the process to serve.
      if (c.args?.[0] === 'run') {
        const metricsPort = Number((c.env as Any[]).find((e) => e.name === 'KEC_METRICS_PORT')?.value);
        if (c.livenessProbe?.httpGet?.path !== '/healthz') problems.push(`${cid}: liveness is not GET /healthz`);
        if (c.readinessProbe?.httpGet?.path !== '/readyz') problems.push(`${cid}: readiness is not GET /readyz`);
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          const port = c[probe]?.httpGet?.port;
          if (port !== undefined && portNumber(c, port) !== metricsPort)
            problems.push(`${cid}: ${probe} port ${port} is not KEC_METRICS_PORT ${metricsPort}`);
        }
      }
    }
    // The service account named by the pod exists (or the pod uses none of its own).
    if (spec.serviceAccountName) {
      const sa = byKind('ServiceAccount').find((s) => s.metadata.name === spec.serviceAccountName);
      if (!sa) problems.push(`${id}: service account ${spec.serviceAccountName} is not rendered`);
      else if (sa.automountServiceAccountToken !== wantToken)
        problems.push(`${id}: its ServiceAccount automounts a token: ${sa.automountServiceAccountToken}`);
    }
  }
  for (const r of [...byKind('Role'), ...byKind('ClusterRole')]) {
    for (const rule of r.rules ?? []) {
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
        if ((rule[field] ?? []).some((x: string) => x.includes('*')))
          problems.push(`${r.kind}/${r.metadata.name}: wildcard in ${field}`);
      }
      if ((rule.resources ?? []).some((x: string) => ['secrets', 'configmaps'].includes(x)))
        problems.push(`${r.kind}/${r.metadata.name}: grants ${rule.resources.join(',')}`);
      if ((rule.nonResourceURLs ?? []).length) problems.push(`${r.kind}/${r.metadata.name}: non-resource URLs`);
    }
  }
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const target = objects.find(
      (o) => o.kind === h.spec.scaleTargetRef.kind && o.metadata.name === h.spec.scaleTargetRef.name,
    );
    if (!target) problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: target not rendered`);
    else if (target.spec.replicas !== undefined)
      problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: its Deployment also sets replicas`);
  }
  return problems;
}
