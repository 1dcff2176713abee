// The payloads the writer reads. The correlator issue owns the producer side; these schemas are the reader's
// contract: tolerant (unknown properties are accepted, enrichment/classification/fingerprint/occurrences/
// incidentId are optional with documented defaults) so the writer also stores a plain or enriched KecEvent.
import { KecEventProperties } from '@kec/model';
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export const EVENTS_SCHEMA = 'kec.events/v1';
export const INCIDENT_SCHEMA = 'kec.incident/v1';
export const PATTERN_SCHEMA = 'kec.pattern/v1';

const StringMap = Type.Record(Type.String(), Type.String());
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const EnrichmentSchema = Type.Object({
  /**
   * hit: from the cache; tombstone: a deleted object's last metadata; fetched: a GET on a miss; inferred: not seen,
   * owners read from its name; miss; unavailable.
   */
  status: Type.Union([
    Type.Literal('hit'),
    Type.Literal('tombstone'),
    Type.Literal('fetched'),
    Type.Literal('inferred'),
    Type.Literal('miss'),
    Type.Literal('unavailable'),
  ]),
  object: Type.Optional(
    Nullable(
      Type.Object({
        labels: Type.Optional(StringMap),
        annotations: Type.Optional(StringMap),
        deleted: Type.Optional(Type.Boolean()),
      }),
    ),
  ),
  workload: Type.Optional(Nullable(Type.Object({ kind: Type.String(), name: Type.String() }))),
  node: Type.Optional(Nullable(Type.Object({ name: Type.String(), zone: Type.Optional(Nullable(Type.String())) }))),
  namespaceLabels: Type.Optional(Nullable(StringMap)),
});

export const SeveritySchema = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('error'),
  Type.Literal('critical'),
]);

export const ClassificationSchema = Type.Object({
  severity: SeveritySchema,
  category: Type.String(),
  actionable: Type.Boolean(),
  ruleId: Type.String(),
  rulesetVersion: Type.String(),
  fields: Type.Optional(StringMap),
});

export const FingerprintSchema = Type.Object({ id: Type.String(), template: Type.String() });

/** `kec.events/v1` on KEC_EVENTS: a KecEvent + enrichment + classification + fingerprint + occurrences + incident. */
export const KecEventsPayloadSchema = Type.Object({
  ...KecEventProperties,
  schema: Type.Union([Type.Literal(EVENTS_SCHEMA), Type.Literal('kec.event/v1'), Type.Literal('kec.enriched/v1')]),
  enrichment: Type.Optional(Nullable(EnrichmentSchema)),
  classification: Type.Optional(Nullable(ClassificationSchema)),
  fingerprint: Type.Optional(Nullable(FingerprintSchema)),
  /** New occurrences this observation represents (0 for replays, older observations and DELETED). */
  occurrences: Type.Optional(Type.Integer({ minimum: 0 })),
  incidentId: Type.Optional(Nullable(Type.String())),
});

const ObjectRef = Type.Object({
  kind: Type.String(),
  namespace: Type.Optional(Type.String()),
  name: Type.String(),
  uid: Type.Optional(Type.String()),
});
/** An object named either as "Kind/namespace/name" or as a reference. */
const ObjectName = Type.Union([Type.String(), ObjectRef]);
const Timestamp = Type.String({ minLength: 1 });

/** `kec.incident/v1` on KEC_INCIDENTS: the full state of an incident at `version` (monotonic per id). */
export const IncidentPayloadSchema = Type.Object({
  schema: Type.Literal(INCIDENT_SCHEMA),
  id: Type.String({ minLength: 1 }),
  cluster: Type.String({ minLength: 1 }),
  namespace: Type.String(),
  title: Type.String(),
  severity: SeveritySchema,
  category: Type.String(),
  rootCause: Type.Optional(
    Nullable(
      Type.Object({
        eventUid: Type.String(),
        reason: Type.String(),
        object: ObjectName,
        why: Type.String(),
      }),
    ),
  ),
  affected: Type.Array(ObjectName),
  firstSeen: Timestamp,
  lastSeen: Timestamp,
  eventCount: Type.Integer({ minimum: 0 }),
  occurrenceCount: Type.Integer({ minimum: 0 }),
  state: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  version: Type.Integer({ minimum: 0 }),
});

/** `kec.pattern/v1` on KEC_PATTERNS: a storm (rate above baseline) or a first-seen reason/fingerprint. */
export const PatternPayloadSchema = Type.Object({
  schema: Type.Literal(PATTERN_SCHEMA),
  kind: Type.Union([Type.Literal('storm'), Type.Literal('first-seen')]),
  cluster: Type.String({ minLength: 1 }),
  namespace: Type.String(),
  workload: Type.String(),
  fingerprint: Type.String(),
  reason: Type.String(),
  /** The type and severity of the event that made the pattern (absent in messages of older correlators). */
  type: Type.Optional(Type.String()),
  severity: Type.Optional(Type.String()),
  /** Window of the measurement: seconds, or a duration such as "5m", "30s", "1h". */
  window: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\d+(ms|s|m|h|d)$' })]),
  /** Occurrences per minute in the window. */
  rate: Type.Number({ minimum: 0 }),
  /** Expected occurrences per minute (0 for first-seen). */
  baseline: Type.Number({ minimum: 0 }),
  at: Timestamp,
});

export type Enrichment = Static<typeof EnrichmentSchema>;
export type Classification = Static<typeof ClassificationSchema>;
export type KecEventsPayload = Static<typeof KecEventsPayloadSchema>;
export type IncidentPayload = Static<typeof IncidentPayloadSchema>;
export type PatternPayload = Static<typeof PatternPayloadSchema>;

export const KecEventsPayloadValidator = Compile(KecEventsPayloadSchema);
export const IncidentPayloadValidator = Compile(IncidentPayloadSchema);
export const PatternPayloadValidator = Compile(PatternPayloadSchema);
