// The root README's install steps are the ones rendered here, and its RBAC table is generated from the manifests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { find, helmTemplate, type K8sObject, podSpec, ROOT } from './helm.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function block(marker: string): string {
  const m = README.match(new RegExp(`<!-- ${marker} -->\\n([\\s\\S]*?)<!-- /${marker} -->`));
  if (!m) throw new Error(`README.md has no <!-- ${marker} --> block`);
  return m[1] as string;
}

/** Shell words of a README command line (no quoting beyond plain double quotes). */
function words(line: string): string[] {
  return (line.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"|"$/g, ''));
}

/** `helm install NAME CHART -n NS [--create-namespace] ARGS` -> helm template arguments. */
function installToTemplate(line: string): { release: string; namespace: string; args: string[] } {
  const w = words(line);
  assert.deepEqual(w.slice(0, 2), ['helm', 'install'], line);
  const release = w[2] as string;
  assert.equal(w[3], 'deploy/helm/kec', 'installs the chart of this repository');
  const args: string[] = [];
  let namespace = 'default';
  for (let i = 4; i < w.length; i++) {
    const a = w[i] as string;
    if (a === '-n' || a === '--namespace') namespace = w[++i] as string;
    else if (a === '--create-namespace') continue;
    else args.push(a);
  }
  return { release, namespace, args };
}

function commandsOf(marker: string): string[] {
  const text = block(marker);
  const code = text.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '';
  return code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The RBAC table: one row per ServiceAccount that any (Cluster)RoleBinding binds, then every other kec pod. */
export function rbacTable(objects: readonly K8sObject[]): string {
  const rows: string[] = [
    '| service | scope | API group | resources | verbs | resource names |',
    '|---|---|---|---|---|---|',
  ];
  const workloads = objects.filter((o) => o.kind === 'Deployment' && podSpec(o)?.containers[0]?.args?.[0] === 'run');
  for (const w of workloads) {
    const spec = podSpec(w)!;
    const service = (spec.containers[0].args as string[]).slice(1).join(' ');
    const bindings = objects.filter(
      (b) =>
        (b.kind === 'RoleBinding' || b.kind === 'ClusterRoleBinding') &&
        b.subjects.some((s: { name: string }) => s.name === spec.serviceAccountName),
    );
    if (bindings.length === 0) {
      rows.push(`| ${service} | none: no service-account token mounted | | | | |`);
      continue;
    }
    for (const b of bindings) {
      const role = find(objects, b.roleRef.kind, b.roleRef.name);
      const scope = b.kind === 'ClusterRoleBinding' ? 'cluster' : 'release namespace';
      for (const r of role.rules) {
        const groups = (r.apiGroups as string[]).map((g) => (g === '' ? 'core' : g)).join(', ');
        rows.push(
          `| ${service} | ${scope} | ${groups} | ${r.resources.join(', ')} | ${r.verbs.join(', ')} | ${(r.resourceNames ?? []).join(', ') || 'any'} |`,
        );
      }
    }
  }
  return `${rows.join('\n')}\n`;
}

describe('README', () => {
  test('readme - the single-node install commands render, and what they name exists', () => {
    const cmds = commandsOf('install-single-node');
    assert.equal(cmds.length, 3, 'three commands');
    const { release, namespace, args } = installToTemplate(cmds[0] as string);
    const { objects } = helmTemplate(args, release, namespace);
    for (const c of cmds.slice(1)) {
      const ref = c.match(/(deployment|deploy|svc|service)\/([-a-z0-9]+)/);
      if (!ref) continue;
      const kind = ref[1]?.startsWith('d') ? 'Deployment' : 'Service';
      find(objects, kind, ref[2] as string);
      assert.match(c, new RegExp(`-n ${namespace}\\b`), `${c} uses the release namespace`);
    }
  });

  test('readme - the scaled install commands render, and what they name exists', () => {
    const cmds = commandsOf('install-scaled');
    assert.equal(cmds.length, 3, 'three commands');
    const install = cmds.find((c) => c.startsWith('helm install')) as string;
    const { release, namespace, args } = installToTemplate(install);
    const { objects } = helmTemplate(args, release, namespace);
    // The Secrets the chart reads are the ones the first command creates.
    const created = [...(cmds[0] as string).matchAll(/create secret generic ([-a-z0-9]+)/g)].map((m) => m[1]);
    const referenced = new Set<string>();
    for (const o of objects) {
      const spec = podSpec(o);
      for (const c of spec?.containers ?? [])
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) referenced.add(e.valueFrom.secretKeyRef.name);
    }
    assert.deepEqual([...referenced].sort(), [...created].sort());
    const forward = cmds.find((c) => c.includes('port-forward')) as string;
    const svc = forward.match(/svc\/([-a-z0-9]+)/)?.[1] as string;
    find(objects, 'Service', svc);
  });

  test('readme - the RBAC table is the one the manifests give', () => {
    const scaled = helmTemplate([
      '--set',
      'profile=scaled',
      '--set',
      'clickhouse.authSecret=x',
      '--set',
      'grafana.enabled=false',
    ]);
    const single = helmTemplate([]);
    const want = `${rbacTable(scaled.objects)}\nsingle-node (\`kec run all\`):\n\n${rbacTable(single.objects)}`;
    assert.equal(block('rbac-table').trim(), want.trim(), `README.md's rbac-table block should read:\n${want}`);
  });
});
