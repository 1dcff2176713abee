// Server-side Table rendering (Accept: application/json;as=Table;g=meta.k8s.io;v=v1) for Events, as kubectl asks
// for it: the columns and cells of pkg/printers/internalversion/printers.go printEvent. Other kinds fall back to
// plain JSON (kubectl then prints NAME/AGE).
import type { ResourceDef, StoredObject } from './resources.ts';

export function wantsTable(accept: string | undefined, def: ResourceDef): boolean {
  return !!accept && def.storage === 'events' && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

const COLUMNS: [string, number, string][] = [
  ['Last Seen', 0, ''],
  ['Type', 0, ''],
  ['Reason', 0, ''],
  ['Object', 0, ''],
  ['Subobject', 1, ''],
  ['Source', 1, ''],
  ['Message', 0, ''],
  ['First Seen', 1, ''],
  ['Count', 1, ''],
  ['Name', 1, 'name'],
];

const columnDefinitions = COLUMNS.map(([name, priority, format]) => ({
  name,
  type: 'string',
  format,
  description: '',
  priority,
}));

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(t: string | null | undefined, now: number): string {
  if (!t) return '<unknown>';
  return humanDuration(now - new Date(t).getTime());
}

/** One row from the stored (core/v1) form of an event. */
function row(o: StoredObject, now: number): unknown {
  let first = since(o.firstTimestamp, now);
  if (!o.firstTimestamp) first = since(o.eventTime, now);
  let last = o.lastTimestamp ? since(o.lastTimestamp, now) : first;
  let count = o.count ?? 0;
  if (o.series) {
    last = since(o.series.lastObservedTime, now);
    count = o.series.count ?? 0;
  } else if (count === 0) count = 1;
  const io = o.involvedObject ?? {};
  const target = io.name ? `${String(io.kind ?? '').toLowerCase()}/${io.name}` : String(io.kind ?? '').toLowerCase();
  const component = o.source?.component || o.reportingComponent || '';
  const instance = o.source?.host || o.reportingInstance || '';
  const source = instance ? `${component}, ${instance}` : component;
  return {
    cells: [
      last,
      o.type ?? '',
      o.reason ?? '',
      target,
      io.fieldPath ?? '',
      source,
      String(o.message ?? '').trim(),
      first,
      count,
      o.metadata.name,
    ],
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
  };
}

/** A Table of stored event JSON documents. */
export function eventTable(stored: string[], meta: Record<string, unknown>, now: number): string {
  return JSON.stringify({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions,
    rows: stored.map((j) => row(JSON.parse(j), now)),
  });
}
