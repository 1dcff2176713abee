// POST /api/v1/sql on both backends: read-only enforced by the engine, and the attack list refused or cut with a
// clear error, with no file read, no connection made, and the process unharmed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SqlResponse, Status } from '../src/schemas.ts';
import { checkAst } from '../src/sql.ts';
import { fixture, HOUR } from './fixture.ts';
import { type Backend, get, type Harness, SQL_LIMITS, sql, startHarness, TOKENS, writeEvents } from './harness.ts';

let h: Harness;
let listener: Server;
let port = 0;
let connections = 0;
let secretFile = '';
const SECRET = `kec-secret-${Math.random().toString(36).slice(2)}`;
const base = Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR;
let eventRows = 0;

before(async () => {
  h = await startHarness();
  await writeEvents(h.writer, fixture(base).events);
  eventRows = ((await h.writer.query<{ n: number }>('SELECT count() AS n FROM kec.events'))[0] as { n: number }).n;
  secretFile = join(h.dir, 'secret.txt');
  writeFileSync(secretFile, SECRET);
  // a local listener that no statement may reach
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as { port: number }).port;
});
after(async () => {
  await new Promise<void>((r) => listener?.close(() => r()));
  await h?.close();
});

const each = async (fn: (b: Backend) => Promise<void>) => {
  for (const b of h.backends) await fn(b);
};

describe('api sql', () => {
  test('sql - a SELECT returns columns with types and rows; params are bound; text/plain works', async () => {
    await each(async (b) => {
      const r = await sql<SqlResponse>(
        b.app,
        'SELECT reason, count() AS n FROM kec.events WHERE namespace = {ns:String} GROUP BY reason ORDER BY reason',
        TOKENS.sql,
        { ns: 'shop' },
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.columns, [
        { name: 'reason', type: 'LowCardinality(String)' },
        { name: 'n', type: 'UInt64' },
      ]);
      assert.deepEqual(r.body.rows, [
        { reason: 'BackOff', n: 3 },
        { reason: 'ScalingReplicaSet', n: 1 },
      ]);
      // unqualified names resolve in the kec database; SHOW and DESCRIBE work
      const u = await sql<SqlResponse>(b.app, '/* a comment */ select count() as n from events -- trailing');
      assert.deepEqual(u.body.rows, [{ n: eventRows }]);
      assert.equal((await sql<SqlResponse>(b.app, 'SHOW TABLES')).status, 200);
      const fromKec = await sql<SqlResponse>(b.app, 'SHOW TABLES FROM kec');
      assert.equal(fromKec.status, 200);
      assert.ok(
        fromKec.body.rows.some((r) => r.name === 'events'),
        JSON.stringify(fromKec.body.rows),
      );
      assert.equal((await sql<SqlResponse>(b.app, 'SHOW CREATE TABLE kec.incidents')).status, 200);
      assert.equal((await sql<SqlResponse>(b.app, 'DESCRIBE TABLE kec.incidents')).status, 200);
      assert.equal((await sql<SqlResponse>(b.app, 'SELECT number FROM numbers(3)')).body.rows.length, 3);
      const text = await b.app.inject({
        method: 'POST',
        url: '/api/v1/sql',
        headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'text/plain' },
        payload: 'SELECT 1 AS one',
      });
      assert.deepEqual(text.json().rows, [{ one: 1 }]);
    });
  });

  test('sql - auth: read scope 403, no token 401', async () => {
    await each(async (b) => {
      assert.equal((await sql<Status>(b.app, 'SELECT 1', TOKENS.read)).status, 403);
      assert.equal((await sql<Status>(b.app, 'SELECT 1', null)).status, 401);
    });
  });

  const attacks: [string, string, number, RegExp][] = [
    ['file() table function', `SELECT * FROM file('${'SECRET'}', 'LineAsString')`, 403, /readonly|not allowed/i],
    ['file() scalar function', `SELECT file('${'SECRET'}') AS x`, 403, /function file\(\) is not allowed/],
    [
      'url() table function',
      `SELECT * FROM url('http://127.0.0.1:PORT/x', 'LineAsString')`,
      403,
      /readonly|not allowed/i,
    ],
    ['s3()', `SELECT * FROM s3('http://127.0.0.1:PORT/bucket-a/k.csv', 'CSV')`, 403, /readonly|not allowed/i],
    ['remote()', `SELECT * FROM remote('127.0.0.1:PORT', kec.events)`, 403, /readonly|not allowed/i],
    ['remoteSecure()', `SELECT * FROM remoteSecure('127.0.0.1:PORT', kec.events)`, 403, /readonly|not allowed/i],
    ['mysql()', `SELECT * FROM mysql('127.0.0.1:PORT', 'db', 't', 'u', 'p')`, 403, /readonly|not allowed/i],
    ['postgresql()', `SELECT * FROM postgresql('127.0.0.1:PORT', 'db', 't', 'u', 'p')`, 403, /readonly|not allowed/i],
    ['hdfs()', `SELECT * FROM hdfs('hdfs://127.0.0.1:PORT/x', 'CSV')`, 403, /readonly|not allowed/i],
    [
      'executable()',
      `SELECT * FROM executable('cat /etc/passwd', 'LineAsString', 'x String')`,
      403,
      /readonly|not allowed/i,
    ],
    [
      'merge() over system',
      `SELECT * FROM merge('system', '^settings$')`,
      403,
      /table function merge\(\) is not allowed/,
    ],
    ['cluster()', `SELECT * FROM cluster('default', system.one)`, 403, /not allowed/],
    [
      'view() over system',
      `SELECT * FROM view(SELECT name, value FROM system.settings)`,
      403,
      /only tables of the kec database/,
    ],
    ['system.settings', 'SELECT name, value FROM system.settings', 403, /only tables of the kec database/],
    ['system.users', 'SELECT * FROM system.users', 403, /only tables of the kec database/],
    ['system.processes', 'SELECT query FROM system.processes', 403, /only tables of the kec database/],
    ['quoted system table', 'SELECT * FROM `system`.`settings`', 403, /only tables of the kec database/],
    ['information_schema', 'SELECT * FROM information_schema.tables', 403, /only tables of the kec database/],
    ['IN a system table', "SELECT 1 WHERE 'readonly' IN system.settings", 403, /only tables of the kec database/],
    [
      'system table in a CTE',
      'WITH s AS (SELECT * FROM system.settings) SELECT * FROM s',
      403,
      /only tables of the kec database/,
    ],
    ['getSetting()', "SELECT getSetting('max_execution_time')", 403, /function getSetting\(\) is not allowed/],
    ['getServerSetting()', "SELECT getServerSetting('path')", 403, /not allowed/],
    ['dictGet()', "SELECT dictGet('system.d', 'x', 1)", 403, /not allowed/],
    ['SHOW SETTINGS', "SHOW SETTINGS LIKE 'max%'", 403, /only SELECT/],
    ['SHOW PROCESSLIST', 'SHOW PROCESSLIST', 403, /only SELECT/],
    ['SHOW USERS', 'SHOW USERS', 403, /only SELECT/],
    ['multi-statement', 'SELECT 1; SELECT 2', 400, /Multi-statements are not allowed/],
    ['multi-statement with a write', "SELECT 1; INSERT INTO kec.gaps (cluster) VALUES ('x')", 400, /Multi-statements/],
    ['comment hiding a second statement', 'SELECT 1 /* ; */; DROP TABLE kec.events', 400, /Multi-statements/],
    ['INSERT', "INSERT INTO kec.gaps (cluster) VALUES ('x')", 403, /only SELECT/],
    ['INSERT SELECT', 'INSERT INTO kec.gaps SELECT * FROM kec.gaps', 403, /only SELECT/],
    ['CREATE', 'CREATE TABLE kec.x (a UInt8) ENGINE = Memory', 403, /only SELECT/],
    ['DROP', 'DROP TABLE kec.events', 403, /only SELECT/],
    ['ALTER DELETE', 'ALTER TABLE kec.events DELETE WHERE 1', 403, /only SELECT/],
    ['TRUNCATE', 'TRUNCATE TABLE kec.events', 403, /only SELECT/],
    ['SET', 'SET readonly = 0', 403, /only SELECT/],
    ['SETTINGS readonly=0', 'SELECT 1 SETTINGS readonly = 0', 403, /readonly/i],
    ['SETTINGS lifting the time limit', 'SELECT 1 SETTINGS max_execution_time = 1000', 403, /readonly/i],
    ['SETTINGS lifting the row limit', 'SELECT number FROM numbers(10) SETTINGS max_result_rows = 0', 403, /readonly/i],
    ['SETTINGS lifting memory', 'SELECT 1 SETTINGS max_memory_usage = 0', 403, /readonly/i],
    ['INTO OUTFILE', "SELECT * FROM kec.events INTO OUTFILE 'OUTFILE'", 403, /INTO OUTFILE/],
    ['INTO OUTFILE after a comment', "SELECT 1 /* x */ INTO /**/ OUTFILE 'OUTFILE' FORMAT CSV", 403, /INTO OUTFILE/],
    ['FORMAT', 'SELECT 1 FORMAT TabSeparated', 403, /FORMAT/],
    ['EXPLAIN INTO OUTFILE', "EXPLAIN SELECT 1 INTO OUTFILE 'OUTFILE'", 403, /INTO OUTFILE/],
    ['DESCRIBE INTO OUTFILE', "DESCRIBE TABLE kec.events INTO OUTFILE 'OUTFILE'", 403, /INTO OUTFILE/],
    ['SHOW TABLES INTO OUTFILE', "SHOW TABLES INTO OUTFILE 'OUTFILE'", 403, /INTO OUTFILE/],
    ['SHOW TABLES FROM system', 'SHOW TABLES FROM system', 403, /only tables of the kec database/],
    ['SHOW TABLES FROM kec FORMAT', 'SHOW TABLES FROM kec FORMAT CSV', 403, /FORMAT/],
    ['SHOW CREATE TABLE of a system table', 'SHOW CREATE TABLE system.users', 403, /only tables of the kec database/],
    ['SHOW COLUMNS (its table is not in the AST)', 'SHOW COLUMNS FROM system.users', 403, /SHOW COLUMNS/],
    [
      'Identifier parameter naming a system table',
      'SELECT * FROM {t:Identifier}',
      403,
      /only tables of the kec database|Identifier/,
    ],
    ['introspection', 'SELECT addressToSymbol(toUInt64(1))', 400, /introspection/i],
    [
      'a query that would run for minutes',
      'SELECT count() FROM numbers(100000000000000)',
      504,
      /Timeout exceeded|timeout/i,
    ],
    ['sleep beyond the limit', 'SELECT sleepEachRow(0.29) FROM numbers(10)', 504, /Timeout exceeded/i],
    ['a query that would allocate gigabytes', 'SELECT length(range(200000000)) AS n', 400, /memory limit/i],
    ['a result of gigabytes', "SELECT repeat('x', 1000000) FROM numbers(100000)", 400, /memory limit/i],
  ];

  for (const [name, text, code, message] of attacks) {
    test(`sql - refused: ${name}`, async () => {
      const q = text
        .replaceAll('PORT', String(port))
        .replaceAll("'SECRET'", `'${secretFile}'`)
        .replaceAll("OUTFILE'", `${join(h.dir, 'out.txt')}'`);
      await each(async (b) => {
        const t0 = Date.now();
        const r = await sql<Status>(
          b.app,
          q,
          TOKENS.sql,
          name.startsWith('Identifier') ? { t: 'system.settings' } : undefined,
        );
        assert.equal(r.status, code, `${b.name} ${name}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.kind, 'Status');
        assert.match(r.body.message, message, `${b.name} ${name}`);
        assert.ok(!JSON.stringify(r.body).includes(SECRET), 'the secret file was read');
        assert.ok(Date.now() - t0 < (SQL_LIMITS.timeoutSeconds + 20) * 1000);
      });
    });
  }

  test('sql - a large result is cut at the row limit and flagged', async () => {
    await each(async (b) => {
      const r = await sql<SqlResponse>(b.app, 'SELECT number FROM numbers(1000000)');
      assert.equal(r.status, 200);
      assert.equal(r.body.rows.length, SQL_LIMITS.maxRows);
      assert.equal(r.body.truncated, true);
    });
  });

  test('sql - after the attacks: no connection was made, no file written, data intact, the API still answers', async () => {
    assert.equal(connections, 0, 'a statement reached the local listener');
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(join(h.dir, 'out.txt')), false);
    const n = await h.writer.query<{ n: number }>('SELECT count() AS n FROM kec.events');
    assert.equal(n[0]?.n, eventRows);
    assert.equal((await h.writer.query('SELECT * FROM kec.gaps')).length, 0);
    await each(async (b) => {
      assert.deepEqual((await sql<SqlResponse>(b.app, 'SELECT 1 AS ok')).body.rows, [{ ok: 1 }]);
      assert.equal((await get(b.app, '/api/v1/events?limit=1')).status, 200);
    });
    // the writer's own connection is not read-only
    await h.writer.command('SELECT 1 SETTINGS max_threads = 1');
  });

  test('sql - the AST check (unit): table functions, functions and databases', () => {
    assert.throws(() => checkAst(['SelectWithUnionQuery', ' ExpressionList', '  TableIdentifier system.one'], 'kec'));
    assert.doesNotThrow(() =>
      checkAst(['SelectWithUnionQuery', ' ExpressionList', '  TableIdentifier kec.events'], 'kec'),
    );
    assert.doesNotThrow(() => checkAst(['  TableExpression (children 1)', '   Function numbers (children 1)'], 'kec'));
    assert.throws(() => checkAst(['  TableExpression (children 1)', '   Function url (children 1)'], 'kec'));
    assert.throws(() => checkAst(['   Function FILE (children 1)'], 'kec'));
    assert.doesNotThrow(() => checkAst(['   Identifier e.uid'], 'kec'));
    assert.throws(() => checkAst(['   Identifier SYSTEM.settings'], 'kec'));
  });
});
