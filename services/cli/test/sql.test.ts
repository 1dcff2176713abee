// `kec sql` through POST /api/v1/sql of a real API (embedded store), and the deprecated `sql` service, which now
// runs statements exactly like the API (engine read-only plus the engine-parsed check).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, routeSettings, sha256Hex, sqlSettings, TokenStore } from '@kec/api';
import { ConfigError, loadConfig } from '@kec/config';
import { migrate, openStore, type Store } from '@kec/store';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { runCli } from '../src/program.ts';
import { renderRows } from '../src/sql-command.ts';
import { sqlConfig } from '../src/sql-service.ts';

const TOKEN = 'kec_cli_sql_test_token_0123456789';
const dir = mkdtempSync(join(tmpdir(), 'kec-cli-sql-'));
let writer: Store;
let stores: Store[] = [];
let app: FastifyInstance;
let url = '';

before(async () => {
  writer = await openStore({ dataDir: dir });
  await migrate(writer);
  const open = (s: Record<string, string | number>) =>
    openStore({ dataDir: dir, querySettings: s, sessionDatabase: true });
  const store = await open(routeSettings(30, 1024 ** 3));
  const sqlStore = await open(
    sqlSettings({ timeoutSeconds: 5, maxRows: 100, maxResultBytes: 1024 ** 2, maxMemoryBytes: 256 * 1024 ** 2 }),
  );
  stores = [store, sqlStore];
  app = await buildApp({
    logger: pino({ level: 'silent' }),
    store: () => store,
    sqlStore: () => sqlStore,
    tokens: TokenStore.load({ env: `${sha256Hex(TOKEN)} sql cli`, anonymous: false }),
    sqlMaxRows: 100,
    maxBodyBytes: 64 * 1024,
    subjectRoot: 'kec',
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app?.close();
  for (const s of stores) await s.close();
  await writer?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function kec(args: string[], env: Record<string, string | undefined>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'kec', ...args], {
    env: { HOME: dir, ...env },
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

test('sql - kec sql runs a statement through POST /api/v1/sql with the token', async () => {
  const r = await kec(['sql', 'SELECT number AS n FROM numbers(2)'], { KEC_API_URL: url, KEC_API_TOKEN: TOKEN });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'n\n0\n1\n(2 rows)\n', '']);
  const j = await kec(['sql', '-o', 'json', 'SELECT count() AS n FROM events'], {
    KEC_API_URL: url,
    KEC_API_TOKEN: TOKEN,
  });
  assert.equal(j.stdout, '[{"n":0}]\n');
  const port = new URL(url).port;
  const viaPort = await kec(['sql', 'SELECT 1 AS one'], { KEC_API_PORT: port, KEC_API_TOKEN: TOKEN });
  assert.equal(viaPort.stdout, 'one\n1\n(1 row)\n');
});

test('sql - refusals and auth are one line with exit 1', async () => {
  const ro = await kec(['sql', 'DROP TABLE kec.events'], { KEC_API_URL: url, KEC_API_TOKEN: TOKEN });
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /^kec: only SELECT, .* \(HTTP 403\)\n$/);
  const sys = await kec(['sql', 'SELECT * FROM system.settings'], { KEC_API_URL: url, KEC_API_TOKEN: TOKEN });
  assert.match(sys.stderr, /^kec: only tables of the kec database can be read .*\(HTTP 403\)\n$/);
  const none = await kec(['sql', 'SELECT 1'], { KEC_API_URL: url });
  assert.match(none.stderr, /^kec: Unauthorized: .*\(HTTP 401\)\n$/);
});

test('sql - rows render as an aligned table with a row count', () => {
  assert.equal(renderRows([]), '(0 rows)\n');
  assert.equal(
    renderRows([
      { reason: 'BackOff', n: 12 },
      { reason: 'Pulled', n: 3 },
    ]),
    'reason   n\nBackOff  12\nPulled   3\n(2 rows)\n',
  );
});

test('sql service - listens on loopback only: it has no authentication, so another KEC_SQL_HOST is a config error', () => {
  assert.equal(loadConfig(sqlConfig, { env: {} }).host, '127.0.0.1');
  assert.equal(loadConfig(sqlConfig, { env: { KEC_SQL_HOST: '::1' } }).host, '::1');
  for (const host of ['0.0.0.0', '::', '10.0.0.7']) {
    assert.throws(() => loadConfig(sqlConfig, { env: { KEC_SQL_HOST: host } }), ConfigError, host);
  }
});
