// Read queries for the API, the CLI and dashboards. Every value is bound as a `{name:Type}` parameter; only
// identifiers chosen from fixed lists (never user text) are placed in the SQL.
import { StoreError } from './errors.ts';
import type { QueryParams, Store } from './store.ts';

export interface TimeRange {
  /** Inclusive lower bound (ISO 8601 / RFC 3339). */
  since: string;
  /** Exclusive upper bound. */
  until: string;
}

export interface EventFilter extends Partial<TimeRange> {
  cluster?: string;
  namespace?: string;
  /** regarding.kind */
  kind?: string;
  /** regarding.name */
  name?: string;
  reason?: string;
  type?: string;
  severity?: string;
  category?: string;
  workloadKind?: string;
  workloadName?: string;
  nodeName?: string;
  incidentId?: string;
  /** Substring of the note (case-insensitive). */
  search?: string;
  /** Default 500, at most 10000. */
  limit?: number;
  /** Include events whose last observation was a DELETED (TTL expiry). Default true. */
  includeDeleted?: boolean;
}

export interface EventSummary {
  cluster: string;
  namespace: string;
  uid: string;
  name: string;
  type: string;
  reason: string;
  regarding_kind: string;
  regarding_name: string;
  regarding_namespace: string;
  note: string;
  count: number;
  first_timestamp: string;
  last_timestamp: string;
  reporting_controller: string;
  severity: string;
  category: string;
  workload_kind: string;
  workload_name: string;
  node_name: string;
  incident_id: string;
  resource_version: string;
  deleted: boolean;
}

const EVENT_COLUMNS =
  'cluster, namespace, uid, name, type, reason, regarding_kind, regarding_name, regarding_namespace, note, count, first_timestamp, last_timestamp, reporting_controller, severity, category, workload_kind, workload_name, node_name, incident_id, resource_version, deleted';

function limitOf(n: number | undefined, dflt: number): number {
  const v = n ?? dflt;
  if (!Number.isInteger(v) || v < 1 || v > 10_000)
    throw new StoreError(`limit must be an integer in 1..10000, got ${v}`);
  return v;
}

function eventWhere(f: EventFilter, p: Record<string, string | number>): string[] {
  const w: string[] = [];
  const eq = (col: string, key: keyof EventFilter) => {
    const v = f[key];
    if (v !== undefined && v !== '') {
      p[key] = String(v);
      w.push(`${col} = {${key}:String}`);
    }
  };
  eq('cluster', 'cluster');
  eq('namespace', 'namespace');
  eq('regarding_kind', 'kind');
  eq('regarding_name', 'name');
  eq('reason', 'reason');
  eq('type', 'type');
  eq('severity', 'severity');
  eq('category', 'category');
  eq('workload_kind', 'workloadKind');
  eq('workload_name', 'workloadName');
  eq('node_name', 'nodeName');
  eq('incident_id', 'incidentId');
  if (f.search) {
    p['search'] = f.search;
    w.push('positionCaseInsensitiveUTF8(note, {search:String}) > 0');
  }
  if (f.includeDeleted === false) w.push('NOT deleted');
  return w;
}

/**
 * Events (latest state per uid, FINAL) with any of the filters, whose last occurrence lies in [since, until),
 * newest first.
 */
export async function queryEvents(store: Store, f: EventFilter = {}): Promise<EventSummary[]> {
  const p: Record<string, string | number> = {};
  const w = eventWhere(f, p);
  if (f.since) {
    p['since'] = f.since;
    w.push("last_timestamp >= parseDateTime64BestEffort({since:String}, 6, 'UTC')");
  }
  if (f.until) {
    p['until'] = f.until;
    w.push("last_timestamp < parseDateTime64BestEffort({until:String}, 6, 'UTC')");
  }
  p['limit'] = limitOf(f.limit, 500);
  return store.query<EventSummary>(
    `SELECT ${EVENT_COLUMNS} FROM ${store.database}.events FINAL ${w.length ? `WHERE ${w.join(' AND ')}` : ''}
     ORDER BY last_timestamp DESC, uid LIMIT {limit:UInt32}`,
    p,
  );
}

export interface TimelineEntry {
  time: string;
  uid: string;
  resource_version: number;
  watch_type: string;
  type: string;
  reason: string;
  count: number;
  occurrences: number;
  severity: string;
  category: string;
  note: string;
}

/**
 * One object's timeline: every stored observation of every Event about it (kind/namespace/name), oldest first,
 * with the note of the Event's latest state.
 */
export async function objectTimeline(
  store: Store,
  o: {
    cluster?: string;
    namespace: string;
    kind: string;
    name: string;
    since?: string;
    until?: string;
    limit?: number;
  },
): Promise<TimelineEntry[]> {
  const p: QueryParams = {
    namespace: o.namespace,
    kind: o.kind,
    name: o.name,
    cluster: o.cluster ?? '',
    since: o.since ?? '1970-01-01T00:00:00Z',
    until: o.until ?? '2106-01-01T00:00:00Z',
    limit: limitOf(o.limit, 1000),
  };
  const db = store.database;
  return store.query<TimelineEntry>(
    `SELECT o.time AS time, o.uid AS uid, o.resource_version AS resource_version, o.watch_type AS watch_type,
            o.type AS type, o.reason AS reason, o.count AS count, o.occurrences AS occurrences,
            o.severity AS severity, o.category AS category, e.note AS note
     FROM (SELECT * FROM ${db}.occurrences FINAL
           WHERE namespace = {namespace:String} AND regarding_kind = {kind:String} AND regarding_name = {name:String}
             AND ({cluster:String} = '' OR cluster = {cluster:String})
             AND time >= parseDateTime64BestEffort({since:String}, 6, 'UTC')
             AND time < parseDateTime64BestEffort({until:String}, 6, 'UTC')) AS o
     LEFT JOIN (SELECT cluster, uid, argMax(note, version) AS note FROM ${db}.events
                WHERE namespace = {namespace:String} AND regarding_kind = {kind:String} AND regarding_name = {name:String}
                GROUP BY cluster, uid) AS e
       ON o.cluster = e.cluster AND o.uid = e.uid
     ORDER BY time, resource_version LIMIT {limit:UInt32}`,
    p,
  );
}

export interface IncidentFilter extends Partial<TimeRange> {
  cluster?: string;
  namespace?: string;
  state?: 'open' | 'resolved';
  severity?: string;
  limit?: number;
}

export interface IncidentRow {
  cluster: string;
  id: string;
  namespace: string;
  title: string;
  severity: string;
  category: string;
  root_cause_event_uid: string;
  root_cause_reason: string;
  root_cause_object: string;
  root_cause_why: string;
  affected_objects: string[];
  first_seen: string;
  last_seen: string;
  event_count: number;
  occurrence_count: number;
  state: string;
  version: number;
}

/** Incidents (latest version each) active in [since, until), most recently seen first. */
export async function queryIncidents(store: Store, f: IncidentFilter = {}): Promise<IncidentRow[]> {
  const p: Record<string, string | number> = {};
  const w: string[] = [];
  for (const k of ['cluster', 'namespace', 'state', 'severity'] as const) {
    const v = f[k];
    if (v) {
      p[k] = v;
      w.push(`${k} = {${k}:String}`);
    }
  }
  if (f.since) {
    p['since'] = f.since;
    w.push("last_seen >= parseDateTime64BestEffort({since:String}, 6, 'UTC')");
  }
  if (f.until) {
    p['until'] = f.until;
    w.push("first_seen < parseDateTime64BestEffort({until:String}, 6, 'UTC')");
  }
  p['limit'] = limitOf(f.limit, 200);
  return store.query<IncidentRow>(
    `SELECT * FROM ${store.database}.incidents FINAL ${w.length ? `WHERE ${w.join(' AND ')}` : ''}
     ORDER BY last_seen DESC, id LIMIT {limit:UInt32}`,
    p,
  );
}

export interface RollupFilter extends TimeRange {
  cluster?: string;
  namespace?: string;
  kind?: string;
  reason?: string;
  type?: string;
  severity?: string;
  category?: string;
  workloadName?: string;
}

function rollupWhere(f: RollupFilter, p: Record<string, string | number>): string {
  const w = [
    "minute >= toStartOfMinute(parseDateTime64BestEffort({since:String}, 6, 'UTC'))",
    "minute < parseDateTime64BestEffort({until:String}, 6, 'UTC')",
  ];
  p['since'] = f.since;
  p['until'] = f.until;
  const cols: Array<[keyof RollupFilter, string]> = [
    ['cluster', 'cluster'],
    ['namespace', 'namespace'],
    ['kind', 'kind'],
    ['reason', 'reason'],
    ['type', 'type'],
    ['severity', 'severity'],
    ['category', 'category'],
    ['workloadName', 'workload_name'],
  ];
  for (const [k, col] of cols) {
    const v = f[k];
    if (v) {
      p[k] = v;
      w.push(`${col} = {${k}:String}`);
    }
  }
  return w.join(' AND ');
}

export interface ReasonCount {
  reason: string;
  type: string;
  occurrences: number;
  events: number;
}

/** Top reasons by new occurrences in the range (from the per-minute rollup). */
export async function topReasons(store: Store, f: RollupFilter & { limit?: number }): Promise<ReasonCount[]> {
  const p: Record<string, string | number> = {};
  const where = rollupWhere(f, p);
  p['limit'] = limitOf(f.limit, 20);
  return store.query<ReasonCount>(
    `SELECT reason, type, sum(occurrences) AS occurrences, uniqExact(uid_hash) AS events
     FROM ${store.database}.events_per_minute WHERE ${where}
     GROUP BY reason, type ORDER BY occurrences DESC, reason LIMIT {limit:UInt32}`,
    p,
  );
}

const STEPS: Readonly<Record<string, string>> = {
  '1m': 'toStartOfMinute(minute)',
  '5m': 'toStartOfFiveMinutes(minute)',
  '15m': 'toStartOfFifteenMinutes(minute)',
  '1h': 'toStartOfHour(minute)',
  '1d': 'toStartOfDay(minute)',
};

export type Step = '1m' | '5m' | '15m' | '1h' | '1d';

export interface CountPoint {
  time: string;
  group: string;
  occurrences: number;
}

/** New occurrences per step in [since, until), optionally split by one dimension (from the rollup). */
export async function countsOverTime(
  store: Store,
  f: RollupFilter & {
    step?: Step;
    groupBy?: 'reason' | 'namespace' | 'severity' | 'category' | 'kind' | 'type' | 'workload_name';
  },
): Promise<CountPoint[]> {
  const step = STEPS[f.step ?? '1h'];
  if (!step) throw new StoreError(`unknown step ${f.step}`);
  const group = f.groupBy ?? null;
  const allowed = ['reason', 'namespace', 'severity', 'category', 'kind', 'type', 'workload_name'];
  if (group !== null && !allowed.includes(group)) throw new StoreError(`cannot group by ${group}`);
  const p: Record<string, string | number> = {};
  const where = rollupWhere(f, p);
  return store.query<CountPoint>(
    `SELECT ${step} AS time, ${group ?? "''"} AS group, sum(occurrences) AS occurrences
     FROM ${store.database}.events_per_minute WHERE ${where}
     GROUP BY time, group ORDER BY time, group`,
    p,
  );
}
