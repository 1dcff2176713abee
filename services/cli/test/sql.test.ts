import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderRows } from '../src/sql-command.ts';
import { refuseSql } from '../src/sql-service.ts';

test('sql - only one read-only statement is accepted', () => {
  for (const ok of [
    'SELECT 1',
    '  with x AS (SELECT 1) SELECT * FROM x;',
    'SHOW TABLES FROM kec',
    'DESCRIBE kec.events',
    '(SELECT 1)',
  ]) {
    assert.equal(refuseSql(ok), undefined, ok);
  }
  for (const bad of [
    '',
    'INSERT INTO kec.events VALUES (1)',
    'DROP TABLE kec.events',
    'SELECT 1; DROP TABLE kec.events',
    "SELECT 1 INTO OUTFILE '/tmp/x'",
    'ALTER TABLE kec.events DELETE WHERE 1',
  ]) {
    assert.notEqual(refuseSql(bad), undefined, bad);
  }
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
