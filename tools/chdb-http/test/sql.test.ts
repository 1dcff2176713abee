// The statement preparation, the param value decoding and the error shape, without an engine.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClickHouseError, parseError } from '@clickhouse/client';
import { ChdbHttpError, exceptionBody, fromEngineError, httpStatusFor } from '../src/errors.ts';
import { bindValue } from '../src/params.ts';
import { Lexer, type PrepareOptions, prepareStatement } from '../src/sql.ts';

const none: PrepareOptions = { settings: [] };
const s = (pairs: Record<string, string>): PrepareOptions => ({
  settings: Object.entries(pairs).map(([name, value]) => ({ name, value })),
});

function rejects(fn: () => unknown, code: number): void {
  assert.throws(fn, (e: unknown) => e instanceof ChdbHttpError && e.code === code);
}

describe('lexer', () => {
  test('lexer - strings, quoted identifiers, heredocs and comments hide keywords and brackets', () => {
    const sql = `SELECT 'a;(' AS "x;)", \`y(\`, $$ ; $$ /* ( /* nested */ ; */ -- ;\n# ;\n#!x\n, 1e-3, 0x1F FROM t`;
    const words: string[] = [];
    const lexer = new Lexer(sql);
    let depth = 0;
    for (let t = lexer.next(); t; t = lexer.next()) {
      if (t.kind === 'word') words.push(t.upper);
      depth = Math.max(depth, t.depth);
      assert.notEqual(t.upper, ';');
    }
    assert.deepEqual(words, ['SELECT', 'AS', 'FROM', 'T']);
    assert.equal(depth, 0);
  });
});

describe('prepare', () => {
  test('prepare - a statement without settings runs as written; the format is its FORMAT, else default_format, else TabSeparated', () => {
    assert.deepEqual(
      [
        prepareStatement('SELECT 1', none),
        prepareStatement('SELECT 1 \nFORMAT JSONEachRow', none),
        prepareStatement('SELECT 1', { settings: [], defaultFormat: 'CSV' }),
      ].map((p) => [p.sql, p.outputFormat, p.kind, p.action]),
      [
        ['SELECT 1', 'TabSeparated', 'SELECT', 'run'],
        ['SELECT 1 \nFORMAT JSONEachRow', 'JSONEachRow', 'SELECT', 'run'],
        ['SELECT 1', 'CSV', 'SELECT', 'run'],
      ],
    );
    assert.equal(prepareStatement('SELECT 1 AS format', none).outputFormat, 'TabSeparated');
    assert.equal(prepareStatement('(SELECT 1) UNION ALL (SELECT 2)', none).kind, '(');
  });

  test('prepare - settings become a SETTINGS clause after FORMAT, with string values; the statement’s own win', () => {
    assert.equal(
      prepareStatement('SELECT 1', s({ max_threads: '1', x: "it's" })).sql,
      "SELECT 1\nFORMAT TabSeparated\nSETTINGS max_threads = '1', x = 'it\\'s'",
    );
    assert.equal(
      prepareStatement('SELECT 1 FORMAT JSON', s({ max_threads: '1' })).sql,
      "SELECT 1 FORMAT JSON\nSETTINGS max_threads = '1'",
    );
    assert.equal(
      prepareStatement('SELECT 1 FORMAT JSON SETTINGS max_threads = 4', s({ max_threads: '1', max_block_size: '9' }))
        .sql,
      "SELECT 1 FORMAT JSON SETTINGS max_threads = 4, max_block_size = '9'",
    );
    assert.equal(
      prepareStatement(
        'CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 8',
        s({ a: '1' }),
      ).sql,
      "CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 8\nFORMAT TabSeparated\nSETTINGS a = '1'",
    );
  });

  test('prepare - a trailing comment or semicolon cannot swallow the settings; a second statement is refused', () => {
    assert.equal(
      prepareStatement('SELECT 1 -- why\n;;', s({ a: '1' })).sql,
      "SELECT 1\nFORMAT TabSeparated\nSETTINGS a = '1'",
    );
    assert.equal(prepareStatement("SELECT ';' ; ", none).sql, "SELECT ';'");
    rejects(() => prepareStatement('SELECT 1; DROP TABLE t', none), 62);
    rejects(() => prepareStatement('  -- nothing\n', none), 62);
  });

  test('prepare - INSERT: settings go before the data clause, the data is never touched', () => {
    const data = '\n{"a":"FORMAT; SETTINGS \' -- x"}\n';
    const p = prepareStatement(`INSERT INTO kec.t FORMAT JSONEachRow${data}`, s({ insert_deduplication_token: 't1' }));
    assert.equal(p.sql, `INSERT INTO kec.t SETTINGS insert_deduplication_token = 't1' FORMAT JSONEachRow${data}`);
    assert.equal(p.outputFormat, undefined);
    assert.equal(
      prepareStatement(
        `INSERT INTO t (a, b) SETTINGS async_insert = 1 -- c\nFORMAT CSV${data}`,
        s({ async_insert: '0', x: '1' }),
      ).sql,
      `INSERT INTO t (a, b) SETTINGS async_insert = 1, x = '1' -- c\nFORMAT CSV${data}`,
    );
    assert.equal(
      prepareStatement('INSERT INTO t (* EXCEPT (b)) VALUES (1)', s({ x: '1' })).sql,
      "INSERT INTO t (* EXCEPT (b)) SETTINGS x = '1' VALUES (1)",
    );
    assert.equal(
      prepareStatement('INSERT INTO t SELECT {n:UInt8}', s({ x: '1' })).sql,
      "INSERT INTO t SETTINGS x = '1' SELECT {n:UInt8}",
    );
    assert.equal(prepareStatement('INSERT INTO t FORMAT JSONEachRow\n  \n', s({ x: '1' })).action, 'skip');
    rejects(() => prepareStatement('INSERT INTO t FORMAT RowBinary\nabc', none), 48);
    rejects(() => prepareStatement("INSERT INTO t FROM INFILE 'x' FORMAT CSV", none), 78);
    rejects(() => prepareStatement('INSERT INTO t SELECT 1; SELECT 2', none), 62);
  });

  test('prepare - statements that would change the shared session are checked but not run on it', () => {
    assert.equal(prepareStatement('USE db2', none).sql, 'SHOW CREATE DATABASE db2 FORMAT Null');
    assert.equal(prepareStatement('SET max_threads = 1', none).sql, 'SELECT 1 FORMAT Null SETTINGS max_threads = 1');
    for (const sql of ['SET ROLE r', 'BEGIN TRANSACTION', 'COMMIT', 'CREATE TEMPORARY TABLE x (a UInt8)']) {
      rejects(() => prepareStatement(sql, none), 113);
    }
    rejects(() => prepareStatement("SELECT 1 INTO OUTFILE '/tmp/x'", none), 358);
  });

  test('prepare - statements without a SETTINGS clause run bare, and refuse settings they cannot take', () => {
    assert.equal(prepareStatement('SYSTEM FLUSH LOGS', none).sql, 'SYSTEM FLUSH LOGS');
    rejects(() => prepareStatement('SYSTEM FLUSH LOGS', s({ max_threads: '1' })), 48);
    rejects(() => prepareStatement('SYSTEM FLUSH LOGS', { ...s({ readonly: '2' }), readonly: true }), 164);
    rejects(() => prepareStatement('CREATE USER u', s({ max_threads: '1' })), 48);
    assert.equal(
      prepareStatement('DELETE FROM t WHERE a = 1', s({ mutations_sync: '1' })).sql,
      "DELETE FROM t WHERE a = 1\nSETTINGS mutations_sync = '1'",
    );
    rejects(() => prepareStatement('SELECT 1', s({ 'x; DROP': '1' })), 115);
    rejects(() => prepareStatement('SELECT 1', { settings: [], defaultFormat: 'JSON; DROP' }), 73);
  });

  test('prepare - placeholders and their types, not inside literals', () => {
    const p = prepareStatement("SELECT {a:String}, '{b:String}', {m: Map(String, Array(UInt8))}, {'k':1}", none);
    assert.deepEqual(
      [...p.paramTypes],
      [
        ['a', 'String'],
        ['m', 'Map(String, Array(UInt8))'],
      ],
    );
  });
});

describe('params', () => {
  test('params - Escaped text decodes to the value chdb re-escapes to the same text', () => {
    // what @clickhouse/client sends for "it's<TAB>a\b" and ["p'", "q\\r<NL>"]
    assert.equal(bindValue("it\\'s\\ta\\\\b", 'String'), "it's\ta\\b");
    assert.equal(bindValue("['p\\'','q\\\\r\\n']", 'Array(String)'), "['p''','q\\r\n']");
    assert.equal(bindValue('\\N', 'Nullable(String)'), null);
    assert.equal(bindValue('\\xC3\\xA9', 'String'), 'é');
    assert.equal(bindValue("{'k\\'':1}", 'LowCardinality(Nullable(Map(String, UInt8)))'), "{'k''':1}");
  });
});

describe('errors', () => {
  test('errors - chdb messages become one ClickHouse exception line the client parses', () => {
    const engineError = Object.assign(
      new Error(
        "Code: 115. DB::Exception: Code: 115. DB::Exception: Unknown setting 'x': Maybe you meant ['y']. (UNKNOWN_SETTING) (version 26.7.2.1). (UNKNOWN_SETTING)",
      ),
      { clickhouseCode: 115 },
    );
    const e = fromEngineError(engineError);
    assert.equal(e.code, 115);
    assert.equal(e.type, 'UNKNOWN_SETTING');
    const body = exceptionBody(e, '26.7.2.1');
    assert.equal(
      body,
      "Code: 115. DB::Exception: Unknown setting 'x': Maybe you meant ['y']. (UNKNOWN_SETTING) (version 26.7.2.1)\n",
    );
    const parsed = parseError(body);
    assert.ok(parsed instanceof ClickHouseError);
    assert.equal(parsed.code, '115');
    assert.equal(parsed.type, 'UNKNOWN_SETTING');
    assert.equal(httpStatusFor(115), 404);
    assert.equal(httpStatusFor(62), 400);
    assert.equal(httpStatusFor(241), 500);
    const closed = fromEngineError(Object.assign(new Error('No active connection'), { name: 'ChdbClosedError' }));
    assert.deepEqual([closed.code, closed.type, closed.retryable], [210, 'NETWORK_ERROR', true]);
  });
});
