// Compares the store with the scenario driver's ground truth (kec.groundtruth/v1).
import type { GroundTruth } from '@kec/kube-sim';
import { sql, waitFor } from './harness.ts';

export interface Comparison {
  expectedEvents: number;
  storedEvents: number;
  storedRows: number;
  missing: string[];
  wrongCount: { uid: string; expected: number; stored: number }[];
  duplicates: number;
  extra: number;
  expectedOccurrences: number;
  storedOccurrences: number;
  wrongOccurrences: { uid: string; expected: number; stored: number }[];
  incidents: { expected: number; rootCauseMatched: number; eventsLinked: number; eventsInIncidents: number };
  gaps: number;
}

export function expectedTotals(gt: GroundTruth): { events: number; count: number } {
  let count = 0;
  for (const e of Object.values(gt.events)) count += e.count;
  return { events: Object.keys(gt.events).length, count };
}

/**
 * Waits until the store holds exactly the ground truth's number of events, count sum and occurrence sum.
 * `exclude` is a SQL condition on `name`/`uid` for rows the test added outside the driver (canaries, odd events).
 * On timeout it returns anyway (the comparison that follows says what is wrong); the result is the time waited.
 */
export async function waitForStore(port: number, gt: GroundTruth, timeoutMs: number, exclude = '0'): Promise<number> {
  const want = expectedTotals(gt);
  const t0 = Date.now();
  await waitFor(
    `store to hold ${want.events} events / ${want.count} count and occurrences`,
    async () => {
      const [r] = await sql<{ n: number; s: number }>(
        port,
        `SELECT count() AS n, sum(count) AS s FROM kec.events FINAL WHERE NOT (${exclude})`,
      );
      const [o] = await sql<{ o: number }>(
        port,
        `SELECT sum(occurrences) AS o FROM kec.occurrences FINAL WHERE (cluster, uid) IN (SELECT cluster, uid FROM kec.events FINAL WHERE NOT (${exclude}))`,
      );
      return Number(r?.n) === want.events && Number(r?.s) === want.count && Number(o?.o) === want.count;
    },
    timeoutMs,
    1000,
  ).catch(() => undefined);
  return Date.now() - t0;
}

/** Compares the store (or only one cluster's rows of it, for a multi-cluster run) with the ground truth. */
export async function compareStore(port: number, gt: GroundTruth, cluster?: string): Promise<Comparison> {
  if (cluster !== undefined && !/^[a-z0-9-]+$/.test(cluster)) throw new Error(`bad cluster name ${cluster}`);
  const only = cluster === undefined ? '1' : `cluster = '${cluster}'`;
  const rows = await sql<{ uid: string; count: number }>(port, `SELECT uid, count FROM kec.events FINAL WHERE ${only}`);
  const [dup] = await sql<{ rows: number; uids: number }>(
    port,
    `SELECT count() AS rows, uniqExact(uid) AS uids FROM kec.events FINAL WHERE ${only}`,
  );
  const occ = await sql<{ uid: string; occ: number }>(
    port,
    `SELECT uid, sum(occurrences) AS occ FROM kec.occurrences FINAL WHERE ${only} GROUP BY uid`,
  );
  const linked = await sql<{ uid: string; incident_id: string }>(
    port,
    `SELECT uid, incident_id FROM kec.events FINAL WHERE incident_id != '' AND ${only}`,
  );
  const incidents = await sql<{ id: string; root_cause_event_uid: string }>(
    port,
    `SELECT id, root_cause_event_uid FROM kec.incidents FINAL WHERE ${only}`,
  );
  const [gaps] = await sql<{ n: number }>(port, `SELECT count() AS n FROM kec.gaps WHERE ${only}`);

  const stored = new Map(rows.map((r) => [r.uid, Number(r.count)]));
  const occMap = new Map(occ.map((r) => [r.uid, Number(r.occ)]));
  const c: Comparison = {
    expectedEvents: 0,
    storedEvents: stored.size,
    storedRows: Number(dup?.rows ?? 0),
    missing: [],
    wrongCount: [],
    duplicates: Number(dup?.rows ?? 0) - Number(dup?.uids ?? 0),
    extra: 0,
    expectedOccurrences: 0,
    storedOccurrences: 0,
    wrongOccurrences: [],
    incidents: { expected: gt.incidents.length, rootCauseMatched: 0, eventsLinked: 0, eventsInIncidents: 0 },
    gaps: Number(gaps?.n ?? 0),
  };
  for (const [uid, e] of Object.entries(gt.events)) {
    c.expectedEvents++;
    c.expectedOccurrences += e.count;
    const s = stored.get(uid);
    if (s === undefined) c.missing.push(uid);
    else if (s !== e.count) c.wrongCount.push({ uid, expected: e.count, stored: s });
    const o = occMap.get(uid) ?? 0;
    c.storedOccurrences += o;
    if (o !== e.count) c.wrongOccurrences.push({ uid, expected: e.count, stored: o });
  }
  for (const uid of stored.keys()) if (!gt.events[uid]) c.extra++;
  const roots = new Set(incidents.map((i) => i.root_cause_event_uid));
  const linkedUids = new Set(linked.map((l) => l.uid));
  for (const inc of gt.incidents) {
    if (inc.rootCause.eventUid && roots.has(inc.rootCause.eventUid)) c.incidents.rootCauseMatched++;
    for (const uid of inc.eventUids) {
      c.incidents.eventsInIncidents++;
      if (linkedUids.has(uid)) c.incidents.eventsLinked++;
    }
  }
  return c;
}

/** One line for logs and the report. */
export function summary(c: Comparison): string {
  return (
    `events ${c.storedEvents}/${c.expectedEvents} (missing ${c.missing.length}, wrong count ${c.wrongCount.length}, ` +
    `duplicates ${c.duplicates}, extra ${c.extra}); occurrences ${c.storedOccurrences}/${c.expectedOccurrences} ` +
    `(wrong ${c.wrongOccurrences.length}); incidents root cause ${c.incidents.rootCauseMatched}/${c.incidents.expected}, ` +
    `incident events linked ${c.incidents.eventsLinked}/${c.incidents.eventsInIncidents}; gaps ${c.gaps}`
  );
}
