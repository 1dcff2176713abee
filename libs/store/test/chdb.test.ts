// The embedded backend: migrations and retention, parameter binding, error mapping, and the one-directory rules.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ChdbStore,
  clickhouseCode,
  DEFAULT_RETENTION,
  MIGRATIONS,
  mapHttpError,
  migrate,
  StoreQueryError,
  StoreUnavailableError,
  schemaVersion,
} from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kec-store-chdb-'));
let store: ChdbStore;

before(async () => {
  store = await ChdbStore.open({ dataDir: join(dir, 'a') });
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chdb store', () => {
  test('migrate - creates every public table, twice is a no-op, retention changes the TTL in place', async () => {
    const first = await migrate(store);
    assert.deepEqual(
      first.applied,
      MIGRATIONS.map((m) => m.version),
    );
    assert.equal(await schemaVersion(store), MIGRATIONS.at(-1)?.version);
    const tables = (
      await store.query<{ name: string; engine: string }>(
        "SELECT name, engine FROM system.tables WHERE database = 'kec' ORDER BY name",
      )
    ).map((t) => `${t.name}:${t.engine}`);
    assert.deepEqual(tables, [
      'events:ReplacingMergeTree',
      'events_per_minute:View',
      'events_per_minute_mv:MaterializedView',
      'events_per_minute_state:AggregatingMergeTree',
      'gaps:ReplacingMergeTree',
      'incidents:ReplacingMergeTree',
      'occurrences:ReplacingMergeTree',
      'patterns:ReplacingMergeTree',
      'schema_migrations:ReplacingMergeTree',
    ]);
    assert.deepEqual((await migrate(store)).applied, []);
    const changed = await migrate(store, { retention: { occurrencesDays: 30, rollupDays: 730 } });
    assert.deepEqual(changed.ttlChanged.sort(), ['events_per_minute_state', 'occurrences']);
    const ttl = await store.query<{ name: string; engine_full: string }>(
      "SELECT name, engine_full FROM system.tables WHERE database = 'kec' AND name IN ('occurrences', 'events_per_minute_state', 'events') ORDER BY name",
    );
    assert.match(ttl[0]?.engine_full ?? '', /toIntervalDay\(90\)/);
    assert.match(ttl[1]?.engine_full ?? '', /toIntervalDay\(730\)/);
    assert.match(ttl[2]?.engine_full ?? '', /toIntervalDay\(30\)/);
    assert.deepEqual((await migrate(store, { retention: { occurrencesDays: 30, rollupDays: 730 } })).ttlChanged, []);
    await assert.rejects(
      migrate(store, { retention: { ...DEFAULT_RETENTION, eventsDays: 0 } }),
      /whole number of days/,
    );
  });

  test('query - parameters are bound by the engine, never spliced', async () => {
    const rows = await store.query<{ s: string; n: number; a: string[] }>(
      'SELECT {s:String} AS s, {n:UInt32} + 1 AS n, {a:Array(String)} AS a',
      { s: "x' OR '1'='1", n: 41, a: ['p', "q'"] },
    );
    assert.deepEqual(rows, [{ s: "x' OR '1'='1", n: 42, a: ['p', "q'"] }]);
  });

  test('errors - server errors carry the ClickHouse code and retryability', async () => {
    await assert.rejects(
      store.query('SELECT * FROM kec.nope'),
      (e: unknown) => e instanceof StoreQueryError && e.code === 60 && !e.retryable,
    );
    await assert.rejects(
      store.insert('events', [{ uid: 1, nonsense: true }]),
      (e: unknown) => e instanceof StoreQueryError && !e.retryable,
    );
    assert.equal(clickhouseCode('Code: 60, e.displayText() = DB::Exception'), 60);
    assert.equal(clickhouseCode('Code: 252. DB::Exception: Too many parts'), 252);
    const mapped = mapHttpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'x');
    assert.ok(mapped instanceof StoreUnavailableError && mapped.retryable);
    assert.equal(mapHttpError(new Error('Code: 252. DB::Exception: Too many parts'), 'x').retryable, true);
  });

  test('insert - JSONCompactEachRow batches (and JSONEachRow when the keys differ) store every type kec writes, and a repeated token is dropped', async () => {
    await store.command(
      `CREATE TABLE IF NOT EXISTS kec.fmt (id UInt64, s String, lc LowCardinality(String), t DateTime64(6, 'UTC'),
        nt Nullable(DateTime64(6, 'UTC')), b Bool, m Map(LowCardinality(String), String), a Array(String),
        d UInt32 DEFAULT 7) ENGINE = ReplacingMergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
    );
    const row = (id: number) => ({
      id: String(id),
      s: `q'"\\\n\t ü ${id}`,
      lc: 'Warning',
      t: '2026-12-07T20:00:00.123456Z',
      nt: id % 2 ? null : '2026-12-07T20:00:01Z',
      b: id % 2 === 0,
      m: { app: `x${id}`, 'pod-template-hash': 'abc' },
      a: ['p', `q'${id}`],
      d: 3,
    });
    const same = Array.from({ length: 100 }, (_, i) => row(i));
    await store.insert('fmt', same, { token: 'fmt-1' });
    await store.insert('fmt', same, { token: 'fmt-1' });
    // keys differ (the second row leaves d to its default): JSONEachRow
    const { d: _omitted, ...noD } = row(101);
    await store.insert('fmt', [row(100), noD], { token: 'fmt-2' });
    const got = await store.query<Record<string, unknown>>(
      `SELECT id, s, lc, t, nt, b, m, a, d FROM kec.fmt WHERE id IN (1, 2, 101) ORDER BY id`,
    );
    assert.deepEqual(got, [
      { ...row(1), id: 1, t: '2026-12-07T20:00:00.123456Z', nt: null },
      { ...row(2), id: 2, t: '2026-12-07T20:00:00.123456Z', nt: '2026-12-07T20:00:01.000000Z' },
      { ...row(101), id: 101, t: '2026-12-07T20:00:00.123456Z', nt: null, d: 7 },
    ]);
    const [n] = await store.query<{ n: number }>('SELECT count() AS n FROM kec.fmt');
    assert.equal(n?.n, 102);
    await assert.rejects(
      store.insert('fmt', [{ ...row(200), typo: 1 }]),
      (e: unknown) => e instanceof StoreQueryError && !e.retryable,
    );
    await store.command('DROP TABLE kec.fmt');
  });

  test('open - a second data directory in this process, or a directory another process holds, is StoreUnavailableError', async () => {
    await assert.rejects(
      ChdbStore.open({ dataDir: join(dir, 'b') }),
      (e: unknown) => e instanceof StoreUnavailableError,
    );
    // another process holds directory c
    const path = join(dir, 'c');
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { Session } from 'chdb'; const s = new Session(${JSON.stringify(path)}); await s.queryAsync('SELECT 1'); process.stdout.write('ready\\n'); process.stdin.on('end', () => { s.close(); process.exit(0); }); process.stdin.resume();`,
      ],
      { stdio: ['pipe', 'pipe', 'ignore'], cwd: new URL('.', import.meta.url).pathname },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      holder.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
    });
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { ChdbStore } from '@kec/store'; try { await ChdbStore.open({ dataDir: ${JSON.stringify(path)} }); process.stdout.write('opened'); } catch (e) { process.stdout.write(e.name + ' ' + e.retryable); }`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], cwd: new URL('.', import.meta.url).pathname },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((r) => child.once('exit', r));
    holder.stdin?.end();
    await new Promise((r) => holder.once('exit', r));
    assert.equal(out, 'StoreUnavailableError true');
  });
});
