// Event schema conversion (L1/E1/E2), time formats (E3) and the per-request rendering of stored objects.
import { KubeStatusError, statusBody } from './errors.ts';
import { apiVersionOf, type ResourceDef, type StoredObject } from './resources.ts';

const TIME_LAYOUT = '2006-01-02T15:04:05Z07:00';
const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const BASE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;
const ZONE_RE = /^(Z|[+-]\d{2}:\d{2})$/;

function cannotHandle(def: ResourceDef, value: string, layout: string, rest: string, elem: string): KubeStatusError {
  const kind = def.kind;
  return new KubeStatusError(
    statusBody(
      400,
      'BadRequest',
      `${kind} in version "${def.version}" cannot be handled as a ${kind}: parsing time "${value}" as "${layout}": cannot parse "${rest}" as "${elem}"`,
    ),
  );
}

function toUtc(base: string, frac: string, zone: string): Date {
  return new Date(`${base}${frac ? `.${frac.slice(0, 3)}` : ''}${zone}`);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function fmtSeconds(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** metav1.Time: RFC3339 (fractional seconds accepted on input); stored and served to the second, UTC. */
export function normalizeTime(v: unknown, def: ResourceDef): string | null {
  if (v === undefined || v === null || v === '') return null;
  const s = String(v);
  const m = BASE_RE.exec(s);
  if (!m) throw cannotHandle(def, s, TIME_LAYOUT, s, '2006');
  let rest = s.slice(m[0].length);
  const fm = /^\.(\d+)/.exec(rest);
  if (fm) rest = rest.slice(fm[0].length);
  if (!ZONE_RE.test(rest)) throw cannotHandle(def, s, TIME_LAYOUT, rest, 'Z07:00');
  const d = toUtc(m[0], '', rest);
  if (Number.isNaN(d.getTime())) throw cannotHandle(def, s, TIME_LAYOUT, s, '2006');
  return `${fmtSeconds(d)}Z`;
}

/** metav1.MicroTime: exactly six fractional digits (time.Parse with RFC3339Micro), served in UTC (E3). */
export function normalizeMicroTime(v: unknown, def: ResourceDef): string | null {
  if (v === undefined || v === null || v === '') return null;
  const s = String(v);
  const m = BASE_RE.exec(s);
  if (!m) throw cannotHandle(def, s, MICRO_LAYOUT, s, '2006');
  const rest = s.slice(m[0].length);
  if (rest.length < 7 || rest[0] !== '.' || !/^\.\d{6}/.test(rest))
    throw cannotHandle(def, s, MICRO_LAYOUT, rest, '.000000');
  const frac = rest.slice(1, 7);
  const zone = rest.slice(7);
  if (!ZONE_RE.test(zone)) throw cannotHandle(def, s, MICRO_LAYOUT, zone, 'Z07:00');
  const d = toUtc(m[0], frac, zone);
  if (Number.isNaN(d.getTime())) throw cannotHandle(def, s, MICRO_LAYOUT, s, '2006');
  return `${fmtSeconds(d)}.${frac}Z`;
}

export function nowTime(ms: number): string {
  return `${fmtSeconds(new Date(ms))}Z`;
}

export function nowMicroTime(ms: number): string {
  const d = new Date(ms);
  return `${fmtSeconds(d)}.${pad(d.getUTCMilliseconds(), 3)}000Z`;
}

function put(o: StoredObject, k: string, v: unknown, omitEmpty: boolean): void {
  if (omitEmpty && (v === undefined || v === null || v === '' || v === 0)) return;
  o[k] = v;
}

/** Builds the stored (core/v1) form of an event from a core/v1 body; unknown fields are dropped, E1 zero values kept. */
export function eventFromCore(b: StoredObject, def: ResourceDef): StoredObject {
  const o: StoredObject = { metadata: b.metadata ?? {} };
  o.involvedObject = b.involvedObject ?? {};
  put(o, 'reason', b.reason, true);
  put(o, 'message', b.message, true);
  o.source = b.source ?? {};
  o.firstTimestamp = normalizeTime(b.firstTimestamp, def);
  o.lastTimestamp = normalizeTime(b.lastTimestamp, def);
  put(o, 'count', b.count, true);
  put(o, 'type', b.type, true);
  o.eventTime = normalizeMicroTime(b.eventTime, def);
  if (b.series) o.series = normalizeSeries(b.series, def);
  put(o, 'action', b.action, true);
  if (b.related) o.related = b.related;
  o.reportingComponent = b.reportingComponent ?? '';
  o.reportingInstance = b.reportingInstance ?? '';
  return o;
}

function normalizeSeries(s: StoredObject, def: ResourceDef): StoredObject {
  const out: StoredObject = {};
  if (s.count !== undefined) out.count = s.count;
  out.lastObservedTime = normalizeMicroTime(s.lastObservedTime, def);
  return out;
}

/** events.k8s.io/v1 body -> stored core form (pkg/apis/events/v1/conversion.go). */
export function eventFromNew(b: StoredObject, def: ResourceDef): StoredObject {
  return eventFromCore(
    {
      metadata: b.metadata,
      involvedObject: b.regarding,
      reason: b.reason,
      message: b.note,
      source: b.deprecatedSource,
      firstTimestamp: b.deprecatedFirstTimestamp,
      lastTimestamp: b.deprecatedLastTimestamp,
      count: b.deprecatedCount,
      type: b.type,
      eventTime: b.eventTime,
      series: b.series,
      action: b.action,
      related: b.related,
      reportingComponent: b.reportingController,
      reportingInstance: b.reportingInstance,
    },
    def,
  );
}

/** Stored core form -> events.k8s.io/v1 rendering (E2). */
export function eventToNew(o: StoredObject): StoredObject {
  const n: StoredObject = { metadata: o.metadata };
  n.eventTime = o.eventTime ?? null;
  if (o.series) n.series = o.series;
  put(n, 'reportingController', o.reportingComponent, true);
  put(n, 'reportingInstance', o.reportingInstance, true);
  put(n, 'action', o.action, true);
  put(n, 'reason', o.reason, true);
  n.regarding = o.involvedObject ?? {};
  if (o.related) n.related = o.related;
  put(n, 'note', o.message, true);
  put(n, 'type', o.type, true);
  n.deprecatedSource = o.source ?? {};
  n.deprecatedFirstTimestamp = o.firstTimestamp ?? null;
  n.deprecatedLastTimestamp = o.lastTimestamp ?? null;
  put(n, 'deprecatedCount', o.count, true);
  return n;
}

export function isNewEvents(def: ResourceDef): boolean {
  return def.storage === 'events' && def.group === 'events.k8s.io';
}

/** Converts a request body in the def's schema to the stored form. */
export function toStored(def: ResourceDef, body: StoredObject): StoredObject {
  if (def.storage === 'events') return isNewEvents(def) ? eventFromNew(body, def) : eventFromCore(body, def);
  const { kind: _k, apiVersion: _a, ...rest } = body;
  if (def.resource === 'leases' && rest.spec) {
    const spec = { ...rest.spec };
    if ('acquireTime' in spec) spec.acquireTime = normalizeMicroTime(spec.acquireTime, def);
    if ('renewTime' in spec) spec.renewTime = normalizeMicroTime(spec.renewTime, def);
    for (const k of ['acquireTime', 'renewTime']) if (spec[k] === null) delete spec[k];
    rest.spec = spec;
  }
  return rest;
}

/** Stored form -> the def's schema, without kind/apiVersion (a LIST item). */
export function fromStored(def: ResourceDef, o: StoredObject): StoredObject {
  return isNewEvents(def) ? eventToNew(o) : o;
}

/** 'table' is only chosen for events (table.ts); everywhere else it renders like 'full'. */
export type Rendering = 'full' | 'partial' | 'table';

/** A stored record's JSON as a list item of this def (no kind/apiVersion; L5). */
export function itemJson(def: ResourceDef, json: string, as: Rendering): string {
  if (as === 'partial') {
    const o = JSON.parse(json) as StoredObject;
    return JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata });
  }
  if (isNewEvents(def)) return JSON.stringify(eventToNew(JSON.parse(json)));
  return json;
}

/** A stored record's JSON as a standalone object (GET body, watch object): kind/apiVersion first. */
export function objectJson(def: ResourceDef, json: string, as: Rendering): string {
  if (as === 'partial') return itemJson(def, json, as);
  const head = `{"kind":"${def.kind}","apiVersion":"${apiVersionOf(def)}",`;
  if (isNewEvents(def)) return head + JSON.stringify(eventToNew(JSON.parse(json))).slice(1);
  return head + json.slice(1);
}
