// Every read route on both backends (embedded chdb and ClickHouse over HTTP through tools/chdb-http) on the same
// data written with the writer's own row mapping: results match what was written, and both answer alike.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  EventItem,
  EventPage,
  IncidentDetail,
  IncidentList,
  Series,
  Status,
  Timeline,
  Top,
} from '../src/schemas.ts';
import { fixture, HOUR, MIN } from './fixture.ts';
import { type Backend, get, type Harness, startHarness, TOKENS, walk, writeEvents, writeIncidents } from './harness.ts';

let h: Harness;
const NOW = Date.now();
const base = Math.floor((NOW - 48 * HOUR) / HOUR) * HOUR;
const f = fixture(base);

/** The latest payload per uid: what /events must list. */
const latest = new Map<string, (typeof f.events)[number]>();
for (const e of f.events) {
  const prev = latest.get(e.uid);
  if (!prev || Number(e.resourceVersion) > Number(prev.resourceVersion)) latest.set(e.uid, e);
}
const all = [...latest.values()];
const byNewest = (a: { lastTimestamp: string; uid: string }, b: { lastTimestamp: string; uid: string }) =>
  Date.parse(b.lastTimestamp) - Date.parse(a.lastTimestamp) || (a.uid < b.uid ? 1 : a.uid > b.uid ? -1 : 0);

before(async () => {
  h = await startHarness({ now: () => NOW });
  await writeEvents(h.writer, f.events);
  await writeIncidents(h.writer, f.incidents);
  // What replays leave in `events` until a merge: an older version written after the newer one (it named the
  // incident and a severity that the latest state no longer has) and the latest version of another Event twice.
  // Every listing below must still show each Event once, in its latest state.
  const stale = latest.get('e-many-003') as (typeof f.events)[number];
  await writeEvents(h.writer, [
    {
      ...stale,
      resourceVersion: '999',
      occurrences: 0,
      incidentId: 'inc-web',
      classification: { ...(stale.classification as NonNullable<typeof stale.classification>), severity: 'critical' },
    },
  ]);
  await writeEvents(h.writer, [latest.get('e-backoff-1') as (typeof f.events)[number]]);
});
after(async () => h?.close());

const each = async (fn: (b: Backend) => Promise<void>) => {
  for (const b of h.backends) await fn(b);
};

/** Asks both backends and checks they answer the same; returns the answer. */
async function both<T>(url: string, token = TOKENS.read): Promise<{ status: number; body: T }> {
  const [a, b] = await Promise.all(h.backends.map((x) => get<T>(x.app, url, token)));
  assert.deepEqual(b, a, `the backends answer ${url} differently`);
  return a as { status: number; body: T };
}

describe('api events', () => {
  test('events - all namespaces, newest first by last occurrence, latest state per Event', async () => {
    const r = await both<EventPage>('/api/v1/events?limit=1000');
    assert.equal(r.status, 200);
    assert.equal(r.body.kind, 'EventList');
    assert.deepEqual(
      r.body.items.map((i) => i.uid),
      all.sort(byNewest).map((e) => e.uid),
    );
    const web0 = r.body.items.find((i) => i.uid === 'e-backoff-0') as EventItem;
    assert.equal(web0.count, 4);
    assert.equal(web0.firstSeen, new Date(base).toISOString().replace('.000Z', '.000000Z'));
    assert.equal(web0.object.fieldPath, 'spec.containers{app}');
    assert.equal(web0.source, 'kubelet, node-0');
    assert.deepEqual(web0.workload, { kind: 'Deployment', name: 'web' });
    assert.equal(web0.incidentId, 'inc-web');
    assert.equal(web0.severity, 'error');
    assert.equal(web0.node, 'node-0');
    assert.deepEqual(web0.labels, { app: 'web', tier: 'front', env: 'prod' });
    assert.equal(r.body.nextCursor, null);
  });

  const cases: [string, (e: (typeof all)[number]) => boolean][] = [
    ['namespace=shop', (e) => e.namespace === 'shop'],
    ['for=pod/web-7d9f8-1', (e) => e.regarding.kind === 'Pod' && e.regarding.name === 'web-7d9f8-1'],
    ['for=Deployment/web', (e) => e.regarding.kind === 'Deployment' && e.regarding.name === 'web'],
    ['reason=BackOff,Killing', (e) => e.reason === 'BackOff' || e.reason === 'Killing'],
    ['type=warning', (e) => e.type === 'Warning'],
    ['type=Normal', (e) => e.type === 'Normal'],
    ['severity=error,critical', (e) => ['error', 'critical'].includes(e.classification?.severity ?? '')],
    ['category=scheduling', (e) => e.classification?.category === 'scheduling'],
    ['workload=web', (e) => e.enrichment?.workload?.name === 'web'],
    [
      'workload=StatefulSet/db',
      (e) => e.enrichment?.workload?.kind === 'StatefulSet' && e.enrichment.workload.name === 'db',
    ],
    ['node=node-2', (e) => e.enrichment?.node?.name === 'node-2'],
    ['labelSelector=app%3Dweb', (e) => e.enrichment?.object?.labels?.['app'] === 'web'],
    [
      'labelSelector=app%3Dweb%2Cenv!%3Dprod',
      (e) => e.enrichment?.object?.labels?.['app'] === 'web' && e.enrichment.object.labels['env'] !== 'prod',
    ],
    [
      'labelSelector=tier%20in%20(front%2Cdata)',
      (e) => ['front', 'data'].includes(e.enrichment?.object?.labels?.['tier'] ?? ''),
    ],
    ['labelSelector=tier%20notin%20(front)', (e) => e.enrichment?.object?.labels?.['tier'] !== 'front'],
    ['labelSelector=app', (e) => e.enrichment?.object?.labels?.['app'] !== undefined],
    ['labelSelector=!app', (e) => e.enrichment?.object?.labels?.['app'] === undefined],
    ['q=INSUFFICIENT%20memory', (e) => e.note.toLowerCase().includes('insufficient memory')],
    [
      `since=${encodeURIComponent(new Date(base + 20 * HOUR).toISOString())}`,
      (e) => Date.parse(e.lastTimestamp) >= base + 20 * HOUR,
    ],
    [
      `until=${encodeURIComponent(new Date(base + 3 * HOUR).toISOString())}`,
      (e) => Date.parse(e.lastTimestamp) < base + 3 * HOUR,
    ],
    ['since=30h', (e) => Date.parse(e.lastTimestamp) >= NOW - 30 * HOUR],
    [
      'since=1d6h&until=20h',
      (e) => Date.parse(e.lastTimestamp) >= NOW - 30 * HOUR && Date.parse(e.lastTimestamp) < NOW - 20 * HOUR,
    ],
  ];
  for (const [query, keep] of cases) {
    test(`events - filter ${decodeURIComponent(query)}`, async () => {
      const r = await both<EventPage>(`/api/v1/events?${query}&limit=1000`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const want = all
        .filter(keep)
        .sort(byNewest)
        .map((e) => e.uid);
      assert.ok(want.length > 0, 'the case selects something');
      assert.deepEqual(
        r.body.items.map((i) => i.uid),
        want,
      );
    });
  }

  test('events - filter values are bound, never SQL: quotes and operators match nothing and break nothing', async () => {
    for (const q of [
      "namespace=shop'%20OR%20'1'%3D'1",
      'reason=BackOff%27)%20OR%20(1%3D1',
      "q=')%20%3E%200%20OR%201%3D1%20--",
      'node=node-1%5C%27',
      "for=Pod/x'%20OR%201%3D1%20--",
      "workload=x')%20OR%20('1",
      'cluster=c1%22%3B%20DROP%20TABLE%20kec.events',
    ]) {
      const r = await both<EventPage>(`/api/v1/events?${q}`);
      assert.equal(r.status, 200, q);
      assert.equal(r.body.items.length, 0, q);
    }
    const still = await both<EventPage>('/api/v1/events?limit=1000');
    assert.equal(still.body.items.length, all.length);
  });

  test('events - cursor walk over all pages equals the full listing, in order, on both backends', async () => {
    const full = all.sort(byNewest).map((e) => e.uid);
    for (const b of h.backends) {
      for (const limit of [1, 7, 50]) {
        const items = await walk(b, 'type=Normal,Warning', limit);
        assert.deepEqual(
          items.map((i) => i.uid),
          full,
          `${b.name} limit ${limit}`,
        );
      }
    }
  });

  test('events - a cursor is tied to its parameters; bad parameters are 400 Status with the field', async () => {
    const b = h.backends[0] as Backend;
    const p1 = await get<EventPage>(b.app, '/api/v1/events?namespace=shop&limit=1');
    const other = await get<Status>(b.app, `/api/v1/events?namespace=data&limit=1&cursor=${p1.body.nextCursor}`);
    assert.equal(other.status, 400);
    assert.equal(other.body.reason, 'BadRequest');
    assert.equal(other.body.details?.causes?.[0]?.field, 'cursor');
    for (const [q, field] of [
      ['since=yesterday', 'since'],
      ['until=2026-13-99T00:00:00Z', 'until'],
      ['labelSelector=app%3D%3D%3D', 'labelSelector'],
      ['labelSelector=a%20in%20()', 'labelSelector'],
      ['type=Error', 'type'],
      ['severity=fatal', 'severity'],
      ['cursor=garbage', 'cursor'],
      ['for=web', undefined],
      ['limit=0', undefined],
      ['namesapce=shop', undefined],
    ] as const) {
      const r = await both<Status>(`/api/v1/events?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.kind, 'Status');
      assert.equal(r.body.code, 400);
      if (field) assert.equal(r.body.details?.causes?.[0]?.field, field, q);
    }
    const nf = await both<Status>('/api/v1/nothing');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.reason, 'NotFound');
  });
});

describe('api timeline, incidents, top, series', () => {
  test('timeline - a workload: its own events and its pods, oldest first, with buckets', async () => {
    const r = await both<Timeline>('/api/v1/timeline/deploy/shop/web?step=15m');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const want = f.events.filter((e) => e.namespace === 'shop');
    assert.equal(r.body.entries.length, want.length);
    const times = r.body.entries.map((e) => Date.parse(e.time));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    assert.deepEqual(
      new Set(r.body.entries.map((e) => e.object.name)),
      new Set(['web', 'web-7d9f8-0', 'web-7d9f8-1', 'web-7d9f8-2']),
    );
    assert.equal(
      r.body.buckets.reduce((s, b) => s + b.occurrences, 0),
      want.reduce((s, e) => s + (e.occurrences ?? 0), 0),
    );
    assert.equal(
      r.body.buckets.reduce((s, b) => s + b.warnings, 0),
      12,
    );
    assert.equal(r.body.objects.length, 4);
    assert.equal(r.body.entries[0]?.message, 'Back-off restarting failed container app in pod web-7d9f8-0');
  });

  test('timeline - a reused name shows both uids; a Node with namespace _', async () => {
    const db = await both<Timeline>('/api/v1/timeline/pod/data/db-0');
    assert.deepEqual(
      db.body.objects.map((o) => o.uid),
      ['uid-db-0-a', 'uid-db-0-b'],
    );
    assert.deepEqual(
      db.body.entries.map((e) => e.reason),
      ['Killing', 'Started'],
    );
    // No since: the range starts at the object's first Event (to the minute), not 1970, and the step fits it.
    const first = Date.parse(db.body.entries[0]?.time ?? '');
    assert.equal(Date.parse(db.body.range.since), first - (first % 60_000));
    assert.notEqual(db.body.step, '1d');
    const node = await both<Timeline>('/api/v1/timeline/node/_/node-2');
    assert.deepEqual(
      node.body.entries.map((e) => e.reason),
      ['NodeNotReady'],
    );
    assert.equal(node.body.object.namespace, '');
  });

  test('incidents - list and detail with root cause, affected and member events in time order', async () => {
    const list = await both<IncidentList>('/api/v1/incidents?state=open');
    assert.deepEqual(
      list.body.items.map((i) => i.id),
      ['inc-web'],
    );
    assert.equal((await both<IncidentList>('/api/v1/incidents?state=resolved')).body.items.length, 0);
    const d = await both<IncidentDetail>('/api/v1/incidents/inc-web');
    assert.equal(d.status, 200);
    assert.equal(d.body.incident.rootCause.why, 'first BackOff of the workload');
    assert.equal(d.body.incident.affected.length, 3);
    assert.deepEqual(
      d.body.events.map((e) => e.uid),
      ['e-backoff-0', 'e-backoff-1', 'e-backoff-2'],
    );
    const missing = await both<Status>('/api/v1/incidents/nope');
    assert.equal(missing.status, 404);
  });

  test('top - every dimension counts new occurrences and distinct Events; rollup and raw paths agree', async () => {
    const reasons = await both<Top>('/api/v1/top?by=reason&since=3d');
    const want = new Map<string, number>();
    for (const e of f.events) want.set(e.reason, (want.get(e.reason) ?? 0) + (e.occurrences ?? 0));
    assert.deepEqual(
      Object.fromEntries(reasons.body.items.map((i) => [i.key, i.occurrences])),
      Object.fromEntries(want),
    );
    assert.equal(reasons.body.items.find((i) => i.key === 'BackOff')?.events, 3);
    // a filter the rollup cannot answer (labels) takes the raw path: the same numbers
    const raw = await both<Top>('/api/v1/top?by=reason&since=3d&labelSelector=app%20notin%20(zzz)');
    assert.deepEqual(raw.body.items, reasons.body.items);
    const ns = await both<Top>('/api/v1/top?by=namespace&since=3d&limit=2');
    assert.deepEqual(
      ns.body.items.map((i) => i.key),
      ['ns-0', 'ns-1'],
    );
    const wl = await both<Top>('/api/v1/top?by=workload&since=3d&namespace=shop');
    assert.deepEqual(wl.body.items, [
      { key: 'Deployment/web', namespace: 'shop', detail: '', occurrences: 13, events: 4 },
    ]);
    const node = await both<Top>('/api/v1/top?by=node&since=3d');
    assert.equal(
      node.body.items.reduce((s, i) => s + i.occurrences, 0),
      f.events.reduce((s, e) => s + (e.occurrences ?? 0), 0),
    );
    const fp = await both<Top>('/api/v1/top?by=fingerprint&since=3d&reason=BackOff');
    assert.deepEqual(fp.body.items, [
      { key: 'fp-BackOff', namespace: '', detail: 'BackOff on <pod>', occurrences: 12, events: 3 },
    ]);
  });

  test('series - occurrences per step, split by a dimension; both paths agree', async () => {
    const s = await both<Series>('/api/v1/series?since=3d&step=1h&groupBy=type');
    const total = s.body.points.reduce((n, p) => n + p.occurrences, 0);
    assert.equal(
      total,
      f.events.reduce((n, e) => n + (e.occurrences ?? 0), 0),
    );
    const raw = await both<Series>('/api/v1/series?since=3d&step=1h&groupBy=type&q=%20');
    assert.ok(raw.body.points.length > 0);
    const one = await both<Series>(`/api/v1/series?since=3d&step=1d&reason=BackOff`);
    assert.deepEqual(
      one.body.points.map((p) => p.occurrences),
      [12],
    );
    assert.equal((await both<Status>('/api/v1/series?step=2h')).status, 400);
  });
});

describe('api auth', () => {
  test('auth - no token 401, unknown token 401, wrong scope 403, admin may all; Status bodies', async () => {
    await each(async (b) => {
      const none = await get<Status>(b.app, '/api/v1/events', null);
      assert.equal(none.status, 401);
      assert.equal(none.body.reason, 'Unauthorized');
      const bad = await get<Status>(b.app, '/api/v1/events', 'kec_not_a_token');
      assert.equal(bad.status, 401);
      const sqlOnly = await get<Status>(b.app, '/api/v1/events', TOKENS.sql);
      assert.equal(sqlOnly.status, 403);
      assert.equal(sqlOnly.body.reason, 'Forbidden');
      assert.equal((await get(b.app, '/api/v1/events', TOKENS.admin)).status, 200);
      const spec = await get<{ openapi: string }>(b.app, '/api/v1/openapi.json', null);
      assert.equal(spec.body.openapi, '3.1.0');
    });
    for (const t of Object.values(TOKENS)) {
      assert.ok(!h.logLines.some((l) => l.includes(t)), 'a token value reached the log');
    }
  });
});

void MIN;
