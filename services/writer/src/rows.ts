// Pure mapping from the payloads the writer reads to the rows of the kec tables. No I/O, no clock: the same
// message always gives the same rows, which is what makes a retried or replayed insert collapse.
import type { GapRecord } from '@kec/model';
import type { IncidentRow } from '@kec/store';
import type { IncidentPayload, KecEventsPayload, PatternPayload } from './contract.ts';

type Str = Record<string, string>;

export interface EventRow {
  cluster: string;
  namespace: string;
  uid: string;
  name: string;
  resource_version: string;
  version: string;
  source_api: string;
  watch_type: string;
  deleted: boolean;
  observed_at: string;
  creation_timestamp: string | null;
  first_timestamp: string;
  last_timestamp: string;
  event_time: string | null;
  series_count: number | null;
  series_last_observed_time: string | null;
  count: number;
  type: string;
  reason: string;
  action: string;
  note: string;
  combined: boolean;
  reporting_controller: string;
  reporting_instance: string;
  regarding_kind: string;
  regarding_namespace: string;
  regarding_name: string;
  regarding_uid: string;
  regarding_api_version: string;
  regarding_resource_version: string;
  regarding_field_path: string;
  related_kind: string;
  related_namespace: string;
  related_name: string;
  related_uid: string;
  related_api_version: string;
  related_resource_version: string;
  related_field_path: string;
  deprecated_source_component: string;
  deprecated_source_host: string;
  deprecated_first_timestamp: string | null;
  deprecated_last_timestamp: string | null;
  deprecated_count: number | null;
  labels: Str;
  annotations: Str;
  enrichment_status: string;
  object_labels: Str;
  object_annotations: Str;
  object_deleted: boolean;
  workload_kind: string;
  workload_name: string;
  node_name: string;
  node_zone: string;
  namespace_labels: Str;
  severity: string;
  category: string;
  actionable: boolean;
  rule_id: string;
  ruleset_version: string;
  fields: Str;
  fingerprint_id: string;
  fingerprint_template: string;
  incident_id: string;
}

export interface OccurrenceRow {
  time: string;
  cluster: string;
  namespace: string;
  uid: string;
  resource_version: string;
  watch_type: string;
  count: number;
  occurrences: number;
  type: string;
  reason: string;
  regarding_kind: string;
  regarding_name: string;
  workload_kind: string;
  workload_name: string;
  node_name: string;
  severity: string;
  category: string;
  fingerprint_id: string;
  incident_id: string;
}

/** The incidents table's row, as libs/store reads it back. */
export type { IncidentRow };

export interface GapRow {
  cluster: string;
  from_resource_version: string;
  to_resource_version: string;
  from_time: string;
  to_time: string;
  reason: string;
  detected_by: string;
}

export interface PatternRow {
  at: string;
  kind: string;
  cluster: string;
  namespace: string;
  workload: string;
  fingerprint: string;
  reason: string;
  window_seconds: number;
  rate: number;
  baseline: number;
}

const UINT64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^\d{1,20}$/;

/** FNV-1a 64 of a string, as a decimal string (for opaque, non-numeric resourceVersions). */
export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & UINT64_MAX;
  }
  return h.toString();
}

function microsOf(ts: string): bigint {
  const m = /\.(\d+)Z$/.exec(ts);
  const ms = Date.parse(ts);
  const frac = m ? (m[1] ?? '').padEnd(6, '0').slice(0, 6) : '000000';
  return BigInt(Math.floor(ms / 1000)) * 1_000_000n + BigInt(frac);
}

/**
 * The ordering version of an observation: the resourceVersion when it is decimal (etcd's revision; always the
 * case on kube-apiserver), else the µs of its lastTimestamp (the replay rule's fallback order).
 */
export function observationVersion(ev: Pick<KecEventsPayload, 'resourceVersion' | 'lastTimestamp'>): string {
  const rv = ev.resourceVersion;
  if (DECIMAL.test(rv) && BigInt(rv) <= UINT64_MAX) return BigInt(rv).toString();
  return microsOf(ev.lastTimestamp).toString();
}

/** The occurrence key's resource_version: the decimal RV, else a 64-bit hash of the opaque RV. */
export function occurrenceKey(rv: string): string {
  return DECIMAL.test(rv) && BigInt(rv) <= UINT64_MAX ? BigInt(rv).toString() : fnv1a64(rv);
}

/**
 * New occurrences of an observation. The correlator's `occurrences` when present; a payload without it (a plain
 * or enriched KecEvent written without the correlator) counts its `count` when ADDED and nothing otherwise
 * (the writer keeps no per-uid state; the replay rule lives in the correlator).
 */
export function occurrencesOf(ev: KecEventsPayload): number {
  if (ev.watchType === 'DELETED') return 0;
  if (ev.occurrences !== undefined) return ev.occurrences;
  return ev.watchType === 'ADDED' ? ev.count : 0;
}

export function eventRow(ev: KecEventsPayload): EventRow {
  const en = ev.enrichment ?? null;
  const cl = ev.classification ?? null;
  const rel = ev.related;
  return {
    cluster: ev.cluster,
    namespace: ev.namespace,
    uid: ev.uid,
    name: ev.name,
    resource_version: ev.resourceVersion,
    version: observationVersion(ev),
    source_api: ev.sourceApi,
    watch_type: ev.watchType,
    deleted: ev.watchType === 'DELETED',
    observed_at: ev.observedAt,
    creation_timestamp: ev.creationTimestamp,
    first_timestamp: ev.firstTimestamp,
    last_timestamp: ev.lastTimestamp,
    event_time: ev.eventTime,
    series_count: ev.series ? ev.series.count : null,
    series_last_observed_time: ev.series ? ev.series.lastObservedTime : null,
    count: ev.count,
    type: ev.type,
    reason: ev.reason,
    action: ev.action,
    note: ev.note,
    combined: ev.combined,
    reporting_controller: ev.reportingController,
    reporting_instance: ev.reportingInstance,
    regarding_kind: ev.regarding.kind,
    regarding_namespace: ev.regarding.namespace,
    regarding_name: ev.regarding.name,
    regarding_uid: ev.regarding.uid,
    regarding_api_version: ev.regarding.apiVersion,
    regarding_resource_version: ev.regarding.resourceVersion,
    regarding_field_path: ev.regarding.fieldPath,
    related_kind: rel?.kind ?? '',
    related_namespace: rel?.namespace ?? '',
    related_name: rel?.name ?? '',
    related_uid: rel?.uid ?? '',
    related_api_version: rel?.apiVersion ?? '',
    related_resource_version: rel?.resourceVersion ?? '',
    related_field_path: rel?.fieldPath ?? '',
    deprecated_source_component: ev.deprecatedSource.component,
    deprecated_source_host: ev.deprecatedSource.host,
    deprecated_first_timestamp: ev.deprecatedFirstTimestamp,
    deprecated_last_timestamp: ev.deprecatedLastTimestamp,
    deprecated_count: ev.deprecatedCount,
    labels: ev.labels,
    annotations: ev.annotations,
    enrichment_status: en?.status ?? 'none',
    object_labels: en?.object?.labels ?? {},
    object_annotations: en?.object?.annotations ?? {},
    object_deleted: en?.object?.deleted ?? false,
    workload_kind: en?.workload?.kind ?? '',
    workload_name: en?.workload?.name ?? '',
    node_name: en?.node?.name ?? '',
    node_zone: en?.node?.zone ?? '',
    namespace_labels: en?.namespaceLabels ?? {},
    severity: cl?.severity ?? (ev.type === 'Warning' ? 'warning' : 'info'),
    category: cl?.category ?? 'other',
    actionable: cl?.actionable ?? false,
    rule_id: cl?.ruleId ?? '',
    ruleset_version: cl?.rulesetVersion ?? '',
    fields: cl?.fields ?? {},
    fingerprint_id: ev.fingerprint?.id ?? '',
    fingerprint_template: ev.fingerprint?.template ?? '',
    incident_id: ev.incidentId ?? '',
  };
}

/** The occurrence row of an observation (also for 0 new occurrences: the timeline shows every observation). */
export function occurrenceRow(ev: KecEventsPayload, e: EventRow = eventRow(ev)): OccurrenceRow {
  return {
    time: ev.lastTimestamp,
    cluster: e.cluster,
    namespace: e.namespace,
    uid: e.uid,
    resource_version: occurrenceKey(ev.resourceVersion),
    watch_type: e.watch_type,
    count: e.count,
    occurrences: occurrencesOf(ev),
    type: e.type,
    reason: e.reason,
    regarding_kind: e.regarding_kind,
    regarding_name: e.regarding_name,
    workload_kind: e.workload_kind,
    workload_name: e.workload_name,
    node_name: e.node_name,
    severity: e.severity,
    category: e.category,
    fingerprint_id: e.fingerprint_id,
    incident_id: e.incident_id,
  };
}

function objectName(o: string | { kind: string; namespace?: string | undefined; name: string }): string {
  if (typeof o === 'string') return o;
  return o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`;
}

export function incidentRow(i: IncidentPayload): IncidentRow {
  return {
    cluster: i.cluster,
    id: i.id,
    namespace: i.namespace,
    title: i.title,
    severity: i.severity,
    category: i.category,
    root_cause_event_uid: i.rootCause?.eventUid ?? '',
    root_cause_reason: i.rootCause?.reason ?? '',
    root_cause_object: i.rootCause ? objectName(i.rootCause.object) : '',
    root_cause_why: i.rootCause?.why ?? '',
    affected_objects: i.affected.map(objectName),
    first_seen: i.firstSeen,
    last_seen: i.lastSeen,
    event_count: i.eventCount,
    occurrence_count: i.occurrenceCount,
    state: i.state,
    version: i.version,
  };
}

export function gapRow(g: GapRecord): GapRow {
  return {
    cluster: g.cluster,
    from_resource_version: g.fromResourceVersion,
    to_resource_version: g.toResourceVersion,
    from_time: g.fromTime,
    to_time: g.toTime,
    reason: g.reason,
    detected_by: g.detectedBy,
  };
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** "5m" -> 300; a number is already seconds. */
export function windowSeconds(w: number | string): number {
  if (typeof w === 'number') return w;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(w);
  if (!m) throw new RangeError(`bad window ${w}`);
  return Math.round(Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1));
}

export function patternRow(p: PatternPayload): PatternRow {
  return {
    at: p.at,
    kind: p.kind,
    cluster: p.cluster,
    namespace: p.namespace,
    workload: p.workload,
    fingerprint: p.fingerprint,
    reason: p.reason,
    window_seconds: windowSeconds(p.window),
    rate: p.rate,
    baseline: p.baseline,
  };
}

/**
 * Rows of a batch of events: the newest observation per uid for `events` (the others would be replaced anyway),
 * every observation for `occurrences`.
 */
export function eventBatchRows(batch: readonly KecEventsPayload[]): {
  events: EventRow[];
  occurrences: OccurrenceRow[];
} {
  const latest = new Map<string, EventRow>();
  const occurrences: OccurrenceRow[] = [];
  for (const ev of batch) {
    const e = eventRow(ev);
    occurrences.push(occurrenceRow(ev, e));
    const key = `${e.cluster}/${e.uid}`;
    const prev = latest.get(key);
    if (!prev || BigInt(e.version) > BigInt(prev.version)) latest.set(key, e);
  }
  return { events: [...latest.values()], occurrences };
}
