// Every KEC_* variable the chart sets on a kec container is a key of the config schema of a service that container
// runs (or a shared key), and the container's whole environment plus the chart's config.yaml loads with those
// schemas. kec itself refuses an unknown key only inside a section it loads (KEC_WATCHER_* in the watcher); a
// KEC_ALERTER_* key on the watcher's pod, or a misspelt shared key, would be ignored there without a word: here it
// fails. Secrets from secretKeyRef get stand-in values of the right form; `$(VAR)` references are expanded as the
// kubelet does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { registry, selectServices } from '@kec/cli';
import { type ConfigSpec, loadConfig, sharedConfigSpec } from '@kec/config';
import { COMBINATIONS, find, helmTemplate, helmTemplateError, type K8sObject, podSpec, sets } from './helm.ts';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}

/** Stand-ins for values read from Secrets, by the variable they feed. */
const SECRET_STANDINS: Record<string, string> = {
  KEC_NATS_URL: 'nats://user:secret@nats.example:4222',
  KEC_REDIS_URL: 'redis://:secret@redis.example:6379',
  KEC_CLICKHOUSE_URL: 'http://kec:secret@clickhouse.example:8123/kec',
};

/** The env names a spec accepts: each key's, and `<KEY>_FILE` for a secret key. */
function acceptedNames(spec: ConfigSpec): string[] {
  return spec.compiled.flatMap((k) => (k.definition.secret ? [k.env, `${k.env}_FILE`] : [k.env]));
}

/** The container's env as the process sees it (secrets stood in, `$(VAR)` expanded). */
function resolveEnv(vars: EnvVar[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of vars) {
    let value = v.value;
    if (value === undefined && v.valueFrom?.secretKeyRef) value = SECRET_STANDINS[v.name] ?? 'secret';
    if (value === undefined) value = 'from-field';
    env[v.name] = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, n: string) => env[n] ?? all);
  }
  return env;
}

/** The shared spec and the config section of each service. */
async function specsOf(services: string[]): Promise<ConfigSpec[]> {
  const specs: ConfigSpec[] = [sharedConfigSpec];
  for (const s of services) {
    const def = await registry[s]!();
    if (def.config) specs.push(def.config);
  }
  return specs;
}

const dir = mkdtempSync(join(tmpdir(), 'kec-chart-env-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The kec containers of a render: [workload/container, the services it runs, its env]. */
function kecContainers(objects: K8sObject[]): [string, string[], Record<string, string>][] {
  const out: [string, string[], Record<string, string>][] = [];
  for (const o of objects) {
    const spec = podSpec(o);
    if (!spec) continue;
    for (const c of spec.containers as { name: string; args?: string[]; env?: EnvVar[] }[]) {
      if (c.args?.[0] !== 'run') continue;
      out.push([`${o.metadata.name}/${c.name}`, selectServices(c.args.slice(1), registry), resolveEnv(c.env ?? [])]);
    }
  }
  return out;
}

const RENDERS: Record<string, string[]> = {
  ...COMBINATIONS,
  'scaled, alert rules and receivers, api tokens, 5 NATS nodes at R3': [
    ...(COMBINATIONS['scaled'] as string[]),
    ...sets('alerter.receiversSecret=kec-receivers', 'api.tokenSecret=kec-api', 'nats.replicas=5'),
    '--set-string',
    'alerter.rules.team=rules: []',
    '--set-json',
    'config={"correlator":{"quietMs":300000},"writer":{"batchSize":500},"logFormat":"json"}',
  ],
};

describe('chart environment vs the services config schemas', () => {
  for (const [name, args] of Object.entries(RENDERS)) {
    test(`chart env - ${name}: every KEC_* key is known to the services the container runs and loads`, async () => {
      const { objects } = helmTemplate(args);
      const configYaml = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kec-config')?.data[
        'config.yaml'
      ];
      assert.ok(typeof configYaml === 'string', 'the chart renders config.yaml');
      const file = join(dir, `${Object.keys(RENDERS).indexOf(name)}.yaml`);
      writeFileSync(file, configYaml);
      const containers = kecContainers(objects);
      assert.ok(containers.length > 0, 'kec containers rendered');
      for (const [where, services, env] of containers) {
        const specs = await specsOf(services);
        const accepted = new Set(['KEC_CONFIG_FILE', ...specs.flatMap(acceptedNames)]);
        const unknown = Object.keys(env).filter((k) => k.startsWith('KEC_') && !accepted.has(k));
        assert.deepEqual(unknown, [], `${where} (kec run ${services.join(' ')}): keys no service there reads`);
        // Secret files are mounted in the pod, not here: their names were checked above; load the rest.
        const loadable = Object.fromEntries(Object.entries(env).filter(([k]) => !k.endsWith('_FILE')));
        for (const spec of specs) {
          assert.doesNotThrow(
            () => loadConfig(spec, { env: loadable, file }),
            (err: Error) => assert.fail(`${where}: ${spec.section ?? 'shared'}: ${err.message}`),
          );
        }
      }
    });
  }

  test('chart env - a key of another service, or a misspelt shared key, is caught', async () => {
    const { objects } = helmTemplate([
      ...(COMBINATIONS['scaled'] as string[]),
      '--set-json',
      'watcher.extraEnv=[{"name":"KEC_API_PORT","value":"8081"},{"name":"KEC_STREAM_REPLICA","value":"3"}]',
    ]);
    const watcher = kecContainers(objects).find(([where]) => where.startsWith('kec-watcher/'));
    assert.ok(watcher);
    const [, services, env] = watcher;
    const specs = await specsOf(services);
    const accepted = new Set(['KEC_CONFIG_FILE', ...specs.flatMap(acceptedNames)]);
    assert.deepEqual(
      Object.keys(env).filter((k) => k.startsWith('KEC_') && !accepted.has(k)),
      ['KEC_API_PORT', 'KEC_STREAM_REPLICA'],
    );
  });

  test('chart env - KEC_STREAM_REPLICAS follows the NATS the pipeline uses', () => {
    const replicas = (args: string[]) => {
      const { objects } = helmTemplate(args);
      const values = new Set(kecContainers(objects).map(([, , env]) => env.KEC_STREAM_REPLICAS));
      assert.equal(values.size, 1, 'every kec container gets the same replicas');
      return [...values][0];
    };
    const scaled = COMBINATIONS['scaled'] as string[];
    assert.equal(replicas([]), '1', 'single-node: one NATS node');
    assert.equal(replicas(scaled), '3', 'scaled: R3 on the 3-node NATS cluster');
    assert.equal(replicas([...scaled, ...sets('nats.replicas=5')]), '3', 'R3 on 5 nodes');
    assert.equal(replicas([...scaled, ...sets('nats.replicas=5', 'nats.streamReplicas=5')]), '5');
    assert.equal(replicas([...scaled, ...sets('nats.mode=external', 'nats.url=nats://n:4222')]), '1');
    assert.equal(
      replicas([...scaled, ...sets('nats.mode=external', 'nats.url=nats://n:4222', 'nats.streamReplicas=3')]),
      '3',
    );
    assert.match(
      helmTemplateError([...scaled, ...sets('nats.streamReplicas=5')]),
      /needs at least that many NATS nodes/,
    );
  });

  test('chart env - the alerter reads the mounted rule and receiver files', () => {
    const { objects } = helmTemplate([
      ...(COMBINATIONS['scaled'] as string[]),
      ...sets('alerter.receiversSecret=kec-receivers'),
      '--set-string',
      'alerter.rules.team=rules: []',
    ]);
    const pod = podSpec(find(objects, 'Deployment', 'kec-alerter'))!;
    const c = pod.containers[0] as { env: EnvVar[]; volumeMounts: { mountPath: string }[] };
    const files = c.env.find((e) => e.name === 'KEC_ALERTER_CONFIG_FILES')?.value?.split(',') ?? [];
    assert.deepEqual(files, ['/etc/kec-alerts/rules/team.yaml', '/etc/kec-alerts/receivers/receivers.yaml']);
    const mounts = c.volumeMounts.map((m) => m.mountPath);
    for (const f of files)
      assert.ok(
        mounts.some((m) => f.startsWith(`${m}/`)),
        `${f} is on a mounted volume`,
      );
  });
});
