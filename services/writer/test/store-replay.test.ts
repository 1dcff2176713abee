// Done-means on the embedded engine (chdb 26.7): the schema and the writer's row mapping together.
// A replayed batch changes no count; re-batched replays neither; an Event whose count grew from 1 to 109,050
// over five weeks lands in the right windows; FINAL and argMax agree; the rollup equals a direct aggregate.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChdbStore, countsOverTime, migrate, objectTimeline, queryEvents, topReasons } from '@kec/store';
import type { KecEventsPayload } from '../src/contract.ts';
import { eventBatchRows } from '../src/rows.ts';
import { batchToken } from '../src/writer.ts';
import { eventPayload, growingEvent } from './helpers.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'kec-store-replay-'));
let store: ChdbStore;

async function write(batch: readonly KecEventsPayload[], seqs: number[]): Promise<void> {
  const { events, occurrences } = eventBatchRows(batch);
  await store.insert('events', events, { token: batchToken('KEC_EVENTS', 'events', seqs) });
  await store.insert('occurrences', occurrences, { token: batchToken('KEC_EVENTS', 'occurrences', seqs) });
}

async function one<T>(sql: string): Promise<T> {
  const [row] = await store.query<T>(sql);
  assert.ok(row, sql);
  return row;
}

interface Totals {
  rows: number;
  final_rows: number;
  final_sum: number;
  rollup_sum: number;
  events: number;
}
async function totals(): Promise<Totals> {
  return one<Totals>(`SELECT
      (SELECT count() FROM kec.occurrences) AS rows,
      (SELECT count() FROM kec.occurrences FINAL) AS final_rows,
      (SELECT sum(occurrences) FROM kec.occurrences FINAL) AS final_sum,
      (SELECT sum(occurrences) FROM kec.events_per_minute) AS rollup_sum,
      (SELECT count() FROM kec.events FINAL) AS events`);
}

before(async () => {
  store = await ChdbStore.open({ dataDir: dir });
  await migrate(store);
});

after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store on chdb', () => {
  test('migrations - apply twice cleanly, recorded once', async () => {
    const again = await migrate(store);
    assert.deepEqual(again.applied, []);
    assert.deepEqual(again.ttlChanged, []);
    const rows = await store.query<{ n: number }>('SELECT count() AS n FROM kec.schema_migrations FINAL');
    assert.equal(rows[0]?.n, 1);
  });

  const now = Date.now();
  const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

  test('replay - the same batch again (same token) and re-batched (new tokens) changes no count', async () => {
    const batch: KecEventsPayload[] = [];
    for (let u = 0; u < 20; u++) {
      for (let c = 1; c <= 5; c++) {
        batch.push(
          eventPayload({
            uid: `replay-${u}`,
            rv: 10_000 + u * 10 + c,
            count: c,
            at: iso(now - DAY + u * 60_000 + c * 7_000),
            first: iso(now - DAY + u * 60_000),
            occurrences: 1,
            namespace: 'replay',
            reason: u % 2 ? 'BackOff' : 'Unhealthy',
          }),
        );
      }
    }
    const seqs = batch.map((_, i) => i + 1);
    await write(batch, seqs);
    const first = await totals();
    assert.equal(first.final_sum, 100);
    assert.equal(first.rollup_sum, 100);
    assert.equal(first.events, 20);

    // identical redelivery: the server drops it by token, raw rows do not even grow
    await write(batch, seqs);
    const second = await totals();
    assert.equal(second.rows, first.rows);
    assert.equal(second.rollup_sum, 100);

    // a crash re-batches differently: other halves, other order, new tokens; rows grow, counts do not
    const shuffled = [...batch].reverse();
    await write(shuffled.slice(0, 37), [1001, 1002]);
    await write(shuffled.slice(37), [1003]);
    await write(batch.slice(50, 60), [2001]);
    const third = await totals();
    assert.ok(third.rows > first.rows, 'the re-batched replay was written');
    assert.equal(third.final_rows, first.final_rows);
    assert.equal(third.final_sum, 100);
    assert.equal(third.rollup_sum, 100, 'the rollup did not double');
    assert.equal(third.events, 20);
    // and after merges
    await store.command('OPTIMIZE TABLE kec.occurrences FINAL');
    await store.command('OPTIMIZE TABLE kec.events_per_minute_state FINAL');
    const merged = await totals();
    assert.equal(merged.rows, first.final_rows);
    assert.equal(merged.rollup_sum, 100);
  });

  test('occurrences - a count growing 1 -> 109,050 over five weeks falls in the right windows', async () => {
    const from = new Date(Math.floor((now - 36 * DAY) / DAY) * DAY);
    const to = new Date(from.getTime() + 35 * DAY - 60_000);
    const obs = growingEvent({
      uid: 'pdb-nopods',
      from,
      to,
      finalCount: 109_050,
      steps: 1_200,
      rvBase: 5_000_000,
      namespace: 'pdb',
      reason: 'NoPods',
    });
    // expected per ISO week window, computed from the observations themselves
    const perWeek = new Map<number, number>();
    for (const o of obs) {
      const w = Math.floor((Date.parse(o.lastTimestamp) - from.getTime()) / (7 * DAY));
      perWeek.set(w, (perWeek.get(w) ?? 0) + (o.occurrences ?? 0));
    }
    // written in uneven batches, then a third of it replayed in other batches
    for (let i = 0; i < obs.length; i += 173) await write(obs.slice(i, i + 173), [900_000 + i]);
    for (let i = 200; i < 600; i += 61) await write(obs.slice(i, i + 61), [800_000 + i]);

    const direct = await store.query<{ w: number; n: number }>(
      `SELECT intDiv(toUnixTimestamp(time) - ${from.getTime() / 1000}, 604800) AS w, sum(occurrences) AS n
       FROM kec.occurrences FINAL WHERE uid = 'pdb-nopods' GROUP BY w ORDER BY w`,
    );
    const rolled = await store.query<{ w: number; n: number }>(
      `SELECT intDiv(toUnixTimestamp(minute) - ${from.getTime() / 1000}, 604800) AS w, sum(occurrences) AS n
       FROM kec.events_per_minute WHERE namespace = 'pdb' AND reason = 'NoPods' GROUP BY w ORDER BY w`,
    );
    const expected = [...perWeek.entries()].sort((a, b) => a[0] - b[0]).map(([w, n]) => ({ w, n }));
    assert.equal(expected.length, 5);
    assert.deepEqual(direct, expected);
    assert.deepEqual(rolled, expected);
    assert.equal(
      expected.reduce((s, x) => s + x.n, 0),
      109_050,
    );
    // the latest state is the last observation
    const [ev] = await queryEvents(store, { namespace: 'pdb', reason: 'NoPods' });
    assert.equal(ev?.count, 109_050);
    assert.equal(ev?.last_timestamp.slice(0, 19), to.toISOString().slice(0, 19));
    // counts over time through the query helper (daily steps) add up too
    const daily = await countsOverTime(store, {
      since: from.toISOString(),
      until: new Date(to.getTime() + DAY).toISOString(),
      namespace: 'pdb',
      step: '1d',
    });
    assert.equal(
      daily.reduce((s, p) => s + p.occurrences, 0),
      109_050,
    );
    assert.equal(daily.length, 35);
  });

  test('events - FINAL and argMax reads agree, before and after merges', async () => {
    const read = async () => {
      const fin = await store.query(
        'SELECT uid, count, resource_version, last_timestamp, deleted FROM kec.events FINAL ORDER BY uid',
      );
      const arg = await store.query(
        `SELECT uid, argMax(count, version) AS count, argMax(resource_version, version) AS resource_version,
                argMax(last_timestamp, version) AS last_timestamp, argMax(deleted, version) AS deleted
         FROM kec.events GROUP BY cluster, namespace, regarding_kind, regarding_name, uid ORDER BY uid`,
      );
      return { fin, arg };
    };
    // an older observation arriving after a newer one (out of order) must not win
    await write(
      [eventPayload({ uid: 'ooo', rv: 50, count: 9, at: iso(now - 3_600_000), occurrences: 9, namespace: 'ooo' })],
      [1],
    );
    await write(
      [eventPayload({ uid: 'ooo', rv: 40, count: 5, at: iso(now - 7_200_000), occurrences: 0, namespace: 'ooo' })],
      [2],
    );
    // a DELETED (TTL) is the newest state of its uid
    await write([eventPayload({ uid: 'gone', rv: 60, count: 2, at: iso(now - 3_600_000), namespace: 'ooo' })], [3]);
    await write(
      [
        eventPayload({
          uid: 'gone',
          rv: 61,
          count: 2,
          at: iso(now - 3_600_000),
          namespace: 'ooo',
          watchType: 'DELETED',
        }),
      ],
      [4],
    );
    const before = await read();
    assert.deepEqual(before.fin, before.arg);
    await store.command('OPTIMIZE TABLE kec.events FINAL');
    const merged = await read();
    assert.deepEqual(merged.fin, merged.arg);
    assert.deepEqual(merged.fin, before.fin);
    const ooo = await queryEvents(store, { namespace: 'ooo' });
    assert.deepEqual(ooo.map((e) => [e.uid, e.count, e.deleted]).sort(), [
      ['gone', 2, true],
      ['ooo', 9, false],
    ]);
    assert.equal((await queryEvents(store, { namespace: 'ooo', includeDeleted: false })).length, 1);
  });

  test('rollup - equals a direct aggregate over occurrences by every dimension after replays', async () => {
    const dims = 'minute, cluster, namespace, workload_kind, workload_name, kind, reason, type, severity, category';
    const direct = await store.query(
      `SELECT toStartOfMinute(time) AS minute, cluster, namespace, workload_kind, toString(workload_name) AS workload_name,
              regarding_kind AS kind, reason, type, severity, category, sum(occurrences) AS n
       FROM kec.occurrences FINAL WHERE occurrences > 0 GROUP BY ${dims} ORDER BY ${dims}`,
    );
    const rolled = await store.query(
      `SELECT ${dims}, sum(occurrences) AS n FROM kec.events_per_minute GROUP BY ${dims} ORDER BY ${dims}`,
    );
    assert.ok(direct.length > 100);
    assert.deepEqual(rolled, direct);
  });

  test('queries - parameter-bound: timeline, top reasons, filters with hostile text', async () => {
    const tl = await objectTimeline(store, { namespace: 'replay', kind: 'Pod', name: 'pod-a', limit: 1000 });
    assert.equal(tl.length, 100);
    assert.equal(
      tl.reduce((s, e) => s + e.occurrences, 0),
      100,
    );
    assert.ok(tl.every((e, i) => i === 0 || (tl[i - 1]?.time ?? '') <= e.time));
    const top = await topReasons(store, {
      since: new Date(now - 2 * DAY).toISOString(),
      until: new Date(now).toISOString(),
      namespace: 'replay',
    });
    assert.deepEqual(
      top.map((r) => [r.reason, r.occurrences, r.events]),
      [
        ['BackOff', 50, 10],
        ['Unhealthy', 50, 10],
      ],
    );
    const hostile = await queryEvents(store, {
      namespace: "replay' OR 1=1 --",
      search: "'; DROP TABLE kec.events; --",
    });
    assert.equal(hostile.length, 0);
    assert.equal((await queryEvents(store, { namespace: 'replay', search: 'BACK-OFF' })).length, 20);
  });

  test('docs - the ten SQL queries of libs/store/README.md run on the schema', async () => {
    const readme = readFileSync(new URL('../../../libs/store/README.md', import.meta.url), 'utf8');
    const block = /## Ten useful SQL queries[\s\S]*?```sql\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const statements = block
      .split(';')
      .map((q) => q.replace(/^\s*--.*$/gm, '').trim())
      .filter((q) => q.length > 0);
    assert.equal(statements.length, 10);
    for (const sql of statements) await store.query(sql);
    const [hourly] = await store.query<{ n: number }>(
      "SELECT sum(backoffs) AS n FROM (SELECT toStartOfHour(minute) AS hour, sum(occurrences) AS backoffs FROM kec.events_per_minute WHERE reason = 'NoPods' GROUP BY hour)",
    );
    assert.equal(hourly?.n, 109_050);
  });
});
