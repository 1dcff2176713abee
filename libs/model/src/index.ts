// @kec/model: Kubernetes Event schemas (both APIs, as servers send them), kec's normalized KecEvent
// (`kec.event/v1`), normalization and its inverses, timestamps, the replay rule and the dedup id.
//
//   import { normalizeEvent, eventMsgId } from '@kec/model';
//   const ev = normalizeEvent(frame.object, { cluster: 'prod', watchType: frame.type });
//   await js.publish(`kec.raw.${ev.cluster}`, JSON.stringify(ev), { msgID: eventMsgId(ev.cluster, ev.uid, ev.resourceVersion) });

export type { ModelValidationErrorOptions } from './errors.ts';
export { ModelValidationError } from './errors.ts';
export type { GapRecord } from './gap.ts';
export { GAP_SCHEMA, GapRecordSchema, GapRecordValidator, gapMsgId } from './gap.ts';
export type {
  CoreV1Event,
  EventObjectMeta,
  EventSeries,
  EventSource,
  EventsV1Event,
  ObjectReference,
  Status,
  WatchErrorFrame,
  WatchEventType,
  WatchFrame,
  WireTimestamp,
} from './k8s.ts';
export {
  CoreV1EventSchema,
  CoreV1EventValidator,
  EventObjectMetaSchema,
  EventSeriesSchema,
  EventSourceSchema,
  EventsV1EventSchema,
  EventsV1EventValidator,
  isCoreV1Event,
  isEventsV1Event,
  isStatus,
  isWatchErrorFrame,
  isWatchFrame,
  ObjectReferenceSchema,
  StatusSchema,
  StatusValidator,
  WatchErrorFrameSchema,
  WatchErrorFrameValidator,
  WatchEventTypeSchema,
  WatchFrameSchema,
  WatchFrameValidator,
  WireTimestampSchema,
} from './k8s.ts';
export type {
  KecEvent,
  KecEventSeries,
  KecEventSource,
  KecObjectReference,
  KecWatchType,
  SourceApi,
} from './kec-event.ts';
export {
  CLUSTER_NAME_PATTERN,
  isKecEvent,
  KEC_EVENT_SCHEMA,
  KecEventProperties,
  KecEventSchema,
  KecEventSeriesSchema,
  KecEventSourceSchema,
  KecEventValidator,
  KecObjectReferenceSchema,
  KecWatchTypeSchema,
  parseKecEvent,
  SourceApiSchema,
} from './kec-event.ts';
export { CLUSTER_SCOPED_KINDS, canonicalKind, WORKLOAD_KINDS } from './kinds.ts';
export type { NormalizeEnvelope } from './normalize.ts';
export {
  COMBINED_PREFIX,
  detectSourceApi,
  normalizeCoreV1,
  normalizeEvent,
  normalizeEventsV1,
  toCoreV1,
  toEventsV1,
} from './normalize.ts';
export type { Observation } from './replay.ts';
export { compareObservations, eventMsgId, isNewerObservation } from './replay.ts';
export type { TimestampInput } from './time.ts';
export {
  formatMicroTime,
  formatTime,
  isMicroTime,
  isTime,
  MICRO_TIME_PATTERN,
  RFC3339_PATTERN,
  systemClock,
  TIME_PATTERN,
  TIMESTAMP_PATTERN,
  timestampMicros,
} from './time.ts';
