// The HTTP backend's transport against a real ClickHouse server: the Debian clickhouse-server that `./dev setup`
// installs (18.16). That server is too old for kec's DDL (Map, LowCardinality, codecs, parameters need 19-21+;
// kec needs 24+), so these tests use a minimal table: connect, insert, query, error mapping, keep-alive reuse,
// and an insert that retries across a server stop and restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpStore, StoreQueryError, StoreUnavailableError } from '../src/index.ts';
import { clickhouseServer, type TestServer } from './clickhouse-server.ts';

describe('http store on clickhouse-server 18.16', () => {
  let server: TestServer;
  let store: HttpStore;
  const db = `kec_t${Math.random().toString(36).slice(2, 8)}`;

  before(async () => {
    server = await clickhouseServer({ keepAliveSeconds: 3 });
    store = await HttpStore.open({
      url: server.url,
      database: db,
      idleSocketTtlMs: 2_000,
      insertAttempts: 12,
      retryDelayMs: 200,
    });
    await store.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
    await store.command(
      `CREATE TABLE IF NOT EXISTS ${db}.m (id UInt64, name String, at DateTime) ENGINE = MergeTree ORDER BY id`,
    );
  });
  after(async () => {
    await store?.close();
    await server?.cleanup();
  });

  test('http - connects and reads the server version', async () => {
    const [v] = await store.query<{ v: string }>('SELECT version() AS v');
    assert.match(v?.v ?? '', /^18\.16\./);
    await store.ping();
  });

  test('http - inserts JSONEachRow rows and queries them back', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `n'"\\${i}`, at: '2026-11-22 07:00:00' }));
    await store.insert('m', rows, { token: 'batch-1' });
    const got = await store.query<{ n: number; s: number; last: string }>(
      `SELECT count() AS n, sum(id) AS s, any(name) AS last FROM ${db}.m WHERE id = 999`,
    );
    assert.deepEqual(got, [{ n: 1, s: 999, last: `n'"\\999` }]);
    const [all] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${db}.m`);
    assert.equal(all?.n, 1000);
  });

  test('http - maps server errors to StoreQueryError with the code, network errors to StoreUnavailableError', async () => {
    await assert.rejects(store.query(`SELECT * FROM ${db}.nope`), (e: unknown) => {
      assert.ok(e instanceof StoreQueryError, String(e));
      assert.equal(e.code, 60);
      assert.equal(e.retryable, false);
      return true;
    });
    await assert.rejects(
      store.command('SELEC 1'),
      (e: unknown) => e instanceof StoreQueryError && e.code === 62 && !e.retryable,
    );
    await assert.rejects(
      store.insert('nope', [{ a: 1 }]),
      (e: unknown) => e instanceof StoreQueryError && e.code === 60,
    );
    await assert.rejects(
      HttpStore.open({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 }),
      (e: unknown) => e instanceof StoreUnavailableError && e.retryable,
    );
  });

  test('http - a socket idle longer than the server keep-alive is not reused (idle_socket_ttl below it)', async () => {
    await store.ping();
    // deliberately idle past the server's keep_alive_timeout (3 s); idle_socket_ttl is 2 s
    await new Promise((r) => setTimeout(r, server.keepAliveSeconds * 1000 + 300));
    await store.ping();
  });

  test('http - an insert retries the identical batch while the server is down and lands once when it is back', async () => {
    await server.stop();
    await assert.rejects(store.ping(), (e: unknown) => e instanceof StoreUnavailableError);
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: 10_000 + i, name: 'retry', at: '2026-11-22 07:00:00' }));
    const inserting = store.insert('m', rows, { token: 'batch-2' });
    let settled = false;
    void inserting.finally(() => {
      settled = true;
    });
    // the insert is still retrying while the server is down
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(settled, false);
    await server.start();
    await inserting;
    const [c] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${db}.m WHERE name = 'retry'`);
    assert.equal(c?.n, 500);
  });
});
