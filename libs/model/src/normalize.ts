// Normalization of core/v1 and events.k8s.io/v1 Events into KecEvent, and the inverse renderings.
// Runs once per event in the watcher: one compiled Check, then a single object literal of fixed shape.
import { ModelValidationError } from './errors.ts';
import {
  type CoreV1Event,
  CoreV1EventValidator,
  type EventObjectMeta,
  type EventSeries,
  type EventSource,
  type EventsV1Event,
  EventsV1EventValidator,
  type ObjectReference,
  type WireTimestamp,
} from './k8s.ts';
import {
  CLUSTER_NAME_PATTERN,
  KEC_EVENT_SCHEMA,
  type KecEvent,
  type KecEventSeries,
  type KecEventSource,
  type KecObjectReference,
  type KecWatchType,
  type SourceApi,
} from './kec-event.ts';
import { formatMicroTime, formatTime, systemClock } from './time.ts';
import { validationError } from './validate.ts';

/** client-go's EventCorrelator prefix for aggregated events (tools/record/events_cache.go). */
export const COMBINED_PREFIX = '(combined from similar events): ';

/** What the watcher knows about an object besides the object itself. */
export interface NormalizeEnvelope {
  /** kec's name for the cluster (KEC_CLUSTER); no ".", "*", ">", "/" or whitespace. */
  cluster: string;
  /** The watch event type, or LISTED for an object read by a LIST during a (re)sync. */
  watchType: KecWatchType;
  /** Source of observedAt; defaults to the system clock. */
  clock?: () => Date;
}

const CLUSTER_RE = new RegExp(CLUSTER_NAME_PATTERN);
const WATCH_TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'LISTED']);

function checkEnvelope(envelope: NormalizeEnvelope): string {
  if (typeof envelope.cluster !== 'string' || !CLUSTER_RE.test(envelope.cluster)) {
    throw new ModelValidationError('/cluster', `invalid cluster name ${JSON.stringify(envelope.cluster)}`);
  }
  if (!WATCH_TYPES.has(envelope.watchType)) {
    throw new ModelValidationError('/watchType', `invalid watch type ${JSON.stringify(envelope.watchType)}`);
  }
  return formatMicroTime((envelope.clock ?? systemClock)(), '/observedAt');
}

function time(value: WireTimestamp | undefined, path: string): string | null {
  return value === undefined || value === null ? null : formatTime(value, path);
}

function microTime(value: WireTimestamp | undefined, path: string): string | null {
  return value === undefined || value === null ? null : formatMicroTime(value, path);
}

function reference(ref: ObjectReference | undefined): KecObjectReference {
  return {
    kind: ref?.kind ?? '',
    namespace: ref?.namespace ?? '',
    name: ref?.name ?? '',
    uid: ref?.uid ?? '',
    apiVersion: ref?.apiVersion ?? '',
    resourceVersion: ref?.resourceVersion ?? '',
    fieldPath: ref?.fieldPath ?? '',
  };
}

function source(src: EventSource | undefined): KecEventSource {
  return { component: src?.component ?? '', host: src?.host ?? '' };
}

function series(s: EventSeries | null | undefined, path: string): KecEventSeries | null {
  if (s === undefined || s === null) return null;
  return { count: s.count ?? 0, lastObservedTime: microTime(s.lastObservedTime, `${path}/lastObservedTime`) };
}

/** The fields both APIs share, in API-neutral form; the two front ends fill it and `finish` derives the rest. */
function build(
  meta: EventObjectMeta,
  sourceApi: SourceApi,
  envelope: NormalizeEnvelope,
  observedAt: string,
  f: {
    eventTime: string | null;
    series: KecEventSeries | null;
    reportingController: string;
    reportingInstance: string;
    action: string;
    reason: string;
    regarding: KecObjectReference;
    related: KecObjectReference | null;
    note: string;
    type: string;
    deprecatedSource: KecEventSource;
    deprecatedFirstTimestamp: string | null;
    deprecatedLastTimestamp: string | null;
    deprecatedCount: number | null;
  },
): KecEvent {
  const creationTimestamp = time(meta.creationTimestamp, '/metadata/creationTimestamp');
  const firstTimestamp = f.deprecatedFirstTimestamp ?? f.eventTime ?? creationTimestamp ?? observedAt;
  const lastTimestamp = f.series?.lastObservedTime ?? f.deprecatedLastTimestamp ?? f.eventTime ?? firstTimestamp;
  const count = f.series?.count ?? f.deprecatedCount ?? 1;
  return {
    schema: KEC_EVENT_SCHEMA,
    cluster: envelope.cluster,
    observedAt,
    sourceApi,
    watchType: envelope.watchType,
    resourceVersion: meta.resourceVersion,
    uid: meta.uid,
    name: meta.name,
    namespace: meta.namespace ?? '',
    creationTimestamp,
    // Shared with the input, not copied (normalize is per event): treat KecEvents as immutable.
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    eventTime: f.eventTime,
    series: f.series,
    reportingController: f.reportingController,
    reportingInstance: f.reportingInstance,
    action: f.action,
    reason: f.reason,
    regarding: f.regarding,
    related: f.related,
    note: f.note,
    type: f.type,
    deprecatedSource: f.deprecatedSource,
    deprecatedFirstTimestamp: f.deprecatedFirstTimestamp,
    deprecatedLastTimestamp: f.deprecatedLastTimestamp,
    deprecatedCount: f.deprecatedCount,
    count: Math.max(count, 1),
    firstTimestamp,
    lastTimestamp,
    combined: f.note.startsWith(COMBINED_PREFIX),
  };
}

function checkKind(obj: { kind?: string | undefined }): void {
  if (obj.kind !== undefined && obj.kind !== 'Event') {
    throw new ModelValidationError('/kind', `not an Event: kind ${JSON.stringify(obj.kind)}`);
  }
}

/** Normalizes a core/v1 Event (watch object, LIST item, or client-node object). Throws ModelValidationError. */
export function normalizeCoreV1(obj: unknown, envelope: NormalizeEnvelope): KecEvent {
  if (!CoreV1EventValidator.Check(obj)) throw validationError(CoreV1EventValidator, obj);
  const e: CoreV1Event = obj;
  checkKind(e);
  const observedAt = checkEnvelope(envelope);
  return build(e.metadata, 'core/v1', envelope, observedAt, {
    eventTime: microTime(e.eventTime, '/eventTime'),
    series: series(e.series, '/series'),
    reportingController: e.reportingComponent ?? '',
    reportingInstance: e.reportingInstance ?? '',
    action: e.action ?? '',
    reason: e.reason ?? '',
    regarding: reference(e.involvedObject),
    related: e.related === undefined || e.related === null ? null : reference(e.related),
    note: e.message ?? '',
    type: e.type ?? '',
    deprecatedSource: source(e.source),
    deprecatedFirstTimestamp: time(e.firstTimestamp, '/firstTimestamp'),
    deprecatedLastTimestamp: time(e.lastTimestamp, '/lastTimestamp'),
    deprecatedCount: e.count ?? null,
  });
}

/** Normalizes an events.k8s.io/v1 Event (watch object, LIST item, or client-node object). */
export function normalizeEventsV1(obj: unknown, envelope: NormalizeEnvelope): KecEvent {
  if (!EventsV1EventValidator.Check(obj)) throw validationError(EventsV1EventValidator, obj);
  const e: EventsV1Event = obj;
  checkKind(e);
  const observedAt = checkEnvelope(envelope);
  return build(e.metadata, 'events.k8s.io/v1', envelope, observedAt, {
    eventTime: microTime(e.eventTime, '/eventTime'),
    series: series(e.series, '/series'),
    reportingController: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
    action: e.action ?? '',
    reason: e.reason ?? '',
    regarding: reference(e.regarding),
    related: e.related === undefined || e.related === null ? null : reference(e.related),
    note: e.note ?? '',
    type: e.type ?? '',
    deprecatedSource: source(e.deprecatedSource),
    deprecatedFirstTimestamp: time(e.deprecatedFirstTimestamp, '/deprecatedFirstTimestamp'),
    deprecatedLastTimestamp: time(e.deprecatedLastTimestamp, '/deprecatedLastTimestamp'),
    deprecatedCount: e.deprecatedCount ?? null,
  });
}

const EVENTS_V1_ONLY = ['regarding', 'note', 'reportingController', 'deprecatedSource', 'deprecatedCount'];
const CORE_V1_ONLY = ['involvedObject', 'message', 'source', 'reportingComponent', 'firstTimestamp', 'count'];

/** Which API an Event object was read through: by apiVersion, else (LIST items carry none) by its fields. */
export function detectSourceApi(obj: unknown): SourceApi | undefined {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  const apiVersion = o['apiVersion'];
  if (apiVersion === 'v1') return 'core/v1';
  if (typeof apiVersion === 'string' && apiVersion.startsWith('events.k8s.io/')) return 'events.k8s.io/v1';
  for (const k of EVENTS_V1_ONLY) if (o[k] !== undefined) return 'events.k8s.io/v1';
  for (const k of CORE_V1_ONLY) if (o[k] !== undefined) return 'core/v1';
  return undefined;
}

/** Normalizes an Event of either API, choosing by apiVersion and falling back on shape. */
export function normalizeEvent(obj: unknown, envelope: NormalizeEnvelope): KecEvent {
  const api = detectSourceApi(obj);
  if (api === 'core/v1') return normalizeCoreV1(obj, envelope);
  if (api === 'events.k8s.io/v1') return normalizeEventsV1(obj, envelope);
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ModelValidationError('', 'an Event must be a JSON object');
  }
  const apiVersion = (obj as Record<string, unknown>)['apiVersion'];
  throw new ModelValidationError(
    apiVersion === undefined ? '' : '/apiVersion',
    apiVersion === undefined
      ? 'cannot tell core/v1 from events.k8s.io/v1: no apiVersion and no API-specific field'
      : `unsupported apiVersion ${JSON.stringify(apiVersion)}`,
  );
}

// ---- Inverse renderings: the object as each API would serve it (omitempty fields left out). ----

function renderMeta(e: KecEvent): Record<string, unknown> {
  const meta: Record<string, unknown> = { name: e.name };
  if (e.namespace !== '') meta['namespace'] = e.namespace;
  meta['uid'] = e.uid;
  meta['resourceVersion'] = e.resourceVersion;
  if (e.creationTimestamp !== null) meta['creationTimestamp'] = e.creationTimestamp;
  if (Object.keys(e.labels).length > 0) meta['labels'] = e.labels;
  if (Object.keys(e.annotations).length > 0) meta['annotations'] = e.annotations;
  return meta;
}

function renderReference(r: KecObjectReference): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.kind !== '') out['kind'] = r.kind;
  if (r.namespace !== '') out['namespace'] = r.namespace;
  if (r.name !== '') out['name'] = r.name;
  if (r.uid !== '') out['uid'] = r.uid;
  if (r.apiVersion !== '') out['apiVersion'] = r.apiVersion;
  if (r.resourceVersion !== '') out['resourceVersion'] = r.resourceVersion;
  if (r.fieldPath !== '') out['fieldPath'] = r.fieldPath;
  return out;
}

function renderSource(s: KecEventSource): Record<string, string> {
  const out: Record<string, string> = {};
  if (s.component !== '') out['component'] = s.component;
  if (s.host !== '') out['host'] = s.host;
  return out;
}

/** Renders a KecEvent as a core/v1 Event (JSON field names and omitempty rules of kubernetes/api). */
export function toCoreV1(e: KecEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: 'Event', apiVersion: 'v1', metadata: renderMeta(e) };
  out['involvedObject'] = renderReference(e.regarding);
  if (e.reason !== '') out['reason'] = e.reason;
  if (e.note !== '') out['message'] = e.note;
  out['source'] = renderSource(e.deprecatedSource);
  out['firstTimestamp'] = e.deprecatedFirstTimestamp;
  out['lastTimestamp'] = e.deprecatedLastTimestamp;
  if (e.deprecatedCount !== null && e.deprecatedCount !== 0) out['count'] = e.deprecatedCount;
  if (e.type !== '') out['type'] = e.type;
  out['eventTime'] = e.eventTime;
  if (e.series !== null) out['series'] = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  if (e.action !== '') out['action'] = e.action;
  if (e.related !== null) out['related'] = renderReference(e.related);
  out['reportingComponent'] = e.reportingController;
  out['reportingInstance'] = e.reportingInstance;
  return out;
}

/** Renders a KecEvent as an events.k8s.io/v1 Event. */
export function toEventsV1(e: KecEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: renderMeta(e) };
  out['eventTime'] = e.eventTime;
  if (e.series !== null) out['series'] = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  if (e.reportingController !== '') out['reportingController'] = e.reportingController;
  if (e.reportingInstance !== '') out['reportingInstance'] = e.reportingInstance;
  if (e.action !== '') out['action'] = e.action;
  if (e.reason !== '') out['reason'] = e.reason;
  out['regarding'] = renderReference(e.regarding);
  if (e.related !== null) out['related'] = renderReference(e.related);
  if (e.note !== '') out['note'] = e.note;
  if (e.type !== '') out['type'] = e.type;
  out['deprecatedSource'] = renderSource(e.deprecatedSource);
  out['deprecatedFirstTimestamp'] = e.deprecatedFirstTimestamp;
  out['deprecatedLastTimestamp'] = e.deprecatedLastTimestamp;
  if (e.deprecatedCount !== null && e.deprecatedCount !== 0) out['deprecatedCount'] = e.deprecatedCount;
  return out;
}
