// Schemas of Kubernetes objects as real servers (and client-node) deliver them. Lenient on purpose:
// unknown extra fields are accepted, omitempty fields may be absent, zero values arrive as `null` / `""`,
// and timestamps may be RFC3339 strings or Date objects (client-node's ObjectSerializer makes Dates of
// `date-time` fields when it deserializes a LIST; watch objects are plain JSON.parse output).
// Sources: kubernetes/api core/v1/types.go, events/v1/types.go, apimachinery meta/v1/types.go.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { RFC3339_PATTERN } from './time.ts';

const DateObject = Type.Refine(
  Type.Unsafe<Date>({}),
  (value) => value instanceof Date && !Number.isNaN(value.getTime()),
  () => 'must be an RFC3339 string or a valid Date',
);
const Rfc3339String = Type.String({ pattern: RFC3339_PATTERN });

/** metav1.Time or metav1.MicroTime on the wire: RFC3339 string, Date (client-node), or null (zero value). */
export const WireTimestampSchema = Type.Union([Rfc3339String, DateObject, Type.Null()]);

const OptionalString = Type.Optional(Type.String());
const StringMap = Type.Record(Type.String(), Type.String());

/** core/v1 ObjectReference (every field omitempty). */
export const ObjectReferenceSchema = Type.Object({
  kind: OptionalString,
  namespace: OptionalString,
  name: OptionalString,
  uid: OptionalString,
  apiVersion: OptionalString,
  resourceVersion: OptionalString,
  fieldPath: OptionalString,
});

/** core/v1 EventSource: `source` in core/v1, `deprecatedSource` in events.k8s.io/v1 (`{}` when empty). */
export const EventSourceSchema = Type.Object({
  component: OptionalString,
  host: OptionalString,
});

/** EventSeries (core/v1 and events.k8s.io/v1 have the same two fields). */
export const EventSeriesSchema = Type.Object({
  count: Type.Optional(Type.Integer({ minimum: 0 })),
  lastObservedTime: Type.Optional(WireTimestampSchema),
});

/** The ObjectMeta fields kec reads from an Event. An Event without name, uid or resourceVersion is rejected. */
export const EventObjectMetaSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  namespace: OptionalString,
  uid: Type.String({ minLength: 1 }),
  resourceVersion: Type.String({ minLength: 1 }),
  creationTimestamp: Type.Optional(WireTimestampSchema),
  labels: Type.Optional(Type.Union([StringMap, Type.Null()])),
  annotations: Type.Optional(Type.Union([StringMap, Type.Null()])),
});

const Count = Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]));
const OptionalReference = Type.Optional(Type.Union([ObjectReferenceSchema, Type.Null()]));
const OptionalSeries = Type.Optional(Type.Union([EventSeriesSchema, Type.Null()]));
const OptionalTimestamp = Type.Optional(WireTimestampSchema);

/** A core/v1 Event (`/api/v1/events`). `reportingComponent` is the wire name of reportingController. */
export const CoreV1EventSchema = Type.Object({
  kind: OptionalString,
  apiVersion: OptionalString,
  metadata: EventObjectMetaSchema,
  involvedObject: Type.Optional(ObjectReferenceSchema),
  reason: OptionalString,
  message: OptionalString,
  source: Type.Optional(EventSourceSchema),
  firstTimestamp: OptionalTimestamp,
  lastTimestamp: OptionalTimestamp,
  count: Count,
  type: OptionalString,
  eventTime: OptionalTimestamp,
  series: OptionalSeries,
  action: OptionalString,
  related: OptionalReference,
  reportingComponent: OptionalString,
  reportingInstance: OptionalString,
});

/** An events.k8s.io/v1 Event (`/apis/events.k8s.io/v1/events`). */
export const EventsV1EventSchema = Type.Object({
  kind: OptionalString,
  apiVersion: OptionalString,
  metadata: EventObjectMetaSchema,
  eventTime: OptionalTimestamp,
  series: OptionalSeries,
  reportingController: OptionalString,
  reportingInstance: OptionalString,
  action: OptionalString,
  reason: OptionalString,
  regarding: Type.Optional(ObjectReferenceSchema),
  related: OptionalReference,
  note: OptionalString,
  type: OptionalString,
  deprecatedSource: Type.Optional(EventSourceSchema),
  deprecatedFirstTimestamp: OptionalTimestamp,
  deprecatedLastTimestamp: OptionalTimestamp,
  deprecatedCount: Count,
});

/** metav1.Status, as sent in an ERROR watch frame or an error response body. Key on `code`, not `reason`. */
export const StatusSchema = Type.Object({
  kind: Type.Optional(Type.Literal('Status')),
  apiVersion: OptionalString,
  metadata: Type.Optional(Type.Object({})),
  status: OptionalString,
  message: OptionalString,
  reason: OptionalString,
  details: Type.Optional(Type.Object({})),
  code: Type.Optional(Type.Integer()),
});

export const WatchEventTypeSchema = Type.Union([
  Type.Literal('ADDED'),
  Type.Literal('MODIFIED'),
  Type.Literal('DELETED'),
  Type.Literal('BOOKMARK'),
  Type.Literal('ERROR'),
]);

/**
 * One line of a watch stream: `{"type": ..., "object": {...}}`. The object is an Event for
 * ADDED/MODIFIED/DELETED, an Event carrying only metadata.resourceVersion for BOOKMARK, a Status for ERROR.
 */
export const WatchFrameSchema = Type.Object({
  type: WatchEventTypeSchema,
  object: Type.Object({
    kind: OptionalString,
    apiVersion: OptionalString,
    metadata: Type.Optional(Type.Object({ resourceVersion: OptionalString })),
  }),
});

/** An ERROR watch frame (e.g. 410 Expired after a compacted resourceVersion). */
export const WatchErrorFrameSchema = Type.Object({
  type: Type.Literal('ERROR'),
  object: StatusSchema,
});

export type WireTimestamp = Static<typeof WireTimestampSchema>;
export type ObjectReference = Static<typeof ObjectReferenceSchema>;
export type EventSource = Static<typeof EventSourceSchema>;
export type EventSeries = Static<typeof EventSeriesSchema>;
export type EventObjectMeta = Static<typeof EventObjectMetaSchema>;
export type CoreV1Event = Static<typeof CoreV1EventSchema>;
export type EventsV1Event = Static<typeof EventsV1EventSchema>;
export type Status = Static<typeof StatusSchema>;
export type WatchEventType = Static<typeof WatchEventTypeSchema>;
export type WatchFrame = Static<typeof WatchFrameSchema>;
export type WatchErrorFrame = Static<typeof WatchErrorFrameSchema>;

// Compiled once at module load.
export const CoreV1EventValidator = Compile(CoreV1EventSchema);
export const EventsV1EventValidator = Compile(EventsV1EventSchema);
export const StatusValidator = Compile(StatusSchema);
export const WatchFrameValidator = Compile(WatchFrameSchema);
export const WatchErrorFrameValidator = Compile(WatchErrorFrameSchema);

export function isCoreV1Event(value: unknown): value is CoreV1Event {
  return CoreV1EventValidator.Check(value);
}
export function isEventsV1Event(value: unknown): value is EventsV1Event {
  return EventsV1EventValidator.Check(value);
}
export function isStatus(value: unknown): value is Status {
  return StatusValidator.Check(value);
}
export function isWatchFrame(value: unknown): value is WatchFrame {
  return WatchFrameValidator.Check(value);
}
export function isWatchErrorFrame(value: unknown): value is WatchErrorFrame {
  return WatchErrorFrameValidator.Check(value);
}
