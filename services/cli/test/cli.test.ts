import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@kec/runtime';
import { loadServices, registry, runCli, selectServices } from '../src/index.ts';

const BIN = fileURLToPath(new URL('../bin/kec', import.meta.url));
const PKG = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const tmp = mkdtempSync(join(tmpdir(), 'kec-cli-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function kec(args: string[], env: Record<string, string> = {}, bin = BIN) {
  const r = spawnSync(bin, args, {
    env: { PATH: process.env.PATH ?? '', KEC_NODE: process.execPath, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function knownList(): string {
  const known = Object.keys(registry);
  return known.length === 0 ? 'no services are built yet; only "all" works' : `known: ${known.join(', ')}, all`;
}

const fake = (name: string): ServiceDefinition => ({
  name,
  description: name,
  start: async () => ({ readiness: () => undefined, stop: async () => {} }),
});

describe('cli', { concurrency: true }, () => {
  test('cli - version prints kec, node and key dependency versions', () => {
    const r = kec(['version']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `kec ${PKG.version}`);
    assert.equal(lines[1], `node ${process.versions.node}`);
    assert.ok(lines.includes('commander 15.1.0'), r.stdout);
    assert.ok(
      lines.some((l) => /^@nats-io\/transport-node \d+\.\d+\.\d+$/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /^typebox \d+\.\d+\.\d+$/.test(l)),
      r.stdout,
    );
  });

  test('cli - bin/kec works through a symlink', () => {
    const link = join(tmp, 'kec');
    symlinkSync(BIN, link);
    const r = kec(['version'], {}, link);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], `kec ${PKG.version}`);
  });

  test('cli - bin/kec bounds the V8 heap of one-service processes from KEC_V8_* or per-service budgets', () => {
    // A stand-in node that prints the flags bin/kec gives it.
    const node = join(tmp, 'print-node');
    writeFileSync(node, '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
    const flags = (args: string[], env: Record<string, string> = {}) => {
      const r = kec(args, { KEC_NODE: node, ...env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.slice(0, r.stdout.indexOf('/')).trim();
    };
    assert.equal(flags(['run', 'watcher']), '--max-old-space-size=64 --max-semi-space-size=1');
    assert.equal(flags(['run', 'correlator']), '--max-old-space-size=128 --max-semi-space-size=8');
    assert.equal(flags(['run', 'writer', 'sql']), '--max-old-space-size=384 --max-semi-space-size=16');
    assert.equal(flags(['run', 'all']), '');
    assert.equal(flags(['version']), '');
    assert.equal(
      flags(['run', 'enricher'], { KEC_V8_MAX_OLD_SPACE_MB: '200', KEC_V8_MAX_SEMI_SPACE_MB: '4' }),
      '--max-old-space-size=200 --max-semi-space-size=4',
    );
    assert.equal(flags(['run', 'all'], { KEC_V8_MAX_OLD_SPACE_MB: '512' }), '--max-old-space-size=512');
    assert.equal(flags(['run', 'watcher'], { NODE_OPTIONS: '--max-old-space-size=48' }), '');
    // A bounded stage keeps two malloc arenas unless MALLOC_ARENA_MAX says otherwise.
    const envNode = join(tmp, 'print-env-node');
    writeFileSync(envNode, `#!/bin/sh\necho "arenas=\${MALLOC_ARENA_MAX:-unset}"\n`, { mode: 0o755 });
    const arenas = (args: string[], env: Record<string, string> = {}) =>
      kec(args, { KEC_NODE: envNode, ...env }).stdout.trim();
    assert.equal(arenas(['run', 'enricher']), 'arenas=2');
    assert.equal(arenas(['run', 'enricher'], { MALLOC_ARENA_MAX: '4' }), 'arenas=4');
    assert.equal(arenas(['run', 'all']), 'arenas=unset');
    const bad = kec(['run', 'watcher'], { KEC_NODE: node, KEC_V8_MAX_OLD_SPACE_MB: '1g' });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "kec: KEC_V8_MAX_OLD_SPACE_MB must be a number of MB, got '1g'\n");
  });

  test('cli - an unknown service is a one-line error and exit 2', () => {
    const r = kec(['run', 'nosuch']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `kec: unknown service "nosuch" (${knownList()})\n`);
    assert.equal(r.stdout, '');
  });

  test('cli - config with a bad env value exits 2 with the one-line message', () => {
    const r = kec(['config'], { KEC_METRICS_PORT: 'abc' });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'kec: config error: KEC_METRICS_PORT: must be an integer from 0 to 65535 (got "abc")\n');
  });

  test('cli - config prints resolved values with sources and masked passwords', () => {
    const r = kec(['config'], { KEC_REDIS_URL: 'redis://user:hunter2@redis:6379', KEC_CLUSTER: 'c9' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('hunter2'));
    assert.match(r.stdout, /^redisUrl: redis:\/\/user:\*\*\*@redis:6379 +# KEC_REDIS_URL \(env\)$/m);
    assert.match(r.stdout, /^cluster: c9 +# KEC_CLUSTER \(env\)$/m);
    assert.match(r.stdout, /^metricsPort: 9464 +# KEC_METRICS_PORT \(default\)$/m);
    const j = kec(['config', '-o', 'json'], { KEC_REDIS_URL: 'redis://user:hunter2@redis:6379' });
    assert.equal(j.code, 0, j.stderr);
    const parsed = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.equal(parsed['redisUrl'], 'redis://user:***@redis:6379');
    assert.equal(parsed['clickhouseUrl'], null);
  });

  test('cli - config reads --config FILE and KEC_CONFIG_FILE; env wins', () => {
    const file = join(tmp, 'kec.yaml');
    writeFileSync(file, 'cluster: from-file\nlogLevel: debug\n');
    for (const [args, env] of [
      [['config', '--config', file], {}],
      [['--config', file, 'config'], {}],
      [['config'], { KEC_CONFIG_FILE: file }],
    ] as [string[], Record<string, string>][]) {
      const r = kec(args, { ...env, KEC_LOG_LEVEL: 'warn' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^cluster: from-file +# KEC_CLUSTER \(file\)$/m, args.join(' '));
      assert.match(r.stdout, /^logLevel: warn +# KEC_LOG_LEVEL \(env\)$/m, args.join(' '));
    }
    const missing = kec(['config', '--config', join(tmp, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      `kec: config error: ${join(tmp, 'nope.yaml')}: cannot read the config file (ENOENT)\n`,
    );
  });

  test('cli - unknown commands exit 2; help exits 0', () => {
    const bad = kec(['bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command 'bogus'/);
    const help = kec(['help']);
    assert.equal(help.code, 0);
    for (const cmd of ['version', 'run', 'config', 'help']) assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
  });

  test('cli - run all with an empty selection serves the endpoints and exits 0 on SIGTERM', async () => {
    // Uses an empty registry explicitly, so this keeps testing the "nothing built" path as services are added.
    const script = `import { runCli } from '${new URL('../src/index.ts', import.meta.url).href}';
await runCli(['node', 'kec', 'run', 'all'], { env: process.env, registry: {} });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', KEC_METRICS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    let port: number | undefined;
    while (port === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      const m = /"state":"running","services":\[\],"port":(\d+)/.exec(out);
      if (m) port = Number(m[1]);
    }
    assert.ok(port, `kec run all did not reach running:\n${out}`);
    assert.match(out, /no services to run: serving \/metrics, \/healthz and \/readyz only/);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});

describe('cli - service selection', () => {
  const reg = { watcher: async () => fake('watcher'), writer: async () => fake('writer') };

  test('cli - all selects every registered service in registry order', () => {
    assert.deepEqual(selectServices(['all'], reg), ['watcher', 'writer']);
    assert.deepEqual(selectServices(['all'], {}), []);
  });

  test('cli - names select those services, unknown ones are listed', () => {
    assert.deepEqual(selectServices(['writer', 'watcher', 'writer'], reg), ['writer', 'watcher']);
    assert.throws(() => selectServices(['watcher', 'nope', 'x'], reg), {
      name: 'UsageError',
      message: 'unknown service "nope", "x" (known: watcher, writer, all)',
    });
    assert.throws(() => selectServices(['all', 'watcher'], reg), /"all" cannot be combined/);
  });

  test('cli - a registry entry must load the service of the same name', async () => {
    await assert.rejects(
      loadServices(['watcher'], { watcher: async () => fake('writer') }),
      /registry entry "watcher" loaded a service named "writer"/,
    );
    assert.deepEqual(
      (await loadServices(['writer'], reg)).map((d) => d.name),
      ['writer'],
    );
  });

  test('cli - runCli reports usage errors through the injected streams', async () => {
    let err = '';
    const code = await runCli(['node', 'kec', 'run', 'nope'], { env: {}, registry: reg, stderr: (t) => (err += t) });
    assert.equal(code, 2);
    assert.equal(err, 'kec: unknown service "nope" (known: watcher, writer, all)\n');
  });
});

test('cli - migrate applies the schema once to the embedded store, and a second run applies nothing', () => {
  const dataDir = join(tmp, 'migrate-data');
  const first = kec(['migrate'], { KEC_DATA_DIR: dataDir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^schema kec at version \d+ \(chdb\); applied: 1/);
  const second = kec(['migrate'], { KEC_DATA_DIR: dataDir });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /applied: none/);
  const bad = kec(['migrate'], { KEC_DATA_DIR: dataDir, KEC_CLICKHOUSE_URL: 'not a url' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^kec: config error: KEC_CLICKHOUSE_URL: /);
});
