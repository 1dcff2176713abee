// docker-compose.yml, checked without a Docker engine: the Compose specification's JSON schema (vendored in
// deploy/compose/compose-spec.json), then what makes the stack come up: healthchecks everywhere, depends_on on
// healthy services that exist, pinned images, mounted files that exist, no host-port collisions, required
// passwords, and kec's environment accepted by kec's own config loader (`kec config`, exit 2 on a config error).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEC = join(ROOT, 'services', 'cli', 'bin', 'kec');
const RAW = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

/** deploy/compose/env.example as a map (what a user copies to .env). */
function envExample(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, 'deploy', 'compose', 'env.example'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (m) env[m[1] as string] = m[2] as string;
  }
  return env;
}

class MissingVariable extends Error {}

/** Compose interpolation of one string: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}. */
function interpolate(s: string, env: Record<string, string>): string {
  return s.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (all, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (all === '$$') return '$';
      if (bare !== undefined) return env[bare] ?? '';
      const v = env[name as string];
      const unset = colon ? v === undefined || v === '' : v === undefined;
      if (op === '-') return unset ? interpolate(arg as string, env) : (v as string);
      if (op === '?') {
        if (unset) throw new MissingVariable(`${name}: ${arg}`);
        return v as string;
      }
      if (op === '+') return unset ? '' : interpolate(arg as string, env);
      return v ?? '';
    },
  );
}

function interpolateAll(v: unknown, env: Record<string, string>): unknown {
  if (typeof v === 'string') return interpolate(v, env);
  if (Array.isArray(v)) return v.map((x) => interpolateAll(x, env));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateAll(x, env)]));
  }
  return v;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: Array<string | { source: string; target?: string }>;
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets?: Record<string, { environment?: string; file?: string }>;
  volumes?: Record<string, unknown>;
}

// `merge: true`: YAML merge keys (<<: *healthcheck) as Compose reads them.
const raw = parse(RAW, { merge: true }) as Record<string, unknown>;
const compose = interpolateAll(raw, envExample()) as ComposeFile;
const services = Object.entries(compose.services);

/** Bind mounts: host path (resolved in the repo) -> container path. */
function binds(s: Service): Array<{ host: string; target: string }> {
  return (s.volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([src]) => src?.startsWith('.') || src?.startsWith('/'))
    .map(([src, target]) => ({ host: resolve(ROOT, src as string), target: target as string }));
}

/** The secrets a service is given, by name (short or long syntax; no custom targets are used). */
function secretNames(s: Service): string[] {
  return (s.secrets ?? []).map((x) => {
    if (typeof x === 'string') return x;
    assert.equal(x.target, undefined, 'secrets stay at /run/secrets/<name>');
    return x.source;
  });
}

describe('docker-compose.yml', () => {
  test('validates against the Compose specification JSON schema', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'deploy', 'compose', 'compose-spec.json'), 'utf8'));
    delete schema.$schema; // draft-07 under an https:// id, which ajv's draft-07 meta-schema does not name
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    for (const [what, doc] of [
      ['as written', raw],
      ['interpolated with env.example', compose],
    ] as const) {
      const ok = validate(doc);
      assert.ok(ok, `${what}: ${JSON.stringify(validate.errors, null, 2)}`);
    }
    // The schema is really applied: a typo'd service key is refused.
    const typo = structuredClone(compose) as ComposeFile & { services: Record<string, Record<string, unknown>> };
    (typo.services.kec as Record<string, unknown>).helthcheck = {};
    assert.equal(validate(typo), false);
  });

  test('has the full stack', () => {
    const names = Object.keys(compose.services).sort();
    for (const want of ['alertmanager', 'clickhouse', 'grafana', 'kec', 'kube-sim', 'nats', 'redis']) {
      assert.ok(names.includes(want), `service ${want}`);
    }
    assert.deepEqual(compose.services.kec?.command, ['run', 'all']);
    // Redis persists (the correlator requires AOF), NATS runs JetStream on a volume.
    const redis = compose.services.redis?.command?.join(' ') ?? '';
    assert.match(redis, /--appendonly yes/);
    assert.ok(compose.services.redis?.volumes?.some((v) => v.endsWith(':/data')));
    const natsConf = readFileSync(join(ROOT, 'deploy', 'nats', 'nats-server.conf'), 'utf8');
    assert.match(natsConf, /jetstream\s*\{[^}]*store_dir:\s*\/data\//);
    assert.ok(compose.services.nats?.volumes?.some((v) => v.endsWith(':/data')));
  });

  test('every service has a healthcheck and every depends_on waits for a healthy service that exists', () => {
    for (const [name, s] of services) {
      assert.ok(s.healthcheck?.test && !s.healthcheck.disable, `${name} has a healthcheck`);
      assert.ok(['CMD', 'CMD-SHELL'].includes(s.healthcheck.test[0] as string), `${name} healthcheck form`);
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        assert.ok(compose.services[dep], `${name} depends on ${dep}, which exists`);
        assert.equal(cond.condition, 'service_healthy', `${name} -> ${dep}`);
      }
    }
    // No cycle (compose refuses one).
    const seen = new Map<string, 'open' | 'done'>();
    const visit = (n: string, path: string[]) => {
      assert.notEqual(seen.get(n), 'open', `depends_on cycle: ${[...path, n].join(' -> ')}`);
      if (seen.get(n) === 'done') return;
      seen.set(n, 'open');
      for (const d of Object.keys(compose.services[n]?.depends_on ?? {})) visit(d, [...path, n]);
      seen.set(n, 'done');
    };
    for (const [name] of services) visit(name, []);
  });

  test('images are pinned to a version', () => {
    for (const [name, s] of services) {
      assert.ok(s.image, `${name} names its image`);
      assert.match(s.image, /(:v?\d+\.\d+\.\d+[-.\w]*|@sha256:[0-9a-f]{64})$/, `${name}: ${s.image}`);
    }
  });

  test('mounted files exist in the repository and named volumes are declared', () => {
    for (const [name, s] of services) {
      for (const { host } of binds(s)) {
        assert.ok(existsSync(host), `${name} mounts ${host}, which exists`);
      }
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0] as string;
        if (!src.startsWith('.') && !src.startsWith('/')) assert.ok(src in (compose.volumes ?? {}), `volume ${src}`);
      }
      for (const secret of secretNames(s)) assert.ok(compose.secrets?.[secret], `${name} uses secret ${secret}`);
    }
  });

  test("Grafana's home dashboard is a provisioned dashboard", () => {
    const grafana = compose.services.grafana as Service;
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    const dir = binds(grafana).find((b) => home.startsWith(`${b.target}/`));
    assert.ok(dir, `${home} is inside a mounted directory`);
    assert.ok(existsSync(join(dir.host, home.slice(dir.target.length))), home);
  });

  test('published ports do not collide', () => {
    const used = new Map<string, string>();
    for (const [name, s] of services) {
      for (const p of s.ports ?? []) {
        const parts = p.split(':');
        assert.equal(parts.length, 3, `${name} binds ${p} to an address (KEC_BIND)`);
        const key = `${parts[0]}:${parts[1]}`;
        assert.ok(!used.has(key), `${name} publishes ${key}, already published by ${used.get(key)}`);
        used.set(key, name);
      }
    }
  });

  test('passwords come from .env: required, never written in the file', () => {
    const secretVars = Object.keys(envExample()).filter((k) => /PASSWORD|_TOKEN$/.test(k));
    assert.ok(secretVars.length >= 4);
    for (const v of secretVars) {
      const env = envExample();
      delete env[v];
      assert.throws(() => interpolateAll(raw, env), MissingVariable, `${v} is required`);
    }
    for (const [name, s] of services) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|_TOKEN$/.test(k) && !k.endsWith('_FILE')) {
          const written = (raw.services as Record<string, Service>)[name]?.environment?.[k] ?? '';
          assert.match(written, /^\$\{[A-Z_]+:\?/, `${name} ${k} comes from a required variable`);
          assert.ok(v.length > 0);
        }
      }
    }
    // ClickHouse's users file reads its passwords from variables the service sets.
    const users = readFileSync(join(ROOT, 'deploy', 'clickhouse', 'kec-users.xml'), 'utf8');
    for (const [, v] of users.matchAll(/from_env="([A-Z_]+)"/g)) {
      assert.ok(compose.services.clickhouse?.environment?.[v as string], `clickhouse sets ${v}`);
    }
    // Grafana's provisioned datasources read variables the grafana service sets.
    const ds = join(ROOT, 'deploy', 'grafana', 'provisioning', 'datasources');
    for (const f of existsSync(ds) ? readdirSync(ds) : []) {
      for (const [, v] of readFileSync(join(ds, f), 'utf8').matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g)) {
        assert.ok(compose.services.grafana?.environment?.[v as string], `grafana sets ${v}`);
      }
    }
  });

  describe('kec accepts its environment', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kec-compose-'));
    after(() => rmSync(tmp, { recursive: true, force: true }));
    const kec = compose.services.kec as Service;

    /** The container's paths in kec's env, mapped to the repo files mounted there and to secret files. */
    function hostEnv(): Record<string, string> {
      const mounts = new Map(binds(kec).map((b) => [b.target, b.host]));
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(kec.environment ?? {})) {
        const secret = v.match(/^\/run\/secrets\/(.+)$/)?.[1];
        if (secret) {
          assert.ok(secretNames(kec).includes(secret), `${k}: secret ${secret} is given to kec`);
          const from = compose.secrets?.[secret]?.environment as string;
          const file = join(tmp, secret);
          writeFileSync(file, envExample()[from] ?? '');
          env[k] = file;
        } else if (v.startsWith('/')) {
          assert.ok(mounts.has(v), `${k}=${v} is a file mounted into kec`);
          env[k] = mounts.get(v) as string;
        } else env[k] = v;
      }
      return env;
    }

    function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
      return new Promise((done, fail) => {
        const p = spawn(KEC, args, { env: { PATH: process.env.PATH ?? '', ...env }, cwd: tmp });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('error', fail);
        p.on('close', (code) => done({ code, out }));
      });
    }

    test('`kec config` loads it (exit 2 would be a config error)', async () => {
      const env = hostEnv();
      // A key kec does not know fails the same way (exit 2): the check is real.
      const [{ code, out }, bad] = await Promise.all([
        run(['config', '-o', 'json'], env),
        run(['config'], { ...env, KEC_ALERTER_RECEIVER: 'x' }),
      ]);
      assert.equal(code, 0, out);
      assert.equal(bad.code, 2, bad.out);
    });

    test('`kec alerts check` accepts the alert routing file', async () => {
      const { code, out } = await run(['alerts', 'check', hostEnv().KEC_ALERTER_CONFIG_FILES as string], {});
      assert.equal(code, 0, out);
      const am = parse(readFileSync(join(ROOT, 'deploy', 'compose', 'kec', 'alerts.yaml'), 'utf8'));
      const url = new URL(am.receivers[0].url);
      assert.ok(compose.services[url.hostname], `the receiver's host ${url.hostname} is a service`);
      assert.ok(compose.services.kec?.depends_on?.[url.hostname], 'kec waits for it');
    });

    test('the kubeconfig points at kube-sim with the token kube-sim is given', () => {
      const kc = parse(readFileSync(hostEnv().KUBECONFIG as string, 'utf8'));
      const url = new URL(kc.clusters[0].cluster.server);
      assert.equal(url.hostname, 'kube-sim');
      assert.match(compose.services['kube-sim']?.command?.join(' ') ?? '', new RegExp(`--port ${url.port}\\b`));
      const tokenFile: string = kc.users[0].user.tokenFile;
      const secret = tokenFile.replace('/run/secrets/', '');
      assert.ok(secretNames(kec).includes(secret));
      assert.equal(compose.secrets?.[secret]?.environment, 'KUBE_SIM_TOKEN');
      assert.ok(compose.services['kube-sim']?.environment?.KUBE_SIM_TOKEN);
      assert.equal(kc.users[0].user.token, undefined, 'no token in the file');
    });
  });
});
