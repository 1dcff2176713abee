// kec's own store over HTTP (HttpStore, @clickhouse/client) against the real engine behind chdb-http: the
// migrations, writer-shaped inserts from two replicas with their dedup tokens, and the read queries.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  countsOverTime,
  MIGRATIONS,
  migrate,
  objectTimeline,
  openStore,
  queryEvents,
  queryIncidents,
  type Store,
  StoreQueryError,
  schemaVersion,
  topReasons,
} from '@kec/store';
import { type ChdbHttp, startChdbHttp } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kec-chdb-http-store-'));
let ch: ChdbHttp;
let a: Store;
let b: Store;

before(async () => {
  ch = await startChdbHttp({ dataDir: join(dir, 'engine') });
  // two writer replicas: each its own HttpStore (its own client and sockets) on the one engine
  a = await openStore({ clickhouseUrl: ch.url, dataDir: join(dir, 'a') });
  b = await openStore({ clickhouseUrl: ch.url, dataDir: join(dir, 'b') });
});

after(async () => {
  await a?.close();
  await b?.close();
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

const minute = 60_000;
const base = Math.floor((Date.now() - 3 * 3600_000) / 3600_000) * 3600_000; // a whole hour, 2-3 h ago
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '.000000Z');

/** The columns the writer sends for one observation of an Event (services/writer rows.ts, eventRow). */
function eventRow(uid: string, rv: number, count: number, at: number, reason = 'BackOff') {
  return {
    cluster: 'c1',
    namespace: 'shop',
    uid,
    name: `${uid}.17a`,
    resource_version: String(rv),
    version: String(rv),
    source_api: 'core/v1',
    watch_type: count === 1 ? 'ADDED' : 'MODIFIED',
    deleted: false,
    observed_at: iso(at + 500),
    creation_timestamp: iso(base),
    first_timestamp: iso(base),
    last_timestamp: iso(at),
    event_time: null,
    series_count: null,
    series_last_observed_time: null,
    count,
    type: 'Warning',
    reason,
    action: '',
    note: `Back-off restarting failed container (${uid})`,
    combined: false,
    reporting_controller: 'kubelet',
    reporting_instance: 'node-1',
    regarding_kind: 'Pod',
    regarding_namespace: 'shop',
    regarding_name: `cart-${uid}`,
    regarding_uid: `pod-${uid}`,
    regarding_api_version: 'v1',
    regarding_resource_version: '100',
    regarding_field_path: 'spec.containers{cart}',
    related_kind: '',
    related_namespace: '',
    related_name: '',
    related_uid: '',
    related_api_version: '',
    related_resource_version: '',
    related_field_path: '',
    deprecated_source_component: 'kubelet',
    deprecated_source_host: 'node-1',
    deprecated_first_timestamp: iso(base),
    deprecated_last_timestamp: iso(at),
    deprecated_count: count,
    labels: {},
    annotations: {},
    enrichment_status: 'ok',
    object_labels: { app: 'cart', "it's": 'quoted\tvalue' },
    object_annotations: {},
    object_deleted: false,
    workload_kind: 'Deployment',
    workload_name: 'cart',
    node_name: 'node-1',
    node_zone: 'z1',
    namespace_labels: { team: 'shop' },
    severity: 'warning',
    category: 'crashloop',
    actionable: true,
    rule_id: 'crashloop',
    ruleset_version: '1',
    fields: {},
    fingerprint_id: 'fp1',
    fingerprint_template: 'Back-off restarting failed container',
    incident_id: 'inc-1',
  };
}

/** The event columns an occurrence row repeats (services/writer rows.ts, occurrenceRow). */
const OCCURRENCE_COLUMNS = [
  'cluster',
  'namespace',
  'uid',
  'resource_version',
  'watch_type',
  'count',
  'type',
  'reason',
  'regarding_kind',
  'regarding_name',
  'workload_kind',
  'workload_name',
  'node_name',
  'severity',
  'category',
  'fingerprint_id',
  'incident_id',
] as const;

function occurrenceRow(e: ReturnType<typeof eventRow>, occurrences: number) {
  return { time: e.last_timestamp, occurrences, ...Object.fromEntries(OCCURRENCE_COLUMNS.map((c) => [c, e[c]])) };
}

/** One writer batch: events then occurrences, each with its token (services/writer batchToken's shape). */
async function writeBatch(store: Store, seq: number, events: ReturnType<typeof eventRow>[], occ: number[]) {
  await store.insert('events', events, { token: `kec-KEC_EVENTS-events-${seq}` });
  await store.insert(
    'occurrences',
    events.map((e, i) => occurrenceRow(e, occ[i] ?? 0)),
    { token: `kec-KEC_EVENTS-occurrences-${seq}` },
  );
}

describe('kec store over chdb-http', () => {
  test('migrate - the kec schema (modern dialect) is created over HTTP, twice is a no-op, retention alters in place', async () => {
    assert.equal(a.backend, 'http');
    // both replicas start at once, as two writers do
    const [first, second] = await Promise.all([migrate(a), migrate(b)]);
    assert.ok(first && second);
    assert.deepEqual(
      [...new Set([...first.applied, ...second.applied])],
      MIGRATIONS.map((m) => m.version),
    );
    assert.equal(await schemaVersion(a), MIGRATIONS.at(-1)?.version);
    const tables = await a.query<{ name: string; engine: string }>(
      "SELECT name, engine FROM system.tables WHERE database = 'kec' ORDER BY name",
    );
    assert.deepEqual(
      tables.map((t) => `${t.name}:${t.engine}`),
      [
        'events:ReplacingMergeTree',
        'events_per_minute:View',
        'events_per_minute_mv:MaterializedView',
        'events_per_minute_state:AggregatingMergeTree',
        'gaps:ReplacingMergeTree',
        'incidents:ReplacingMergeTree',
        'occurrences:ReplacingMergeTree',
        'patterns:ReplacingMergeTree',
        'schema_migrations:ReplacingMergeTree',
      ],
    );
    assert.deepEqual((await migrate(b)).applied, []);
    assert.deepEqual((await migrate(a, { retention: { occurrencesDays: 30 } })).ttlChanged, ['occurrences']);
    assert.deepEqual((await migrate(b, { retention: { occurrencesDays: 30 } })).ttlChanged, []);
    assert.deepEqual((await migrate(a)).ttlChanged, ['occurrences']);
  });

  test('write - two replicas insert writer batches; a batch redelivered to the other replica is stored once', async () => {
    const obs = Array.from({ length: 6 }, (_, i) => eventRow('u1', 1000 + i, i + 1, base + (i + 1) * minute));
    const other = [eventRow('u2', 2000, 1, base + 2 * minute, 'Unhealthy')];
    // no background merges while counting raw rows (a merge collapses replaced rows, which would hide a duplicate)
    for (const t of ['events', 'occurrences']) await a.command(`SYSTEM STOP MERGES kec.${t}`);
    await Promise.all([writeBatch(a, 1, obs.slice(0, 3), [1, 1, 1]), writeBatch(b, 2, other, [1])]);
    // replica a crashed before acking batch 1: replica b gets the same batch (same rows, same tokens)
    await Promise.all([writeBatch(b, 1, obs.slice(0, 3), [1, 1, 1]), writeBatch(a, 3, obs.slice(3), [1, 1, 1])]);
    const [raw] = await a.query<{ occ: number; ev: number; rollup: number }>(
      `SELECT (SELECT count() FROM kec.occurrences) AS occ, (SELECT count() FROM kec.events) AS ev,
              (SELECT sum(occurrences) FROM kec.events_per_minute) AS rollup`,
    );
    // events: optimize_on_insert keeps one row per uid of each insert (3 inserts kept); a redelivery that was not
    // dropped would show as occ 10, ev 4
    assert.deepEqual(raw, { occ: 7, ev: 3, rollup: 7 }, 'the redelivered batch was dropped');
    for (const t of ['events', 'occurrences']) await a.command(`SYSTEM START MERGES kec.${t}`);

    const events = await queryEvents(b, { namespace: 'shop', since: iso(base), until: iso(base + 3600_000) });
    assert.deepEqual(
      events.map((e) => [e.uid, e.count, e.reason, e.resource_version, e.last_timestamp]),
      [
        ['u1', 6, 'BackOff', '1005', iso(base + 6 * minute)],
        ['u2', 1, 'Unhealthy', '2000', iso(base + 2 * minute)],
      ],
    );
    const timeline = await objectTimeline(a, { namespace: 'shop', kind: 'Pod', name: 'cart-u1' });
    assert.deepEqual(
      timeline.map((t) => [t.resource_version, t.count, t.occurrences]),
      obs.map((o) => [Number(o.resource_version), o.count, 1]),
    );
    assert.equal(timeline[0]?.note, 'Back-off restarting failed container (u1)');
    const reasons = await topReasons(a, { since: iso(base), until: iso(base + 3600_000) });
    assert.deepEqual(reasons, [
      { reason: 'BackOff', type: 'Warning', occurrences: 6, events: 1 },
      { reason: 'Unhealthy', type: 'Warning', occurrences: 1, events: 1 },
    ]);
    const points = await countsOverTime(b, {
      since: iso(base),
      until: iso(base + 3600_000),
      step: '1h',
      groupBy: 'reason',
    });
    assert.deepEqual(
      points.map((p) => [p.group, p.occurrences]),
      [
        ['BackOff', 6],
        ['Unhealthy', 1],
      ],
    );
    const [labels] = await a.query<{ l: Record<string, string> }>(
      'SELECT object_labels AS l FROM kec.events FINAL WHERE uid = {uid:String}',
      { uid: 'u2' },
    );
    assert.deepEqual(labels?.l, { app: 'cart', "it's": 'quoted\tvalue' });
  });

  test('incidents - an incident row goes in and comes back through queryIncidents', async () => {
    const row = {
      cluster: 'c1',
      id: 'inc-1',
      namespace: 'shop',
      title: 'cart is crash-looping',
      severity: 'error',
      category: 'crashloop',
      root_cause_event_uid: 'u1',
      root_cause_reason: 'BackOff',
      root_cause_object: 'Pod/shop/cart-u1',
      root_cause_why: "first BackOff of the workload's pods",
      affected_objects: ['Pod/shop/cart-u1', 'Deployment/shop/cart'],
      first_seen: iso(base + minute),
      last_seen: iso(base + 6 * minute),
      event_count: 1,
      occurrence_count: 6,
      state: 'open',
      version: 3,
    };
    await a.insert('incidents', [row], { token: 'kec-KEC_INCIDENTS-incidents-1' });
    await b.insert('incidents', [{ ...row, version: 2, state: 'open', occurrence_count: 4 }], {
      token: 'kec-KEC_INCIDENTS-incidents-0',
    });
    const got = await queryIncidents(a, { namespace: 'shop', state: 'open' });
    assert.equal(got.length, 1);
    assert.equal(got[0]?.version, 3);
    assert.deepEqual(got[0]?.affected_objects, row.affected_objects);
    assert.equal(got[0]?.root_cause_why, row.root_cause_why);
  });

  test('errors - the store maps engine errors from HTTP to StoreQueryError with the ClickHouse code', async () => {
    await assert.rejects(a.query('SELECT * FROM kec.no_such_table'), (e: unknown) => {
      assert.ok(e instanceof StoreQueryError);
      assert.equal(e.code, 60);
      assert.equal(e.retryable, false);
      return true;
    });
    await assert.rejects(a.insert('no_such_table', [{ x: 1 }], { token: 't' }), (e: unknown) => {
      assert.ok(e instanceof StoreQueryError);
      assert.equal(e.code, 60);
      return true;
    });
  });
});
