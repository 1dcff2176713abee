// The SQL the routes run. Every value the user gives is a bound `{name:Type}` parameter; only identifiers chosen
// here from fixed lists reach the SQL text. The same statements run on both backends (embedded chdb and a
// ClickHouse server over HTTP), so both answer alike.

import { WORKLOAD_KINDS } from '@kec/model';
import type { IncidentRow, Store } from '@kec/store';
import type { EventFilters } from './filters.ts';
import type { EventItem, Incident, SeriesPoint, TimelineBucket, TimelineEntry, TopBy, TopItem } from './schemas.ts';
import { selectorSql } from './selector.ts';
import { iso, normalizeTs } from './time.ts';

type Params = Record<string, string | number | string[]>;

const ts = (name: string) => `parseDateTime64BestEffort({${name}:String}, 6, 'UTC')`;

/**
 * The columns of an Event row that a listing returns. Read from the one row per uid that holds its latest version
 * (see listEvents), so no per-uid aggregation is needed.
 */
const LATEST = `cluster, namespace, uid, regarding_kind, regarding_name, version,
  name AS e_name, first_timestamp AS e_first, last_timestamp AS e_last, count AS e_count, type AS e_type,
  reason AS e_reason, regarding_namespace AS e_obj_namespace, regarding_uid AS e_obj_uid,
  regarding_api_version AS e_obj_api_version, regarding_field_path AS e_field_path,
  deprecated_source_component AS e_src_component, deprecated_source_host AS e_src_host,
  reporting_controller AS e_controller, reporting_instance AS e_instance, note AS e_note, severity AS e_severity,
  category AS e_category, workload_kind AS e_workload_kind, workload_name AS e_workload_name, node_name AS e_node,
  incident_id AS e_incident, object_labels AS e_labels, fingerprint_id AS e_fingerprint, deleted AS e_deleted`;

interface LatestRow {
  version: number;
  cluster: string;
  namespace: string;
  uid: string;
  regarding_kind: string;
  regarding_name: string;
  e_name: string;
  e_first: string;
  e_last: string;
  e_count: number;
  e_type: string;
  e_reason: string;
  e_obj_namespace: string;
  e_obj_uid: string;
  e_obj_api_version: string;
  e_field_path: string;
  e_src_component: string;
  e_src_host: string;
  e_controller: string;
  e_instance: string;
  e_note: string;
  e_severity: string;
  e_category: string;
  e_workload_kind: string;
  e_workload_name: string;
  e_node: string;
  e_incident: string;
  e_labels: Record<string, string>;
  e_fingerprint: string;
  e_deleted: boolean;
}

/** kubectl's SOURCE column: `component, host` of the core/v1 source, else the reporting controller/instance. */
export function sourceOf(component: string, host: string, controller: string, instance: string): string {
  const c = component || controller;
  const h = component ? host : instance;
  return h ? `${c}, ${h}` : c;
}

function toItem(r: LatestRow): EventItem {
  return {
    cluster: r.cluster,
    namespace: r.namespace,
    name: r.e_name,
    uid: r.uid,
    lastSeen: normalizeTs(r.e_last),
    firstSeen: normalizeTs(r.e_first),
    count: r.e_count,
    type: r.e_type,
    reason: r.e_reason,
    object: {
      kind: r.regarding_kind,
      namespace: r.e_obj_namespace,
      name: r.regarding_name,
      uid: r.e_obj_uid,
      apiVersion: r.e_obj_api_version,
      fieldPath: r.e_field_path,
    },
    source: sourceOf(r.e_src_component, r.e_src_host, r.e_controller, r.e_instance),
    reportingController: r.e_controller,
    reportingInstance: r.e_instance,
    message: r.e_note,
    severity: r.e_severity,
    category: r.e_category,
    workload: r.e_workload_name ? { kind: r.e_workload_kind, name: r.e_workload_name } : null,
    node: r.e_node,
    incidentId: r.e_incident || null,
    labels: r.e_labels,
    fingerprintId: r.e_fingerprint,
    deleted: r.e_deleted,
  };
}

/** Conditions on the immutable, sort-key-ish columns (WHERE, before aggregation). */
function immutableWhere(f: EventFilters, p: Params, col: (c: string) => string = (c) => c): string[] {
  const w: string[] = [];
  if (f.cluster !== undefined) {
    p['f_cluster'] = f.cluster;
    w.push(`${col('cluster')} = {f_cluster:String}`);
  }
  if (f.namespace !== undefined) {
    p['f_namespace'] = f.namespace;
    w.push(`${col('namespace')} = {f_namespace:String}`);
  }
  if (f.kind !== undefined) {
    p['f_kind'] = f.kind;
    w.push(`${col('regarding_kind')} = {f_kind:String}`);
  }
  if (f.name !== undefined) {
    p['f_name'] = f.name;
    w.push(`${col('regarding_name')} = {f_name:String}`);
  }
  if (f.reasons) {
    p['f_reasons'] = f.reasons;
    w.push(`${col('reason')} IN {f_reasons:Array(String)}`);
  }
  if (f.types) {
    p['f_types'] = f.types;
    w.push(`${col('type')} IN {f_types:Array(String)}`);
  }
  return w;
}

/**
 * Conditions on the columns enrichment/classification may change per uid; `c` maps a column to the expression
 * holding its (latest) value.
 */
function mutableWhere(f: EventFilters, p: Params, c: (col: string) => string): string[] {
  const w: string[] = [];
  if (f.severities) {
    p['f_severities'] = f.severities;
    w.push(`${c('severity')} IN {f_severities:Array(String)}`);
  }
  if (f.categories) {
    p['f_categories'] = f.categories;
    w.push(`${c('category')} IN {f_categories:Array(String)}`);
  }
  if (f.workloadName !== undefined) {
    p['f_workload_name'] = f.workloadName;
    w.push(`${c('workload_name')} = {f_workload_name:String}`);
  }
  if (f.workloadKind !== undefined) {
    p['f_workload_kind'] = f.workloadKind;
    w.push(`${c('workload_kind')} = {f_workload_kind:String}`);
  }
  if (f.node !== undefined) {
    p['f_node'] = f.node;
    w.push(`${c('node_name')} = {f_node:String}`);
  }
  if (f.incidentId !== undefined) {
    p['f_incident'] = f.incidentId;
    w.push(`${c('incident_id')} = {f_incident:String}`);
  }
  return w;
}

/** Conditions that need the Event's latest labels or message (events table only). */
function eventOnlyWhere(f: EventFilters, p: Params, c: (col: string) => string): string[] {
  const w: string[] = [];
  if (f.q !== undefined) {
    p['f_q'] = f.q;
    w.push(`positionCaseInsensitiveUTF8(${c('note')}, {f_q:String}) > 0`);
  }
  if (f.selector) w.push(...selectorSql(f.selector, c('object_labels'), p as Record<string, string | string[]>));
  return w;
}

export interface EventCursor {
  lastSeen: string;
  cluster: string;
  uid: string;
}

export interface ListEventsOptions {
  since: number;
  until: number;
  after?: EventCursor;
  limit: number;
}

/**
 * Rows of `events` that hold the latest version of their uid: what FINAL keeps, without FINAL's merge of every
 * row in the key range. The newest version of an Event has the newest last_timestamp, so the versions older than
 * `since` never hold it and are not read; `immutable` narrows the uids by columns no version changes.
 */
function latestVersions(db: string, immutable: string[]): string {
  return `(cluster, uid, version) IN (SELECT cluster, uid, max(version) FROM ${db}.events
    WHERE ${immutable.join(' AND ')} GROUP BY cluster, uid)`;
}

/** Drops repeated rows of one (cluster, uid): a replayed latest version not merged yet (same key, adjacent). */
function uniqueRows(rows: LatestRow[]): { rows: LatestRow[]; dropped: boolean } {
  const out: LatestRow[] = [];
  let dropped = false;
  for (const r of rows) {
    const prev = out[out.length - 1];
    if (prev && prev.cluster === r.cluster && prev.uid === r.uid) dropped = true;
    else out.push(r);
  }
  return { rows: out, dropped };
}

/**
 * Events in their latest state whose last occurrence lies in [since, until), with the filters, newest first by
 * (lastSeen, cluster, uid), after the keyset cursor. Returns at most `limit` items and whether more follow.
 * The filters and the order apply to each uid's latest version only (FINAL semantics): a row is listed when its
 * version is the uid's newest, found by a narrow GROUP BY over (cluster, uid, version) of the range; then the
 * engine sorts the matching rows by the key alone and reads the wide columns (message, labels) for the rows it
 * returns only (lazy materialization on the embedded engine). (A state "as of" an earlier moment cannot be read
 * back: the ReplacingMergeTree drops older versions on merge.)
 */
export async function listEvents(
  store: Store,
  f: EventFilters,
  o: ListEventsOptions,
): Promise<{ items: EventItem[]; more: boolean }> {
  const db = store.database;
  const p: Params = { since: iso(o.since), until: iso(o.until) };
  const immutable = [`last_timestamp >= ${ts('since')}`, ...immutableWhere(f, p)];
  const where = [
    ...immutable,
    `last_timestamp < ${ts('until')}`,
    ...mutableWhere(f, p, (c) => c),
    ...eventOnlyWhere(f, p, (c) => c),
  ];
  if (o.after) {
    p['c_last'] = o.after.lastSeen;
    p['c_cluster'] = o.after.cluster;
    p['c_uid'] = o.after.uid;
    where.push(`(last_timestamp, cluster, uid) < (${ts('c_last')}, {c_cluster:String}, {c_uid:String})`);
  }
  where.push(latestVersions(db, immutable));
  // Rarely a replayed latest version is not merged yet and comes twice: ask for more until the page is whole.
  for (let extra = 0; ; extra = extra * 2 + 8) {
    p['limit'] = o.limit + 1 + extra;
    const raw = await store.query<LatestRow>(
      `SELECT ${LATEST} FROM ${db}.events WHERE ${where.join(' AND ')}
       ORDER BY last_timestamp DESC, cluster DESC, uid DESC LIMIT {limit:UInt32}`,
      p,
    );
    const { rows, dropped } = uniqueRows(raw);
    if (dropped && raw.length === p['limit'] && rows.length <= o.limit) continue;
    return { items: rows.slice(0, o.limit).map(toItem), more: rows.length > o.limit };
  }
}

/**
 * The member events of an incident (latest state of each Event whose latest version names it), oldest first.
 * The bloom filter on incident_id finds the candidate rows; their uids' latest versions decide.
 */
export async function incidentMembers(
  store: Store,
  incident: { id: string; cluster: string },
  limit: number,
): Promise<EventItem[]> {
  const db = store.database;
  const rows = await store.query<LatestRow>(
    `SELECT ${LATEST} FROM ${db}.events
     WHERE cluster = {cluster:String} AND incident_id = {id:String}
       AND (cluster, uid, version) IN (
         SELECT cluster, uid, max(version) FROM ${db}.events
         WHERE cluster = {cluster:String}
           AND (namespace, regarding_kind, regarding_name, uid) IN (
             SELECT namespace, regarding_kind, regarding_name, uid FROM ${db}.events
             WHERE cluster = {cluster:String} AND incident_id = {id:String})
         GROUP BY cluster, uid)
     ORDER BY first_timestamp, last_timestamp, cluster, uid
     LIMIT 1 BY cluster, uid
     LIMIT {limit:UInt32}`,
    { id: incident.id, cluster: incident.cluster, limit },
  );
  return rows.map(toItem);
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline

interface TimelineRow {
  time: string;
  cluster: string;
  uid: string;
  regarding_kind: string;
  regarding_name: string;
  type: string;
  reason: string;
  count: number;
  occurrences: number;
  severity: string;
  category: string;
  incident_id: string;
  bucket: string;
}

/** One Event of a timeline: its latest name, message and object uid, and its first and last occurrence. */
interface TimelineEventRow {
  cluster: string;
  uid: string;
  x_kind: string;
  x_name: string;
  x_namespace: string;
  obj_uid: string;
  e_name: string;
  e_note: string;
  first_seen: string;
  last_seen: string;
}

function bucketsOf(rows: TimelineRow[]): { time: string; occurrences: number; warnings: number }[] {
  const out: { time: string; occurrences: number; warnings: number }[] = [];
  const at = new Map<string, { time: string; occurrences: number; warnings: number }>();
  for (const r of rows) {
    if (r.occurrences <= 0) continue;
    let b = at.get(r.bucket);
    if (!b) {
      b = { time: r.bucket, occurrences: 0, warnings: 0 };
      at.set(r.bucket, b);
      out.push(b);
    }
    b.occurrences += r.occurrences;
    if (r.type === 'Warning') b.warnings += r.occurrences;
  }
  return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

type TimelineObject = {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  firstSeen: string;
  lastSeen: string;
};

/** The objects of a timeline's Events (kind, name, object uid), first seen first. */
function objectsOf(events: TimelineEventRow[]): TimelineObject[] {
  const at = new Map<string, TimelineObject>();
  for (const e of events) {
    const key = `${e.x_kind}\u0000${e.x_name}\u0000${e.obj_uid}`;
    const first = normalizeTs(e.first_seen);
    const last = normalizeTs(e.last_seen);
    const x = at.get(key);
    if (!x)
      at.set(key, {
        kind: e.x_kind,
        namespace: e.x_namespace,
        name: e.x_name,
        uid: e.obj_uid,
        firstSeen: first,
        lastSeen: last,
      });
    else {
      if (first < x.firstSeen) x.firstSeen = first;
      if (last > x.lastSeen) x.lastSeen = last;
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...at.values()].sort(
    (a, b) => cmp(a.firstSeen, b.firstSeen) || cmp(a.kind, b.kind) || cmp(a.name, b.name) || cmp(a.uid, b.uid),
  );
}

export interface TimelineTarget {
  cluster?: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Occurrence rows of the object (any uid it had) and, for a workload, of everything it owns. */
function timelineWhere(t: TimelineTarget, p: Params): string {
  p['t_kind'] = t.kind;
  p['t_namespace'] = t.namespace;
  p['t_name'] = t.name;
  const w = ['namespace = {t_namespace:String}'];
  const self = '(regarding_kind = {t_kind:String} AND regarding_name = {t_name:String})';
  w.push(
    WORKLOAD_KINDS.has(t.kind)
      ? `(${self} OR (workload_kind = {t_kind:String} AND workload_name = {t_name:String}))`
      : self,
  );
  if (t.cluster !== undefined) {
    p['t_cluster'] = t.cluster;
    w.push('cluster = {t_cluster:String}');
  }
  return w.join(' AND ');
}

/**
 * When the object's history starts (its first Event's first_timestamp, to the minute), for a timeline asked without
 * `since`: its range and bucket width then fit the object instead of spanning everything since 1970.
 */
export async function timelineStart(store: Store, t: TimelineTarget): Promise<number | undefined> {
  const p: Params = {};
  const where = timelineWhere(t, p);
  const [row] = await store.query<{ first: string; n: number }>(
    `SELECT min(first_timestamp) AS first, count() AS n FROM ${store.database}.events WHERE ${where}`,
    p,
  );
  if (!row || Number(row.n) === 0) return undefined;
  const first = Date.parse(normalizeTs(row.first));
  return Number.isFinite(first) && first > 0 ? first - (first % 60_000) : undefined;
}

export async function timeline(
  store: Store,
  t: TimelineTarget,
  o: { since: number; until: number; step: string; limit: number },
): Promise<{
  entries: TimelineEntry[];
  truncated: boolean;
  buckets: TimelineBucket[];
  objects: TimelineObject[];
}> {
  const db = store.database;
  const p: Params = { since: iso(o.since), until: iso(o.until), limit: o.limit + 1 };
  const where = timelineWhere(t, p);
  const range = `time >= ${ts('since')} AND time < ${ts('until')}`;
  const interval = STEP_INTERVAL[o.step] ?? 'INTERVAL 1 HOUR';
  // Occurrences without FINAL: a replayed observation is the same (cluster, uid, resource_version) with the same
  // values, so LIMIT 1 BY keeps one of each, as FINAL would, at a fraction of its cost for one object's rows.
  // Beside them, one pass over the Events of the range (an occurrence at t in [since, until) belongs to an Event
  // with last_timestamp >= since and first_timestamp < until): their latest message and name for the entries,
  // their objects (every uid the name had) for the header. Joined here rather than in the engine, so `events` is
  // read once.
  const [rows, events] = await Promise.all([
    store.query<TimelineRow>(
      `SELECT time, cluster, uid, resource_version, regarding_kind, regarding_name, type, reason, count, occurrences,
              severity, category, incident_id, toStartOfInterval(time, ${interval}) AS bucket
       FROM ${db}.occurrences WHERE ${where} AND ${range}
       ORDER BY time, uid, resource_version LIMIT 1 BY cluster, uid, resource_version
       LIMIT {limit:UInt32}`,
      p,
    ),
    store.query<TimelineEventRow>(
      // aliases differ from every column name (ClickHouse aliases are visible in WHERE)
      `SELECT cluster, uid, regarding_kind AS x_kind, regarding_name AS x_name,
              argMax(regarding_namespace, version) AS x_namespace, argMax(regarding_uid, version) AS obj_uid,
              argMax(name, version) AS e_name, argMax(note, version) AS e_note,
              min(first_timestamp) AS first_seen, max(last_timestamp) AS last_seen
       FROM ${db}.events
       WHERE ${where} AND last_timestamp >= ${ts('since')} AND first_timestamp < ${ts('until')}
       GROUP BY cluster, uid, regarding_kind, regarding_name`,
      p,
    ),
  ]);
  const byUid = new Map(events.map((e) => [`${e.cluster}\u0000${e.uid}`, e]));
  const objects = objectsOf(events);
  // The buckets count every occurrence in the range: from the rows when they are all here, else in the engine.
  const buckets =
    rows.length <= o.limit
      ? bucketsOf(rows)
      : await store.query<{ time: string; occurrences: number; warnings: number }>(
          `SELECT t AS time, n AS occurrences, w AS warnings FROM (
             SELECT bucket AS t, sum(occurrences) AS n, sumIf(occurrences, type = 'Warning') AS w FROM (
               SELECT toStartOfInterval(time, ${interval}) AS bucket, occurrences, type FROM ${db}.occurrences
               WHERE ${where} AND ${range} AND occurrences > 0
               LIMIT 1 BY cluster, uid, resource_version)
             GROUP BY t) ORDER BY t`,
          p,
        );
  const ev = (r: TimelineRow) => byUid.get(`${r.cluster}\u0000${r.uid}`);
  const truncated = rows.length > o.limit;
  return {
    truncated,
    entries: rows.slice(0, o.limit).map((r) => ({
      time: normalizeTs(r.time),
      cluster: r.cluster,
      uid: r.uid,
      name: ev(r)?.e_name ?? '',
      object: {
        kind: r.regarding_kind,
        namespace: t.namespace,
        name: r.regarding_name,
        uid: ev(r)?.obj_uid ?? '',
      },
      type: r.type,
      reason: r.reason,
      count: r.count,
      occurrences: r.occurrences,
      severity: r.severity,
      category: r.category,
      message: ev(r)?.e_note ?? '',
      incidentId: r.incident_id || null,
    })),
    buckets: buckets.map((b) => ({ time: normalizeTs(b.time), occurrences: b.occurrences, warnings: b.warnings })),
    objects,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Incidents

/** An incidents row as the routes select it (every column but the replacing version). */
type IncidentDbRow = Omit<IncidentRow, 'version'>;

export function incidentItem(r: IncidentDbRow): Incident {
  return {
    id: r.id,
    cluster: r.cluster,
    namespace: r.namespace,
    title: r.title,
    severity: r.severity,
    category: r.category,
    state: r.state,
    rootCause: {
      eventUid: r.root_cause_event_uid,
      reason: r.root_cause_reason,
      object: r.root_cause_object,
      why: r.root_cause_why,
    },
    affected: r.affected_objects,
    firstSeen: normalizeTs(r.first_seen),
    lastSeen: normalizeTs(r.last_seen),
    eventCount: r.event_count,
    occurrenceCount: r.occurrence_count,
  };
}

const INCIDENT_COLUMNS =
  'cluster, id, namespace, title, severity, category, root_cause_event_uid, root_cause_reason, root_cause_object, root_cause_why, affected_objects, first_seen, last_seen, event_count, occurrence_count, state';

export interface IncidentFilters {
  cluster?: string;
  namespace?: string;
  state?: string;
  severities?: string[];
  categories?: string[];
}

/** Incidents (latest version each) active in [since, until), most recently seen first. */
export async function listIncidents(
  store: Store,
  f: IncidentFilters,
  o: { since: number; until: number; limit: number },
): Promise<Incident[]> {
  const p: Params = { since: iso(o.since), until: iso(o.until), limit: o.limit };
  const w = [`last_seen >= ${ts('since')}`, `first_seen < ${ts('until')}`];
  for (const k of ['cluster', 'namespace', 'state'] as const) {
    const v = f[k];
    if (v !== undefined) {
      p[`i_${k}`] = v;
      w.push(`${k} = {i_${k}:String}`);
    }
  }
  if (f.severities) {
    p['i_severities'] = f.severities;
    w.push('severity IN {i_severities:Array(String)}');
  }
  if (f.categories) {
    p['i_categories'] = f.categories;
    w.push('category IN {i_categories:Array(String)}');
  }
  const rows = await store.query<IncidentDbRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM ${store.database}.incidents FINAL WHERE ${w.join(' AND ')}
     ORDER BY last_seen DESC, cluster, id LIMIT {limit:UInt32}`,
    p,
  );
  return rows.map(incidentItem);
}

export async function getIncident(store: Store, id: string, cluster?: string): Promise<Incident | undefined> {
  const p: Params = { id };
  let w = 'id = {id:String}';
  if (cluster !== undefined) {
    p['cluster'] = cluster;
    w += ' AND cluster = {cluster:String}';
  }
  const rows = await store.query<IncidentDbRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM ${store.database}.incidents FINAL WHERE ${w} ORDER BY last_seen DESC LIMIT 1`,
    p,
  );
  return rows[0] ? incidentItem(rows[0]) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Top and series: exact occurrence counts. From the per-minute rollup when the filters allow it, else from
// `occurrences FINAL` (the same numbers: the rollup equals that aggregate, see libs/store's README). Both align
// the range to whole minutes: [floor(since), ceil(until)).

export const STEP_INTERVAL: Readonly<Record<string, string>> = {
  '1m': 'INTERVAL 1 MINUTE',
  '5m': 'INTERVAL 5 MINUTE',
  '15m': 'INTERVAL 15 MINUTE',
  '1h': 'INTERVAL 1 HOUR',
  '1d': 'INTERVAL 1 DAY',
};

export function minuteRange(since: number, until: number): { since: number; until: number } {
  return { since: Math.floor(since / 60_000) * 60_000, until: Math.ceil(until / 60_000) * 60_000 };
}

/** The filters the rollup view can answer (it has no node, name, incident, labels or message). */
function rollupCan(f: EventFilters): boolean {
  return (
    f.name === undefined &&
    f.node === undefined &&
    f.incidentId === undefined &&
    f.selector === undefined &&
    f.q === undefined
  );
}

const ROLLUP_COL: Readonly<Record<string, string>> = { regarding_kind: 'kind' };
const OCC_COL = (c: string) => c;

/** FROM + WHERE of an aggregation over new occurrences in the (minute-aligned) range. */
function occurrenceSource(
  store: Store,
  f: EventFilters,
  p: Params,
  useRollup: boolean,
): { from: string; time: string; kind: string; uid: string } {
  const db = store.database;
  if (useRollup) {
    const col = (c: string) => ROLLUP_COL[c] ?? c;
    const w = [
      `minute >= ${ts('since')}`,
      `minute < ${ts('until')}`,
      ...immutableWhere(f, p, col),
      ...mutableWhere(f, p, col),
    ];
    return { from: `${db}.events_per_minute WHERE ${w.join(' AND ')}`, time: 'minute', kind: 'kind', uid: 'uid_hash' };
  }
  const w = [
    `time >= ${ts('since')}`,
    `time < ${ts('until')}`,
    'occurrences > 0',
    ...immutableWhere(f, p),
    ...mutableWhere(f, p, OCC_COL),
  ];
  const only = eventOnlyWhere(f, p, (c) => c);
  if (only.length > 0) {
    w.push(`(cluster, uid) IN (SELECT cluster, uid FROM ${db}.events FINAL WHERE ${only.join(' AND ')})`);
  }
  return {
    from: `${db}.occurrences FINAL WHERE ${w.join(' AND ')}`,
    time: 'time',
    kind: 'regarding_kind',
    uid: 'sipHash64(cluster, uid)',
  };
}

/** Filters on columns that no version of an Event changes (they sit in the rollup state's key). */
function immutableOnly(f: EventFilters): boolean {
  return (
    rollupCan(f) &&
    f.severities === undefined &&
    f.categories === undefined &&
    f.workloadKind === undefined &&
    f.workloadName === undefined
  );
}

/**
 * Top reasons or namespaces from the rollup state, one group per Event instead of per (minute, Event): an Event's
 * count only grows with time, so the count ranges of its minutes in a window join into one, and max(hi) - min(lo)
 * over the whole window is the sum of its per-minute new occurrences (the identity the rollup rests on, over a
 * longer window). Same numbers as the per-minute view, ~2.3x less CPU for a day (the bench's top reasons).
 * Only for keys and filters no version changes: reason, type, namespace, kind, cluster.
 */
async function topByEvent(store: Store, by: 'reason' | 'namespace', f: EventFilters, p: Params): Promise<TopItem[]> {
  const col = (c: string) => ROLLUP_COL[c] ?? c;
  const w = [`minute >= ${ts('since')}`, `minute < ${ts('until')}`, ...immutableWhere(f, p, col)];
  const [k, d] = by === 'reason' ? ['reason', 'type'] : ['namespace', "''"];
  return store.query<TopItem>(
    `SELECT k AS key, '' AS namespace, d AS detail, n_occ AS occurrences, n_events AS events FROM (
       SELECT k, d, sum(o) AS n_occ, count() AS n_events FROM (
         SELECT ${k} AS k, ${d} AS d, max(hi) - min(lo) AS o FROM ${store.database}.events_per_minute_state
         WHERE ${w.join(' AND ')}
         GROUP BY cluster, namespace, kind, reason, type, uid_hash)
       GROUP BY k, d)
     ORDER BY n_occ DESC, k, d LIMIT {limit:UInt32}`,
    p,
  );
}

export async function top(
  store: Store,
  by: TopBy,
  f: EventFilters,
  o: { since: number; until: number; limit: number },
): Promise<TopItem[]> {
  const p: Params = { since: iso(o.since), until: iso(o.until), limit: o.limit };
  if ((by === 'reason' || by === 'namespace') && immutableOnly(f)) return topByEvent(store, by, f, p);
  const useRollup = rollupCan(f) && (by === 'reason' || by === 'namespace' || by === 'workload');
  const src = occurrenceSource(store, f, p, useRollup);
  const agg = `sum(occurrences) AS n_occ, uniqExact(${src.uid}) AS n_events`;
  // inner aliases differ from every column name (ClickHouse aliases are visible in WHERE and GROUP BY)
  let sql: string;
  switch (by) {
    case 'reason':
      sql = `SELECT reason AS k, '' AS nsp, type AS d, ${agg} FROM ${src.from} GROUP BY reason, type`;
      break;
    case 'namespace':
      sql = `SELECT namespace AS k, '' AS nsp, '' AS d, ${agg} FROM ${src.from} GROUP BY namespace`;
      break;
    case 'workload':
      sql = `SELECT concat(workload_kind, '/', workload_name) AS k, namespace AS nsp, '' AS d, ${agg}
             FROM ${src.from} AND workload_name != '' GROUP BY namespace, workload_kind, workload_name`;
      break;
    case 'node':
      sql = `SELECT node_name AS k, '' AS nsp, '' AS d, ${agg}
             FROM ${src.from} AND node_name != '' GROUP BY node_name`;
      break;
    case 'fingerprint':
      sql = `SELECT fingerprint_id AS k, '' AS nsp, '' AS d, ${agg}
             FROM ${src.from} AND fingerprint_id != '' GROUP BY fingerprint_id`;
      break;
  }
  const items = await store.query<TopItem>(
    `SELECT k AS key, nsp AS namespace, d AS detail, n_occ AS occurrences, n_events AS events FROM (${sql})
     ORDER BY n_occ DESC, k, nsp, d LIMIT {limit:UInt32}`,
    p,
  );
  if (by === 'fingerprint' && items.length > 0) {
    const templates = await store.query<{ id: string; template: string }>(
      `SELECT fingerprint_id AS id, any(fingerprint_template) AS template FROM ${store.database}.events
       WHERE fingerprint_id IN {ids:Array(String)} GROUP BY fingerprint_id`,
      { ids: items.map((i) => i.key) },
    );
    const t = new Map(templates.map((x) => [x.id, x.template]));
    for (const i of items) i.detail = t.get(i.key) ?? '';
  }
  return items;
}

const SERIES_GROUP: Readonly<Record<string, (kind: string) => string>> = {
  reason: () => 'reason',
  namespace: () => 'namespace',
  severity: () => 'severity',
  category: () => 'category',
  kind: (kind) => kind,
  type: () => 'type',
  workload: () => "if(workload_name = '', '', concat(workload_kind, '/', workload_name))",
};

export async function series(
  store: Store,
  f: EventFilters,
  o: { since: number; until: number; step: string; groupBy?: string },
): Promise<SeriesPoint[]> {
  const p: Params = { since: iso(o.since), until: iso(o.until) };
  const src = occurrenceSource(store, f, p, rollupCan(f));
  const group = o.groupBy ? (SERIES_GROUP[o.groupBy] as (k: string) => string)(src.kind) : "''";
  const interval = STEP_INTERVAL[o.step] ?? 'INTERVAL 1 HOUR';
  const rows = await store.query<SeriesPoint>(
    `SELECT t AS time, g AS group, n AS occurrences FROM (
       SELECT toDateTime(toStartOfInterval(${src.time}, ${interval}), 'UTC') AS t, ${group} AS g, sum(occurrences) AS n
       FROM ${src.from} GROUP BY t, g) WHERE n > 0 ORDER BY t, g`,
    p,
  );
  return rows.map((r) => ({ time: normalizeTs(r.time), group: r.group, occurrences: r.occurrences }));
}
