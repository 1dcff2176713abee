// deploy/helm/kec: helm lint, helm template for both profiles and a set of value combinations, every rendered object
// against the Kubernetes OpenAPI schemas (kubernetes-models), the chart's policy, and values.schema.json rejecting
// typos.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMBINATIONS, find, helmLint, helmTemplate, helmTemplateError, podSpec } from './helm.ts';
import { imageProblem, policyProblems, schemaProblem } from './policy.ts';

describe('helm chart', () => {
  test('chart - helm lint --strict passes for both profiles', () => {
    helmLint([]);
    helmLint(COMBINATIONS['scaled'] as string[]);
  });

  for (const [name, args] of Object.entries(COMBINATIONS)) {
    test(`chart - ${name}: every object validates against the Kubernetes schemas and the policy holds`, async () => {
      const { objects } = helmTemplate(args);
      assert.ok(objects.length > 5, 'renders objects');
      const problems: string[] = [];
      for (const o of objects) {
        const p = await schemaProblem(o);
        if (p) problems.push(p);
      }
      problems.push(...policyProblems(objects));
      assert.deepEqual(problems, []);
      const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      assert.equal(new Set(names).size, names.length, 'no object rendered twice');
    });
  }

  test('chart - single-node: one `kec run all` with its store on a PVC, one NATS node, Redis with AOF', () => {
    const { objects } = helmTemplate([]);
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    assert.deepEqual(
      deployments.map((d) => d.metadata.name),
      ['kec-all'],
    );
    const all = podSpec(find(objects, 'Deployment', 'kec-all'))!;
    assert.deepEqual(all.containers[0].args, ['run', 'all']);
    assert.equal(find(objects, 'Deployment', 'kec-all').spec.strategy.type, 'Recreate', 'one store holder at a time');
    assert.ok(all.volumes.some((v: { persistentVolumeClaim?: { claimName: string } }) => v.persistentVolumeClaim));
    const env = Object.fromEntries(
      all.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    assert.equal(env.KEC_CLICKHOUSE_URL, undefined, 'embedded store');
    assert.equal(env.KEC_NATS_URL, 'nats://kec-nats-0.kec-nats-headless.kec.svc:4222');
    assert.equal(find(objects, 'StatefulSet', 'kec-nats').spec.replicas, 1);
    const redisArgs = podSpec(find(objects, 'StatefulSet', 'kec-redis'))!.containers[0].args.join(' ');
    assert.match(redisArgs, /--appendonly yes/);
    assert.equal(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').length, 0);
    assert.ok(!objects.some((o) => o.metadata.name.includes('grafana')), 'no Grafana without a ClickHouse server');
  });

  test('chart - scaled: a Deployment per stage, 3-node NATS cluster, ClickHouse, Grafana, HPAs', () => {
    const { objects } = helmTemplate(COMBINATIONS['scaled'] as string[]);
    const deployments = objects
      .filter((o) => o.kind === 'Deployment')
      .map((d) => d.metadata.name)
      .sort();
    assert.deepEqual(deployments, [
      'kec-alerter',
      'kec-api',
      'kec-correlator',
      'kec-enricher',
      'kec-grafana',
      'kec-watcher',
      'kec-writer',
    ]);
    assert.equal(find(objects, 'Deployment', 'kec-watcher').spec.replicas, 2);
    assert.deepEqual(podSpec(find(objects, 'Deployment', 'kec-writer'))!.containers[0].args, ['run', 'writer']);
    const nats = find(objects, 'StatefulSet', 'kec-nats');
    assert.equal(nats.spec.replicas, 3);
    const conf = find(objects, 'ConfigMap', 'kec-nats').data['nats.conf'] as string;
    assert.match(conf, /cluster \{/);
    assert.equal((conf.match(/nats:\/\/kec-nats-\d\.kec-nats-headless\.kec\.svc:6222/g) ?? []).length, 3);
    find(objects, 'StatefulSet', 'kec-clickhouse');
    const hpas = objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((h) => h.metadata.name)
      .sort();
    assert.deepEqual(hpas, ['kec-api', 'kec-correlator', 'kec-enricher', 'kec-writer']);
    const writerEnv = podSpec(find(objects, 'Deployment', 'kec-writer'))!.containers[0].env as { name: string }[];
    const names = writerEnv.map((e) => e.name);
    assert.ok(
      names.indexOf('CLICKHOUSE_PASSWORD') < names.indexOf('KEC_CLICKHOUSE_URL'),
      'the password is defined before the URL that expands it',
    );
    const natsUrl = (writerEnv as { name: string; value?: string }[]).find((e) => e.name === 'KEC_NATS_URL')?.value;
    assert.equal(natsUrl?.split(',').length, 3, 'kec knows every NATS node');
    find(objects, 'ConfigMap', 'kec-grafana-provisioning');
  });

  test('chart - values.schema.json rejects typos and bad values', () => {
    assert.match(helmTemplateError(['--set', 'watcher.replica=3']), /additional properties 'replica' not allowed/);
    assert.match(helmTemplateError(['--set', 'profil=scaled']), /additional properties 'profil' not allowed/);
    assert.match(helmTemplateError(['--set', 'profile=huge']), /profile/);
    assert.match(helmTemplateError(['--set', 'image.tag=latest']), /image\/tag/);
    assert.match(helmTemplateError(['--set', 'cluster=Prod_1']), /cluster/);
    assert.match(helmTemplateError(['--set', 'watcher.api=v2']), /watcher\/api/);
    assert.match(helmTemplateError(['--set', 'nats.replicas=2']), /nats\/replicas/);
    assert.match(helmTemplateError(['--set', 'enricher.resources.limits.cpu=lots']), /limits\/cpu/);
    assert.match(
      helmTemplateError(['--set', 'profile=scaled', '--set', 'clickhouse.mode=embedded']),
      /clickhouse\/mode/,
    );
    // Choices that only make sense together fail with a message that says what to set.
    assert.match(helmTemplateError(['--set', 'grafana.enabled=true']), /grafana needs a ClickHouse server/);
    assert.match(helmTemplateError(['--set', 'profile=scaled']), /clickhouse.authSecret is required/);
    assert.match(helmTemplateError(['--set', 'nats.mode=external']), /nats.url or nats.existingSecret/);
  });

  test('policy - the image check accepts versions and digests, refuses floating tags', () => {
    assert.equal(imageProblem('nats:2.10.24-alpine'), undefined);
    assert.equal(imageProblem(`ghcr.io/x/kec@sha256:${'a'.repeat(64)}`), undefined);
    assert.match(imageProblem('nats:latest') ?? '', /not pinned/);
    assert.match(imageProblem('nats') ?? '', /no tag/);
    assert.match(imageProblem('registry:5000/nats') ?? '', /no tag/);
  });

  test('policy - the checks fail on a manifest that breaks them', () => {
    const { objects } = helmTemplate([]);
    const broken = structuredClone(objects);
    const all = podSpec(find(broken, 'Deployment', 'kec-all'))!;
    all.containers[0].securityContext.readOnlyRootFilesystem = false;
    delete all.containers[0].resources.limits;
    all.containers[0].readinessProbe.httpGet.port = 8080;
    podSpec(find(broken, 'StatefulSet', 'kec-redis'))!.automountServiceAccountToken = true;
    find(broken, 'ClusterRole', 'kec-kec-watcher').rules[0].resources = ['*'];
    const problems = policyProblems(broken).join('\n');
    assert.match(problems, /root filesystem is not read-only/);
    assert.match(problems, /no cpu limit/);
    assert.match(problems, /readinessProbe port 8080 is not a port of the container/);
    assert.match(problems, /StatefulSet\/kec-redis: automountServiceAccountToken is true/);
    assert.match(problems, /wildcard in resources/);
  });
});
