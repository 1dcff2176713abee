import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Type from 'typebox';
import {
  ConfigError,
  defineConfig,
  loadConfig,
  redactConfig,
  renderConfigTable,
  resolveConfig,
  sharedConfigSpec,
} from '../src/index.ts';

// Invalid YAML lives in a temp dir: Biome parses YAML files in the repo and would reject it as a fixture.
const tmp = mkdtempSync(join(tmpdir(), 'kec-config-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
writeFileSync(join(tmp, 'invalid.yaml'), 'cluster: [unclosed\n');

const fixture = (name: string): string =>
  name === 'invalid.yaml' ? join(tmp, name) : fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

// Credential and TLS keys: unset unless a case sets them.
const UNSET_SECURITY = Object.fromEntries(
  sharedConfigSpec.compiled
    .filter((k) => /^(nats|redis|clickhouse)(User|Password|Token|NkeySeed|Creds|Tls)|^metricsTls/.test(k.name))
    .map((k) => [k.name, undefined]),
);

const DEFAULTS = {
  ...UNSET_SECURITY,
  cluster: 'default',
  natsUrl: 'nats://127.0.0.1:4222',
  redisUrl: 'redis://127.0.0.1:6379',
  clickhouseUrl: undefined,
  clickhouseCluster: undefined,
  streamReplicas: 1,
  otlpEndpoint: undefined,
  traceSampleRatio: 1,
  dataDir: './.kec-data',
  logLevel: 'info',
  metricsHost: '0.0.0.0',
  logFormat: 'auto',
  logSummaryIntervalMs: 60000,
  metricsPort: 9464,
  shutdownGraceMs: 25000,
};

const watcherSpec = defineConfig({
  section: 'watcher',
  keys: {
    pageSize: { schema: Type.Integer({ minimum: 1, maximum: 5000 }), default: 500, description: 'LIST page size.' },
    leaseName: { schema: Type.String({ minLength: 1 }), required: true, description: 'Lease for leader election.' },
    bookmarks: { schema: Type.Boolean(), default: true, description: 'Ask for watch bookmarks.' },
    token: { schema: Type.String({ minLength: 8 }), secret: true, description: 'An API token.' },
  },
});

describe('config - valid', () => {
  const cases: { name: string; env: Record<string, string>; file?: string; want: Record<string, unknown> }[] = [
    { name: 'defaults', env: {}, want: DEFAULTS },
    { name: 'empty env values count as unset', env: { KEC_CLICKHOUSE_URL: '', KEC_CLUSTER: '' }, want: DEFAULTS },
    {
      name: 'env vars',
      env: {
        KEC_CLUSTER: 'kind-1',
        KEC_NATS_URL: 'tls://user:pw@nats.example:4222',
        KEC_REDIS_URL: 'rediss://redis.example:6380/2',
        KEC_CLICKHOUSE_URL: 'http://clickhouse:8123',
        KEC_DATA_DIR: '/data',
        KEC_LOG_LEVEL: 'trace',
        KEC_LOG_FORMAT: 'json',
        KEC_METRICS_PORT: '0',
        KEC_SHUTDOWN_GRACE_MS: '5000',
      },
      want: {
        ...DEFAULTS,
        cluster: 'kind-1',
        natsUrl: 'tls://user:pw@nats.example:4222',
        redisUrl: 'rediss://redis.example:6380/2',
        clickhouseUrl: 'http://clickhouse:8123',
        dataDir: '/data',
        logLevel: 'trace',
        logFormat: 'json',
        metricsPort: 0,
        shutdownGraceMs: 5000,
      },
    },
    {
      name: 'yaml file',
      env: {},
      file: 'all-settings.yaml',
      want: {
        ...DEFAULTS,
        cluster: 'prod-eu-1',
        natsUrl: 'nats://nats-0:4222,nats://nats-1:4222',
        redisUrl: 'redis://:s3cret@redis:6379',
        clickhouseUrl: 'https://ch.example.com:8443',
        dataDir: '/var/lib/kec',
        logLevel: 'debug',
        logFormat: 'pretty',
        metricsPort: 9100,
        shutdownGraceMs: 20000,
      },
    },
    {
      name: 'env wins over yaml',
      env: { KEC_METRICS_PORT: '9200', KEC_LOG_LEVEL: 'warn' },
      file: 'all-settings.yaml',
      want: {
        ...DEFAULTS,
        cluster: 'prod-eu-1',
        natsUrl: 'nats://nats-0:4222,nats://nats-1:4222',
        redisUrl: 'redis://:s3cret@redis:6379',
        clickhouseUrl: 'https://ch.example.com:8443',
        dataDir: '/var/lib/kec',
        logLevel: 'warn',
        logFormat: 'pretty',
        metricsPort: 9200,
        shutdownGraceMs: 20000,
      },
    },
    {
      name: 'yaml string scalar parsed like env',
      env: {},
      file: 'string-port.yaml',
      want: { ...DEFAULTS, metricsPort: 9200 },
    },
  ];
  for (const c of cases) {
    test(`config - ${c.name}`, () => {
      assert.deepEqual(loadConfig(sharedConfigSpec, { env: c.env, file: c.file && fixture(c.file) }), c.want);
    });
  }

  test('config - KEC_CONFIG_FILE names the file', () => {
    const got = loadConfig(sharedConfigSpec, { env: { KEC_CONFIG_FILE: fixture('all-settings.yaml') } });
    assert.equal(got.cluster, 'prod-eu-1');
  });

  test('config - service section from env and yaml', () => {
    const got = loadConfig(watcherSpec, {
      env: { KEC_WATCHER_LEASE_NAME: 'kec-watcher', KEC_WATCHER_BOOKMARKS: 'false' },
      file: fixture('all-settings.yaml'),
    });
    assert.deepEqual(got, { pageSize: 250, leaseName: 'kec-watcher', bookmarks: false, token: undefined });
  });

  test('config - sources are reported', () => {
    const entries = resolveConfig(sharedConfigSpec, {
      env: { KEC_CLUSTER: 'x' },
      file: fixture('bad-port.yaml').replace('bad-port', 'string-port'),
    });
    const sources = Object.fromEntries(entries.map((e) => [e.key.name, e.source]));
    assert.equal(sources['cluster'], 'env');
    assert.equal(sources['metricsPort'], 'file');
    assert.equal(sources['logLevel'], 'default');
    assert.equal(sources['clickhouseUrl'], 'unset');
  });
});

describe('config - errors', () => {
  const cases: {
    name: string;
    env: Record<string, string>;
    file?: string;
    spec?: typeof watcherSpec;
    message: string;
    key: string;
  }[] = [
    {
      name: 'unparsable int',
      env: { KEC_METRICS_PORT: 'abc' },
      key: 'KEC_METRICS_PORT',
      message: 'KEC_METRICS_PORT: must be an integer from 0 to 65535 (got "abc")',
    },
    {
      name: 'int out of range',
      env: { KEC_METRICS_PORT: '65536' },
      key: 'KEC_METRICS_PORT',
      message: 'KEC_METRICS_PORT: must be an integer from 0 to 65535 (got "65536")',
    },
    {
      name: 'fraction is not an int',
      env: { KEC_SHUTDOWN_GRACE_MS: '1.5' },
      key: 'KEC_SHUTDOWN_GRACE_MS',
      message: 'KEC_SHUTDOWN_GRACE_MS: must be an integer from 0 to 3600000 (got "1.5")',
    },
    {
      name: 'not in the allowed set',
      env: { KEC_LOG_LEVEL: 'verbose' },
      key: 'KEC_LOG_LEVEL',
      message: 'KEC_LOG_LEVEL: must be one of: trace, debug, info, warn, error, fatal (got "verbose")',
    },
    {
      name: 'bad cluster name',
      env: { KEC_CLUSTER: 'Prod.EU' },
      key: 'KEC_CLUSTER',
      message:
        'KEC_CLUSTER: must be a DNS-1123 label (a-z, 0-9 and \'-\', alphanumeric at both ends, at most 63 characters) (got "Prod.EU")',
    },
    {
      name: 'cluster name too long',
      env: { KEC_CLUSTER: 'a'.repeat(64) },
      key: 'KEC_CLUSTER',
      message: `KEC_CLUSTER: must be a DNS-1123 label (a-z, 0-9 and '-', alphanumeric at both ends, at most 63 characters) (got "${'a'.repeat(64)}")`,
    },
    {
      name: 'not a url',
      env: { KEC_NATS_URL: 'localhost:4222' },
      key: 'KEC_NATS_URL',
      message:
        'KEC_NATS_URL: must be a comma-separated list of URLs with scheme nats:// or tls:// (got "localhost:4222")',
    },
    {
      name: 'wrong url scheme, password masked',
      env: { KEC_REDIS_URL: 'http://:hunter2@redis:6379' },
      key: 'KEC_REDIS_URL',
      message: 'KEC_REDIS_URL: must be a URL with scheme redis:// or rediss:// (got "http://:***@redis:6379")',
    },
    {
      name: 'yaml value out of range',
      env: {},
      file: 'bad-port.yaml',
      key: 'metricsPort',
      message: `${fixture('bad-port.yaml')}: metricsPort: must be an integer from 0 to 65535 (got 70000)`,
    },
    {
      name: 'unknown yaml key',
      env: {},
      file: 'unknown-key.yaml',
      key: 'metricPort',
      message: `${fixture('unknown-key.yaml')}: metricPort: unknown key (known: ${sharedConfigSpec.compiled.map((k) => k.name).join(', ')})`,
    },
    {
      name: 'missing file',
      env: { KEC_CONFIG_FILE: '/nonexistent/kec.yaml' },
      key: '/nonexistent/kec.yaml',
      message: '/nonexistent/kec.yaml: cannot read the config file (ENOENT)',
    },
    {
      name: 'invalid yaml',
      env: {},
      file: 'invalid.yaml',
      key: fixture('invalid.yaml'),
      message: `${fixture('invalid.yaml')}: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1`,
    },
    {
      name: 'yaml not a mapping',
      env: {},
      file: 'not-a-mapping.yaml',
      key: fixture('not-a-mapping.yaml'),
      message: `${fixture('not-a-mapping.yaml')}: the config file must be a YAML mapping of keys`,
    },
    {
      name: 'required key missing',
      spec: watcherSpec,
      env: {},
      key: 'KEC_WATCHER_LEASE_NAME',
      message:
        'KEC_WATCHER_LEASE_NAME: is required (set KEC_WATCHER_LEASE_NAME, or watcher.leaseName in the config file)',
    },
    {
      name: 'unknown env key in a section',
      spec: watcherSpec,
      env: { KEC_WATCHER_LEASE_NAME: 'l', KEC_WATCHER_PAGESIZE: '10' },
      key: 'KEC_WATCHER_PAGESIZE',
      message:
        'KEC_WATCHER_PAGESIZE: unknown key (known: KEC_WATCHER_PAGE_SIZE, KEC_WATCHER_LEASE_NAME, KEC_WATCHER_BOOKMARKS, KEC_WATCHER_TOKEN)',
    },
    {
      name: 'unknown yaml key in a section',
      spec: watcherSpec,
      env: { KEC_WATCHER_LEASE_NAME: 'l' },
      file: 'section-unknown.yaml',
      key: 'watcher.pagesize',
      message: `${fixture('section-unknown.yaml')}: watcher.pagesize: unknown key (known: pageSize, leaseName, bookmarks, token)`,
    },
    {
      name: 'bad boolean',
      spec: watcherSpec,
      env: { KEC_WATCHER_LEASE_NAME: 'l', KEC_WATCHER_BOOKMARKS: 'yes' },
      key: 'KEC_WATCHER_BOOKMARKS',
      message: 'KEC_WATCHER_BOOKMARKS: must be true or false (got "yes")',
    },
    {
      name: 'secret value is not echoed',
      spec: watcherSpec,
      env: { KEC_WATCHER_LEASE_NAME: 'l', KEC_WATCHER_TOKEN: 'short' },
      key: 'KEC_WATCHER_TOKEN',
      message: 'KEC_WATCHER_TOKEN: must be a non-empty string (value hidden)',
    },
  ];
  for (const c of cases) {
    test(`config - error: ${c.name}`, () => {
      const spec = c.spec ?? sharedConfigSpec;
      assert.throws(
        () => loadConfig(spec, { env: c.env, file: c.file && fixture(c.file) }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
          assert.equal(err.message.split('\n')[0], c.message);
          assert.equal(err.key, c.key);
          assert.equal(err.name, 'ConfigError');
          assert.equal(err.retryable, false);
          return true;
        },
      );
    });
  }
});

describe('config - define', () => {
  test('config - a default that fails its schema is rejected at definition', () => {
    assert.throws(
      () => defineConfig({ keys: { port: { schema: Type.Integer({ maximum: 10 }), default: 11, description: 'p' } } }),
      /the default of "port" \(11\) fails its schema/,
    );
  });
  test('config - key names must be camelCase', () => {
    assert.throws(
      () => defineConfig({ keys: { redisURL: { schema: Type.String(), description: 'r' } } }),
      /key "redisURL" must be camelCase/,
    );
  });
  test('config - env names derive from section and key', () => {
    assert.deepEqual(
      watcherSpec.compiled.map((k) => k.env),
      ['KEC_WATCHER_PAGE_SIZE', 'KEC_WATCHER_LEASE_NAME', 'KEC_WATCHER_BOOKMARKS', 'KEC_WATCHER_TOKEN'],
    );
  });
});

describe('config - output', () => {
  test('config - redact masks URL passwords and secrets', () => {
    const values = loadConfig(sharedConfigSpec, {
      env: { KEC_REDIS_URL: 'redis://u:pw@r:6379', KEC_NATS_URL: 'nats://a:b@n1:4222,nats://c:d@n2:4222' },
    });
    const red = redactConfig(sharedConfigSpec, values);
    assert.equal(red.redisUrl, 'redis://u:***@r:6379');
    assert.equal(red.natsUrl, 'nats://a:***@n1:4222,nats://c:***@n2:4222');
    const w = redactConfig(
      watcherSpec,
      loadConfig(watcherSpec, { env: { KEC_WATCHER_LEASE_NAME: 'l', KEC_WATCHER_TOKEN: 'abcdefgh12' } }),
    );
    assert.equal(w.token, '***');
  });

  test('config - table lists every key with env, default and allowed values, columns aligned', () => {
    const cells = (table: string) =>
      table
        .trimEnd()
        .split('\n')
        .map((l) => l.split(' | ').map((c) => c.replace(/^\| /, '').replace(/ \|$/, '').trim()));
    const table = renderConfigTable(sharedConfigSpec);
    const rows = cells(table);
    assert.deepEqual(rows[0], ['Env var', 'YAML key', 'Type', 'Default', 'Allowed values', 'Description']);
    assert.equal(rows.length, 2 + sharedConfigSpec.compiled.length);
    assert.deepEqual(rows.find((r) => r[0] === '`KEC_METRICS_PORT`')?.slice(0, 5), [
      '`KEC_METRICS_PORT`',
      '`metricsPort`',
      'integer',
      '`9464`',
      'an integer from 0 to 65535',
    ]);
    assert.deepEqual(rows.find((r) => r[0] === '`KEC_CLICKHOUSE_URL`')?.slice(2, 4), ['url', '(unset)']);
    assert.deepEqual(
      cells(renderConfigTable(watcherSpec))
        .find((r) => r[0] === '`KEC_WATCHER_LEASE_NAME`')
        ?.slice(1, 4),
      ['`watcher.leaseName`', 'string', '(required)'],
    );
    const widths = new Set(
      table
        .trimEnd()
        .split('\n')
        .map((l) => l.length),
    );
    assert.equal(widths.size, 1, 'every line has the same width (Biome leaves it unchanged)');
  });

  test('config - loadConfigOrExit prints one line and exits 2', () => {
    const script = `import { loadConfigOrExit, sharedConfigSpec } from '${new URL('../src/index.ts', import.meta.url).href}';
loadConfigOrExit(sharedConfigSpec, { env: process.env });
process.stdout.write('loaded');`;
    const bad = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, KEC_METRICS_PORT: 'abc', KEC_CONFIG_FILE: '' },
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'kec: config error: KEC_METRICS_PORT: must be an integer from 0 to 65535 (got "abc")\n');
    assert.equal(bad.stdout, '');
    const good = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, KEC_METRICS_PORT: '1234', KEC_CONFIG_FILE: '' },
      encoding: 'utf8',
    });
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stdout, 'loaded');
  });
});
