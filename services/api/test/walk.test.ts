// Cursor pagination while rows are written: the walk is the listing as of its first page, on both backends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EventItem, EventPage } from '../src/schemas.ts';
import { fixture, HOUR, payload } from './fixture.ts';
import { type Backend, get, type Harness, startHarness, writeEvents } from './harness.ts';

let h: Harness;
const base = Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR;

before(async () => {
  h = await startHarness();
  await writeEvents(h.writer, fixture(base).events);
});
after(async () => h?.close());

async function walk(
  b: Backend,
  query: string,
  limit: number,
  onPage?: (n: number) => Promise<void>,
): Promise<EventItem[]> {
  const items: EventItem[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 1000; n++) {
    const r: { status: number; body: EventPage } = await get<EventPage>(
      b.app,
      `/api/v1/events?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    items.push(...r.body.items);
    cursor = r.body.nextCursor;
    if (!cursor) return items;
    await onPage?.(n);
  }
  throw new Error('too many pages');
}

test('events - a cursor walk stays stable while rows are written (new Events, and new observations of listed ones)', async () => {
  let rv = 900_000;
  for (const b of h.backends) {
    const before = await walk(b, 'namespace=ns-1', 1000);
    assert.ok(before.length >= 30);
    const items = await walk(b, 'namespace=ns-1', 4, async (n) => {
      const now = Date.now();
      await writeEvents(h.writer, [
        // a new Event whose last occurrence falls inside the listed range (a late arrival), one happening now,
        // and a new observation (count 2, now) of an Event the walk already listed or will list
        payload({
          namespace: 'ns-1',
          uid: `e-late-${b.name}-${n}`,
          rv: rv++,
          count: 1,
          first: base + 5 * HOUR + n,
          at: base + 5 * HOUR + n,
          observed: now,
          reason: 'Pulled',
          object: 'late',
        }),
        payload({
          namespace: 'ns-1',
          uid: `e-now-${b.name}-${n}`,
          rv: rv++,
          count: 1,
          first: now,
          at: now,
          observed: now,
          reason: 'Pulled',
          object: 'now',
        }),
        payload({
          namespace: 'ns-1',
          uid: (before[(n * 7) % before.length] as EventItem).uid,
          rv: rv++,
          count: 2,
          first: base,
          at: now,
          observed: now,
          reason: 'Pulled',
          object: 'job-1-pod',
        }),
      ]);
    });
    assert.deepEqual(
      items.map((i) => i.uid),
      before.map((i) => i.uid),
      `${b.name}: the walk is the listing as of its first page`,
    );
    assert.deepEqual(items, before, `${b.name}: with the state as of the first page`);
    // a new listing sees the writes
    const fresh = await walk(b, 'namespace=ns-1', 1000);
    assert.ok(fresh.length > before.length);
  }
});
