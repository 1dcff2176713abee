// KecEvent (schema id `kec.event/v1`): kec's normalized Kubernetes Event, the payload on `kec.raw.*`.
// Strict (no unknown properties). Names follow events.k8s.io/v1; see README.md for the field table.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { ModelValidationError } from './errors.ts';
import { MICRO_TIME_PATTERN, TIME_PATTERN, TIMESTAMP_PATTERN } from './time.ts';
import { validationError } from './validate.ts';

export const KEC_EVENT_SCHEMA = 'kec.event/v1';

/** Characters a cluster name may not hold: NATS subject token breakers, and "/" (the dedup id separator). */
export const CLUSTER_NAME_PATTERN = '^[^.*>/\\s]+$';

const MicroTime = Type.String({ pattern: MICRO_TIME_PATTERN });
const Time = Type.String({ pattern: TIME_PATTERN });
const Timestamp = Type.String({ pattern: TIMESTAMP_PATTERN });
const StringMap = Type.Record(Type.String(), Type.String());

/** A full ObjectReference: every field present, "" when the API omitted it. */
export const KecObjectReferenceSchema = Type.Object(
  {
    kind: Type.String(),
    namespace: Type.String(),
    name: Type.String(),
    uid: Type.String(),
    apiVersion: Type.String(),
    resourceVersion: Type.String(),
    fieldPath: Type.String(),
  },
  { additionalProperties: false },
);

export const KecEventSeriesSchema = Type.Object(
  { count: Type.Integer({ minimum: 0 }), lastObservedTime: Type.Union([MicroTime, Type.Null()]) },
  { additionalProperties: false },
);

export const KecEventSourceSchema = Type.Object(
  { component: Type.String(), host: Type.String() },
  { additionalProperties: false },
);

export const SourceApiSchema = Type.Union([Type.Literal('core/v1'), Type.Literal('events.k8s.io/v1')]);

/** How the watcher saw the object. LISTED: read by a LIST during a (re)sync, not by a watch. */
export const KecWatchTypeSchema = Type.Union([
  Type.Literal('ADDED'),
  Type.Literal('MODIFIED'),
  Type.Literal('DELETED'),
  Type.Literal('LISTED'),
]);

/**
 * The properties of KecEvent, exported so downstream stages can extend the payload with their own strict
 * schema: `Type.Object({ ...KecEventProperties, schema: Type.Literal('kec.enriched/v1'), ... }, { additionalProperties: false })`.
 */
export const KecEventProperties = {
  schema: Type.Literal(KEC_EVENT_SCHEMA),
  // envelope
  cluster: Type.String({ pattern: CLUSTER_NAME_PATTERN }),
  observedAt: MicroTime,
  sourceApi: SourceApiSchema,
  watchType: KecWatchTypeSchema,
  resourceVersion: Type.String({ minLength: 1 }),
  // identity and metadata
  uid: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  namespace: Type.String(),
  creationTimestamp: Type.Union([Time, Type.Null()]),
  labels: StringMap,
  annotations: StringMap,
  // event fields (events.k8s.io/v1 names)
  eventTime: Type.Union([MicroTime, Type.Null()]),
  series: Type.Union([KecEventSeriesSchema, Type.Null()]),
  reportingController: Type.String(),
  reportingInstance: Type.String(),
  action: Type.String(),
  reason: Type.String(),
  regarding: KecObjectReferenceSchema,
  related: Type.Union([KecObjectReferenceSchema, Type.Null()]),
  note: Type.String(),
  type: Type.String(),
  deprecatedSource: KecEventSourceSchema,
  deprecatedFirstTimestamp: Type.Union([Time, Type.Null()]),
  deprecatedLastTimestamp: Type.Union([Time, Type.Null()]),
  deprecatedCount: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  // derived
  count: Type.Integer({ minimum: 1 }),
  firstTimestamp: Timestamp,
  lastTimestamp: Timestamp,
  combined: Type.Boolean(),
};

export const KecEventSchema = Type.Object(KecEventProperties, {
  $id: KEC_EVENT_SCHEMA,
  additionalProperties: false,
});

export type KecObjectReference = Static<typeof KecObjectReferenceSchema>;
export type KecEventSeries = Static<typeof KecEventSeriesSchema>;
export type KecEventSource = Static<typeof KecEventSourceSchema>;
export type SourceApi = Static<typeof SourceApiSchema>;
export type KecWatchType = Static<typeof KecWatchTypeSchema>;
export type KecEvent = Static<typeof KecEventSchema>;

/** Compiled once at module load. */
export const KecEventValidator = Compile(KecEventSchema);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when `value` is a valid KecEvent. */
export function isKecEvent(value: unknown): value is KecEvent {
  return KecEventValidator.Check(value);
}

/**
 * Parses and validates a KecEvent from a bus message (bytes), a JSON string, or an already-parsed value.
 * Throws ModelValidationError (path, reason, retryable: false) on bad input.
 */
export function parseKecEvent(input: unknown): KecEvent {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    let text: string;
    try {
      text = typeof input === 'string' ? input : utf8.decode(input);
    } catch (cause) {
      throw new ModelValidationError('', 'payload is not valid UTF-8', { cause });
    }
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new ModelValidationError('', `payload is not JSON: ${(cause as Error).message}`, { cause });
    }
  }
  if (KecEventValidator.Check(value)) return value;
  throw validationError(KecEventValidator, value);
}
