// The cluster rendering of every migration, checked against the single-node schema: the same columns, engine
// arguments, partitioning, sort keys, TTLs and indexes on the replicated `_local` tables, a Distributed table under
// each public name, and materialized views between local tables. No ClickHouse server with Keeper runs here, so
// the DDL is compared as text, statement by statement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterStatement, clusterStatements, DEFAULT_RETENTION, MIGRATIONS } from '../src/index.ts';

const o = { cluster: 'kec_cluster', database: 'kec' };
const single = MIGRATIONS.flatMap((m) => m.statements('kec', DEFAULT_RETENTION));
const rendered = clusterStatements(single, o);

/** The parts of a CREATE TABLE that must not change: the column list and everything after the engine. */
function shape(sql: string): { columns: string; engineArgs: string; tail: string } {
  const open = sql.indexOf('(');
  const engineAt = sql.indexOf(') ENGINE = ');
  const columns = sql.slice(open + 1, engineAt);
  const after = sql.slice(engineAt + ') ENGINE = '.length);
  const m = /^(\w+)(\(([^)]*)\))?/.exec(after) as RegExpExecArray;
  return {
    columns,
    engineArgs: m[3] ?? '',
    tail: after.slice(m[0].length).replace(/non_replicated_deduplication_window/g, 'replicated_deduplication_window'),
  };
}

test('cluster ddl - every single-node table has a replicated _local twin with the same columns, keys and TTL', () => {
  const tables = single.filter((s) => s.startsWith('CREATE TABLE'));
  assert.ok(tables.length >= 6);
  for (const sql of tables) {
    const name = /kec\.(\w+) \(/.exec(sql)?.[1] as string;
    const local = rendered.find((s) =>
      s.startsWith(`CREATE TABLE IF NOT EXISTS kec.${name}_local ON CLUSTER 'kec_cluster' (`),
    );
    assert.ok(local, `${name}_local`);
    const a = shape(sql);
    const b = shape(local);
    assert.equal(b.columns, a.columns, `${name}: columns and indexes`);
    assert.equal(b.tail, a.tail, `${name}: PARTITION BY, ORDER BY, TTL, SETTINGS`);
    const engine = /ENGINE = (\w+)/.exec(sql)?.[1] as string;
    const replicated = `ENGINE = Replicated${engine}('/clickhouse/tables/{shard}/kec/${name}_local', '{replica}'${a.engineArgs ? `, ${a.engineArgs}` : ''})`;
    assert.ok(local.includes(replicated), `${name}: ${replicated}`);
    const order = /\nORDER BY \((.*)\)\n/.exec(sql)?.[1];
    const dist = rendered.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS kec.${name} ON CLUSTER`));
    assert.equal(
      dist,
      `CREATE TABLE IF NOT EXISTS kec.${name} ON CLUSTER 'kec_cluster' AS kec.${name}_local ENGINE = Distributed('kec_cluster', 'kec', '${name}_local', cityHash64(${order}))`,
    );
  }
});

test('cluster ddl - materialized views connect local tables; plain views read the Distributed tables', () => {
  const mv = rendered.find((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
  assert.match(
    mv ?? '',
    /^CREATE MATERIALIZED VIEW IF NOT EXISTS kec\.events_per_minute_mv ON CLUSTER 'kec_cluster' TO kec\.events_per_minute_state_local AS/,
  );
  assert.match(mv ?? '', /FROM kec\.occurrences_local\n/);
  const view = rendered.find((s) => s.startsWith('CREATE VIEW'));
  assert.match(view ?? '', /ON CLUSTER 'kec_cluster' AS/);
  assert.match(view ?? '', /FROM kec\.events_per_minute_state\n/);
  assert.equal(
    rendered.filter((s) => !/ON CLUSTER 'kec_cluster'/.test(s)).length,
    0,
    'every statement runs ON CLUSTER',
  );
});

test('cluster ddl - ALTERs: TTL and indexes on the local table, columns on both; unknown forms are refused', () => {
  assert.deepEqual(
    clusterStatement('ALTER TABLE kec.events MODIFY TTL toDateTime(last_timestamp) + INTERVAL 30 DAY', o),
    ["ALTER TABLE kec.events_local ON CLUSTER 'kec_cluster' MODIFY TTL toDateTime(last_timestamp) + INTERVAL 30 DAY"],
  );
  assert.deepEqual(clusterStatement('ALTER TABLE kec.events ADD COLUMN IF NOT EXISTS x String', o), [
    "ALTER TABLE kec.events_local ON CLUSTER 'kec_cluster' ADD COLUMN IF NOT EXISTS x String",
    "ALTER TABLE kec.events ON CLUSTER 'kec_cluster' ADD COLUMN IF NOT EXISTS x String",
  ]);
  assert.equal(
    clusterStatement('ALTER TABLE kec.events ADD INDEX i x TYPE bloom_filter GRANULARITY 1', o).length,
    1,
    'an index lives in the data: local only',
  );
  assert.throws(() => clusterStatement('DROP TABLE kec.events', o), /no cluster rendering/);
  assert.throws(() => clusterStatement('CREATE DATABASE IF NOT EXISTS kec', { ...o, cluster: "x'" }), /invalid/);
});
