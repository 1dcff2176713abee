// The server against the real engine (chdb) through the real client (@clickhouse/client), plus the raw protocol.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type ClickHouseClient, ClickHouseError, createClient } from '@clickhouse/client';
import { type ChdbHttp, startChdbHttp } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kec-chdb-http-'));
let ch: ChdbHttp;
let client: ClickHouseClient;
const clients: ClickHouseClient[] = [];

function newClient(config: Parameters<typeof createClient>[0] = {}): ClickHouseClient {
  const c = createClient({ url: ch.url, ...config, log: { level: 127 as never } });
  clients.push(c);
  return c;
}

async function rows<T>(c: ClickHouseClient, query: string, extra: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await c.query({ query, format: 'JSONEachRow', ...extra });
  return rs.json<T>();
}

async function rejectsWith(p: Promise<unknown>, code: string, type?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ClickHouseError, `expected a ClickHouseError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (type) assert.equal(e.type, type);
    return true;
  });
}

before(async () => {
  ch = await startChdbHttp({ dataDir: dir });
  client = newClient();
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chdb-http', () => {
  test('ping - /ping, GET / and the client’s ping (both kinds) answer Ok.', async () => {
    assert.deepEqual(await client.ping(), { success: true });
    assert.deepEqual(await client.ping({ select: true }), { success: true });
    for (const path of ['/ping', '/']) {
      const r = await fetch(`${ch.url}${path}`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'Ok.\n');
    }
    const missing = await fetch(`${ch.url}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
  });

  test('query - command creates a table, JSONEachRow inserts come back in JSONEachRow and JSON', async () => {
    await client.command({
      query: "CREATE TABLE basic (id UInt32, name String, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id",
    });
    const values = [
      { id: 1, name: "it's", at: '2026-01-02T03:04:05.678Z' },
      { id: 2, name: 'tab\there\nnewline \\ back', at: '2026-01-02T03:04:06Z' },
    ];
    const ins = await client.insert({
      table: 'basic',
      values,
      format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    assert.equal(ins.executed, true);
    const each = await rows<{ id: number; name: string; at: string }>(
      client,
      'SELECT id, name, at FROM basic ORDER BY id',
      {
        clickhouse_settings: { date_time_output_format: 'iso' },
      },
    );
    assert.deepEqual(each, [
      { id: 1, name: "it's", at: '2026-01-02T03:04:05.678Z' },
      { id: 2, name: 'tab\there\nnewline \\ back', at: '2026-01-02T03:04:06.000Z' },
    ]);
    const json = await (await client.query({ query: 'SELECT id, name FROM basic ORDER BY id', format: 'JSON' })).json<{
      id: number;
      name: string;
    }>();
    assert.deepEqual(
      json.data.map((r) => r.name),
      values.map((v) => v.name),
    );
    assert.equal(json.rows, 2);
    assert.deepEqual(
      json.meta?.map((m) => m.name),
      ['id', 'name'],
    );
    // exec: the whole SQL with its own FORMAT, the response stream read by the caller
    const ex = await client.exec({ query: 'SELECT count() AS n FROM basic FORMAT CSV' });
    let text = '';
    for await (const chunk of ex.stream) text += chunk;
    assert.equal(text, '2\n');
    assert.equal(ex.response_headers['x-clickhouse-format'], 'CSV');
    // an empty insert stream is a success, as on a ClickHouse server
    const empty = await client.exec({ query: 'INSERT INTO basic FORMAT JSONEachRow', values: Readable.from([]) });
    for await (const _ of empty.stream) {
    }
  });

  test('settings - URL settings apply to that statement, and to it only', async () => {
    const q = "SELECT toUInt64(12345678901234) AS big, toDateTime(0, 'UTC') AS t";
    const quoted = await rows<{ big: unknown; t: string }>(client, q, {
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1, date_time_output_format: 'iso' },
    });
    const bare = await rows<{ big: unknown; t: string }>(client, q, {
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    assert.deepEqual(quoted, [{ big: '12345678901234', t: '1970-01-01T00:00:00Z' }]);
    assert.deepEqual(bare, [{ big: 12345678901234, t: '1970-01-01 00:00:00' }]);
    // a setting the engine does not know is refused, as by a server
    await rejectsWith(
      rows(client, 'SELECT 1', { clickhouse_settings: { no_such_setting: 1 } as never }),
      '115',
      'UNKNOWN_SETTING',
    );
    // SET and USE are checked, but do not leak into the shared engine session
    await client.command({ query: 'SET max_threads = 1' });
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS other' });
    await client.command({ query: 'USE other' });
    const after = await rows<{ db: string; m: string }>(
      client,
      "SELECT currentDatabase() AS db, getSetting('max_threads') AS m",
    );
    assert.equal(after[0]?.db, 'default');
    assert.notEqual(String(after[0]?.m), '1');
    await rejectsWith(client.command({ query: 'SET no_such_setting = 1' }), '115');
    await rejectsWith(client.command({ query: 'USE no_such_db' }), '81');
  });

  test('params - param_<name> values bind {name:Type} placeholders exactly as the client formats them', async () => {
    const query_params = {
      s: "x' OR '1'='1 \t\n\\",
      n: 41,
      a: ["p'", 'q\\r\n', ''],
      m: { "k'": 1, k2: 2 },
      z: null,
      d: new Date('2026-03-04T05:06:07Z'),
    };
    const got = await rows<Record<string, unknown>>(
      client,
      "SELECT {s:String} AS s, {n:UInt32} + 1 AS n, {a:Array(String)} AS a, {m:Map(String, UInt8)} AS m, {z:Nullable(String)} AS z, toString({d:DateTime('UTC')}) AS d",
      { query_params },
    );
    assert.deepEqual(got, [
      { s: query_params.s, n: 42, a: query_params.a, m: query_params.m, z: null, d: '2026-03-04 05:06:07' },
    ]);
    // over the URL budget the client sends them as multipart/form-data
    const long = 'é'.repeat(5000);
    const multi = await rows<{ s: string }>(newClient({ use_multipart_params: true }), 'SELECT {s:String} AS s', {
      query_params: { s: long },
    });
    assert.equal(multi[0]?.s, long);
    await rejectsWith(rows(client, 'SELECT {missing:String}'), '456');
  });

  test('errors - an unknown table is ClickHouseError 60 with the server’s status, header and body', async () => {
    await rejectsWith(rows(client, 'SELECT * FROM no_such_table'), '60', 'UNKNOWN_TABLE');
    await rejectsWith(client.command({ query: 'CREAT TABLE x' }), '62', 'SYNTAX_ERROR');
    await rejectsWith(client.insert({ table: 'no_such_table', values: [{ a: 1 }], format: 'JSONEachRow' }), '60');
    const r = await fetch(`${ch.url}/?query=${encodeURIComponent('SELECT * FROM no_such_table')}`);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('x-clickhouse-exception-code'), '60');
    assert.match(
      await r.text(),
      /^Code: 60\. DB::Exception: Unknown table expression identifier 'no_such_table'.*\. \(UNKNOWN_TABLE\) \(version \d+\.\d+[.\d]*\)\n$/,
    );
    // one statement per request, as ClickHouse: nothing of a multi-statement runs
    await rejectsWith(client.command({ query: 'SELECT 1; DROP TABLE basic' }), '62');
    assert.deepEqual(await rows(client, 'EXISTS TABLE basic'), [{ result: 1 }]);
    // GET is readonly
    const get = await fetch(`${ch.url}/?query=${encodeURIComponent('CREATE TABLE ro (a UInt8) ENGINE = Memory')}`);
    assert.equal(get.headers.get('x-clickhouse-exception-code'), '164');
    await get.text();
    // HTTP sessions are refused rather than silently ignored
    await rejectsWith(rows(client, 'SELECT 1', { session_id: 's1' }), '48');
  });

  test('dedup - the same rows with the same insert_deduplication_token are stored once', async () => {
    await client.command({
      query:
        'CREATE TABLE dedup (k UInt32, v String) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100',
    });
    const values = [
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
    ];
    const insert = (token: string) =>
      client.insert({
        table: 'dedup',
        values,
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: token },
      });
    await insert('batch-1');
    await insert('batch-1'); // a retry of a batch the server wrote
    assert.deepEqual(await rows(client, 'SELECT count() AS n FROM dedup'), [{ n: 2 }]);
    await insert('batch-2'); // the same rows under another token are another batch: the token decides
    assert.deepEqual(await rows(client, 'SELECT count() AS n FROM dedup'), [{ n: 4 }]);
    // insert settings reach the engine: an unknown field is an error, unless input_format_skip_unknown_fields
    const extra = [{ k: 3, v: 'c', unknown: 1 }];
    await rejectsWith(
      client.insert({
        table: 'dedup',
        values: extra,
        format: 'JSONEachRow',
        clickhouse_settings: { input_format_skip_unknown_fields: 0 },
      }),
      '117',
      'INCORRECT_DATA',
    );
    await client.insert({
      table: 'dedup',
      values: extra,
      format: 'JSONEachRow',
      clickhouse_settings: { input_format_skip_unknown_fields: 1 },
    });
    assert.deepEqual(await rows(client, 'SELECT count() AS n FROM dedup'), [{ n: 5 }]);
  });

  test('concurrency - two clients insert at once, with different current databases', async () => {
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS second' });
    await client.command({ query: 'CREATE TABLE conc (c UInt8, i UInt32) ENGINE = MergeTree ORDER BY (c, i)' });
    await client.command({ query: 'CREATE TABLE second.conc (c UInt8, i UInt32) ENGINE = MergeTree ORDER BY (c, i)' });
    const a = newClient();
    const b = newClient({ database: 'second' });
    const batches = 15;
    const work = [a, b].flatMap((c, n) =>
      Array.from({ length: batches }, (_, i) =>
        c.insert({
          table: 'conc',
          values: Array.from({ length: 100 }, (_, j) => ({ c: n, i: i * 100 + j })),
          format: 'JSONEachRow',
          clickhouse_settings: { insert_deduplication_token: `c${n}-${i}` },
        }),
      ),
    );
    const dbs = Array.from({ length: 10 }, (_, i) =>
      rows<{ db: string }>(i % 2 ? b : a, 'SELECT currentDatabase() AS db').then((r) => r[0]?.db),
    );
    await Promise.all(work);
    assert.deepEqual(
      await Promise.all(dbs),
      Array.from({ length: 10 }, (_, i) => (i % 2 ? 'second' : 'default')),
    );
    assert.deepEqual(await rows(client, 'SELECT c, count() AS n FROM conc GROUP BY c'), [{ c: 0, n: batches * 100 }]);
    assert.deepEqual(await rows(client, 'SELECT c, count() AS n FROM second.conc GROUP BY c'), [
      { c: 1, n: batches * 100 },
    ]);
    await rejectsWith(rows(newClient({ database: 'no_such_db' }), 'SELECT 1'), '81', 'UNKNOWN_DATABASE');
    assert.deepEqual(await rows(a, 'SELECT 1 AS one'), [{ one: 1 }], 'a failed switch leaves the others working');
  });

  test('compression - gzip request bodies and gzip responses when asked', async () => {
    const gz = newClient({ compression: { request: true, response: true } });
    await gz.command({ query: 'CREATE TABLE zipped (a UInt32) ENGINE = MergeTree ORDER BY a' });
    await gz.insert({ table: 'zipped', values: [{ a: 7 }, { a: 8 }], format: 'JSONEachRow' });
    assert.deepEqual(await rows(gz, 'SELECT sum(a) AS s FROM zipped'), [{ s: 15 }]);
    await rejectsWith(rows(gz, 'SELECT * FROM no_such_table'), '60');
    const r = await fetch(`${ch.url}/?enable_http_compression=1`, {
      method: 'POST',
      body: 'SELECT 42',
      headers: { 'Accept-Encoding': 'gzip' },
    });
    // fetch decodes transparently; the header says what came over the wire
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    assert.equal(await r.text(), '42\n');
  });
});
