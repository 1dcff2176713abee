// Cursor pagination while rows are written: the walk is the listing as of its first page, on both backends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EventItem } from '../src/schemas.ts';
import { fixture, HOUR, payload } from './fixture.ts';
import { type Harness, startHarness, walk, writeEvents } from './harness.ts';

let h: Harness;
const base = Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR;

before(async () => {
  h = await startHarness();
  await writeEvents(h.writer, fixture(base).events);
});
after(async () => h?.close());

test('events - a cursor walk stays stable while rows are written: no Event twice, no unchanged one skipped, order kept', async () => {
  let rv = 900_000;
  for (const b of h.backends) {
    const before = await walk(b, 'namespace=ns-1', 1000);
    assert.ok(before.length >= 30);
    const updated = new Set<string>();
    const late = new Set<string>();
    const items = await walk(b, 'namespace=ns-1', 4, async (n) => {
      const now = Date.now();
      // the same Event (same uid and involved object) observed again now
      const listed = before[(n * 7) % before.length] as EventItem;
      updated.add(listed.uid);
      late.add(`e-late-${b.name}-${n}`);
      await writeEvents(h.writer, [
        // a new Event whose last occurrence falls inside the listed range (a late arrival), one happening now,
        // and a new occurrence of an Event the walk already listed or will list
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
          uid: listed.uid,
          rv: rv++,
          count: listed.count + 1,
          first: Date.parse(listed.firstSeen),
          at: now,
          observed: now,
          reason: listed.reason,
          type: listed.type,
          object: listed.object.name,
        }),
      ]);
    });
    const uids = items.map((i) => i.uid);
    assert.equal(new Set(uids).size, uids.length, `${b.name}: an Event was listed twice`);
    const key = (i: EventItem) => `${i.lastSeen} ${i.cluster} ${i.uid}`;
    assert.deepEqual(items.map(key), items.map(key).sort().reverse(), `${b.name}: the order is kept`);
    for (const e of before) {
      if (!updated.has(e.uid)) assert.ok(uids.includes(e.uid), `${b.name}: ${e.uid} (unchanged) was skipped`);
    }
    for (const u of uids) {
      assert.ok(
        !u.startsWith(`e-now-${b.name}-`),
        `${b.name}: an Event newer than the first page (${u}) joined the walk`,
      );
      assert.ok(before.some((e) => e.uid === u) || late.has(u), `${b.name}: ${u} came from nowhere`);
    }
    // a new listing sees every write
    const fresh = (await walk(b, 'namespace=ns-1', 1000)).map((i) => i.uid);
    for (const u of [...updated, ...late]) assert.ok(fresh.includes(u), u);
    assert.ok(fresh.some((u) => u.startsWith(`e-now-${b.name}`)));
  }
});
