// /watch: what the pipeline publishes (kec.events.>, kec.incidents.>) turned into the API's shapes with the very
// mapping the writer stores (payload -> row), filtered like /events.
import {
  type EventRow,
  eventRow,
  IncidentPayloadValidator,
  incidentRow,
  KecEventsPayloadValidator,
  occurrencesOf,
} from '@kec/writer';
import type { EventFilters } from './filters.ts';
import { incidentItem, sourceOf } from './queries.ts';
import type { EventItem, Incident, WatchEvent, WatchIncident } from './schemas.ts';
import { matchesSelector } from './selector.ts';
import { normalizeTs } from './time.ts';

export function itemFromRow(r: EventRow): EventItem {
  return {
    cluster: r.cluster,
    namespace: r.namespace,
    name: r.name,
    uid: r.uid,
    lastSeen: normalizeTs(r.last_timestamp),
    firstSeen: normalizeTs(r.first_timestamp),
    count: r.count,
    type: r.type,
    reason: r.reason,
    object: {
      kind: r.regarding_kind,
      namespace: r.regarding_namespace,
      name: r.regarding_name,
      uid: r.regarding_uid,
      apiVersion: r.regarding_api_version,
      fieldPath: r.regarding_field_path,
    },
    source: sourceOf(
      r.deprecated_source_component,
      r.deprecated_source_host,
      r.reporting_controller,
      r.reporting_instance,
    ),
    reportingController: r.reporting_controller,
    reportingInstance: r.reporting_instance,
    message: r.note,
    severity: r.severity,
    category: r.category,
    workload: r.workload_name ? { kind: r.workload_kind, name: r.workload_name } : null,
    node: r.node_name,
    incidentId: r.incident_id || null,
    labels: r.object_labels,
    fingerprintId: r.fingerprint_id,
    deleted: r.deleted,
  };
}

/** The /events filters evaluated on one item (same semantics as the SQL). */
export function matchesItem(f: EventFilters, e: EventItem): boolean {
  if (f.cluster !== undefined && e.cluster !== f.cluster) return false;
  if (f.namespace !== undefined && e.namespace !== f.namespace) return false;
  if (f.kind !== undefined && e.object.kind !== f.kind) return false;
  if (f.name !== undefined && e.object.name !== f.name) return false;
  if (f.reasons && !f.reasons.includes(e.reason)) return false;
  if (f.types && !f.types.includes(e.type)) return false;
  if (f.severities && !f.severities.includes(e.severity)) return false;
  if (f.categories && !f.categories.includes(e.category)) return false;
  if (f.workloadName !== undefined && e.workload?.name !== f.workloadName) return false;
  if (f.workloadKind !== undefined && e.workload?.kind !== f.workloadKind) return false;
  if (f.node !== undefined && e.node !== f.node) return false;
  if (f.incidentId !== undefined && e.incidentId !== f.incidentId) return false;
  if (f.q !== undefined && !e.message.toLowerCase().includes(f.q.toLowerCase())) return false;
  if (f.selector && !matchesSelector(f.selector, e.labels)) return false;
  return true;
}

/** An incident matches the cluster/namespace filters of a watch. */
export function matchesIncident(f: EventFilters, i: Incident): boolean {
  if (f.cluster !== undefined && i.cluster !== f.cluster) return false;
  if (f.namespace !== undefined && i.namespace !== f.namespace) return false;
  if (f.severities && !f.severities.includes(i.severity)) return false;
  if (f.categories && !f.categories.includes(i.category)) return false;
  return true;
}

/** A `kec.events/v1` message -> the SSE frame, or undefined when it is not a valid payload. */
export function watchEventOf(data: unknown): WatchEvent | undefined {
  if (!KecEventsPayloadValidator.Check(data)) return undefined;
  const row = eventRow(data);
  return { type: 'event', watchType: row.watch_type, occurrences: occurrencesOf(data), event: itemFromRow(row) };
}

export function watchIncidentOf(data: unknown): WatchIncident | undefined {
  if (!IncidentPayloadValidator.Check(data)) return undefined;
  return { type: 'incident', incident: incidentItem(incidentRow(data)) };
}
