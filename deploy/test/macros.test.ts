// The test expander of the Grafana/plugin macros (macros.ts), checked against the expectations of the plugin's own
// tests (src/data/CHDatasource.test.ts "Conditional All", pkg/macros/macros_test.go).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyConditionalAll, expand, expandBackendMacros, intervalFor, replaceVariables } from './macros.ts';

const from = Date.UTC(2026, 11, 7, 10, 0, 0);
const to = Date.UTC(2026, 11, 7, 11, 0, 0);

describe('grafana macros', () => {
  test('macros - $__conditionalAll: 1=1 for All or empty, the condition otherwise, every occurrence', () => {
    const sql = 'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal);';
    const all = { value: ['$__all'], options: ['a'], multi: true };
    const some = { value: ['val1', 'val2'], options: ['val1', 'val2'], multi: true };
    assert.equal(applyConditionalAll(sql, { fieldVal: all }), 'select stuff from table where 1=1;');
    assert.equal(
      applyConditionalAll(sql, { fieldVal: some }),
      'select stuff from table where fieldVal in ($fieldVal);',
    );
    const two =
      'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal) and $__conditionalAll(fieldVal in (${fieldVal2}), ${fieldVal2});';
    assert.equal(
      applyConditionalAll(two, { fieldVal: some, fieldVal2: all }),
      'select stuff from table where fieldVal in ($fieldVal) and 1=1;',
    );
    // Nested parentheses in the condition are kept whole.
    assert.equal(applyConditionalAll('$__conditionalAll(lower(x) IN (${v}), $v)', { v: some }), 'lower(x) IN (${v})');
  });

  test('macros - variables: multi values quoted and joined, All is every option, single values as is', () => {
    const vars = {
      ns: { value: ['$__all'], options: ['a', 'b'], multi: true },
      r: { value: ['x'], options: ['x', 'y'], multi: true },
      c: { value: ['prod'], options: ['prod'], multi: false },
    };
    assert.equal(
      replaceVariables("n IN (${ns}) AND r IN ($r) AND c = '${c}' AND [[c]]", vars),
      "n IN ('a','b') AND r IN ('x') AND c = 'prod' AND prod",
    );
    assert.equal(replaceVariables('$__timeFilter(t) AND $unknown', vars), '$__timeFilter(t) AND $unknown');
  });

  test('macros - backend macros as pkg/macros/macros.go writes them', () => {
    const ctx = { fromMs: from, toMs: to, intervalMs: 60_000 };
    const f = from / 1000;
    const t = to / 1000;
    assert.equal(expandBackendMacros('$__timeFilter(ts)', ctx), `ts >= toDateTime(${f}) AND ts <= toDateTime(${t})`);
    assert.equal(
      expandBackendMacros('$__timeFilter_ms(ts)', ctx),
      `ts >= fromUnixTimestamp64Milli(${from}) AND ts <= fromUnixTimestamp64Milli(${to})`,
    );
    assert.equal(expandBackendMacros('$__fromTime AND $__toTime', ctx), `toDateTime(${f}) AND toDateTime(${t})`);
    assert.equal(
      expandBackendMacros('$__timeInterval(ts)', ctx),
      'toStartOfInterval(toDateTime(ts), INTERVAL 60 second)',
    );
    assert.equal(
      expandBackendMacros('$__timeInterval(ts)', { ...ctx, intervalMs: 200 }),
      'toStartOfInterval(toDateTime(ts), INTERVAL 1 second)',
      'at least one second',
    );
    assert.equal(expandBackendMacros('x / $__interval_s', ctx), 'x / 60');
    assert.equal(
      expandBackendMacros("$__timeGroup(ts, '5m')", ctx),
      'toStartOfInterval(toDateTime(ts), INTERVAL 300 second)',
    );
    assert.equal(
      expandBackendMacros('$__dateFilter(d)', ctx),
      "d >= toDate('2026-12-07') AND d <= toDate('2026-12-07')",
    );
    assert.equal(
      expandBackendMacros('$__timeFrom(ts) AND $__timeTo(ts)', ctx),
      `ts >= toDateTime(${f}) AND ts <= toDateTime(${t})`,
    );
    assert.equal(expandBackendMacros('$__notAMacro(x)', ctx), '$__notAMacro(x)', 'unknown macros stay');
  });

  test('macros - the whole chain, frontend then backend', () => {
    const sql =
      "SELECT $__timeInterval(minute) AS time FROM t WHERE $__timeFilter(minute) AND $__conditionalAll(ns IN (${ns}), $ns) AND c = '${c}'";
    const out = expand(sql, {
      fromMs: from,
      toMs: to,
      intervalMs: intervalFor(from, to),
      variables: {
        ns: { value: ['a'], options: ['a', 'b'], multi: true },
        c: { value: ['prod'], options: ['prod'], multi: false },
      },
    });
    assert.equal(
      out,
      `SELECT toStartOfInterval(toDateTime(minute), INTERVAL 4 second) AS time FROM t WHERE minute >= toDateTime(${from / 1000}) AND minute <= toDateTime(${to / 1000}) AND ns IN ('a') AND c = 'prod'`,
    );
  });
});
