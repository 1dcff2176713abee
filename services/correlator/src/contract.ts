// The published contracts of what the correlator produces (strict: every field it guarantees, nothing else). The
// generated JSON Schema files under schemas/ come from these (scripts/gen-schemas.ts); the writer reads with its own
// tolerant schemas (services/writer/src/contract.ts).
import { EnrichmentSchema } from '@kec/cache';
import { KecEventProperties } from '@kec/model';
import { CategorySchema, SeveritySchema } from '@kec/rules';
import Type from 'typebox';

const StringMap = Type.Record(Type.String(), Type.String());

export const EventsPayloadSchema = Type.Object(
  {
    ...KecEventProperties,
    schema: Type.Literal('kec.events/v1'),
    enrichment: EnrichmentSchema,
    classification: Type.Object(
      {
        severity: SeveritySchema,
        category: CategorySchema,
        actionable: Type.Boolean(),
        /** The matching rule's id, or fallback-warning / fallback-normal. */
        ruleId: Type.String(),
        /** The rule set's version(s), e.g. "2026.12.1+team-3": what re-classification compares. */
        rulesetVersion: Type.String(),
        /** Named groups the rule extracted, plus what the pod status adds (exitCode, terminationReason...). */
        fields: StringMap,
      },
      { additionalProperties: false },
    ),
    fingerprint: Type.Object(
      {
        /** First 16 hex of sha256(reason, involved kind, template). */
        id: Type.String({ pattern: '^[0-9a-f]{16}$' }),
        template: Type.String(),
      },
      { additionalProperties: false },
    ),
    /** New occurrences this observation represents (0 for replays, older observations and DELETED). */
    occurrences: Type.Integer({ minimum: 0 }),
    incidentId: Type.Union([Type.String(), Type.Null()]),
  },
  {
    $id: 'kec.events/v1',
    title: 'kec.events/v1',
    description:
      'A classified, enriched Kubernetes Event observation on <root>.events.<cluster>.<ns>.<kind>.<type>.<reason>',
    additionalProperties: false,
  },
);

export const IncidentPayloadSchema = Type.Object(
  {
    schema: Type.Literal('kec.incident/v1'),
    id: Type.String(),
    cluster: Type.String(),
    /** The namespace of the event that opened it ("" for node incidents). */
    namespace: Type.String(),
    title: Type.String(),
    severity: SeveritySchema,
    category: Type.String(),
    rootCause: Type.Union([
      Type.Object(
        {
          eventUid: Type.String(),
          /** The cause's reason: the event's, or the container's termination reason (OOMKilled). */
          reason: Type.String(),
          /** Kind/namespace/name (Kind/name when cluster-scoped). */
          object: Type.String(),
          why: Type.String(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    /** Kind/namespace/name of the affected objects, sorted, at most maxAffected. */
    affected: Type.Array(Type.String()),
    firstSeen: Type.String(),
    lastSeen: Type.String(),
    /** Distinct event objects. */
    eventCount: Type.Integer({ minimum: 0 }),
    occurrenceCount: Type.Integer({ minimum: 0 }),
    state: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
    /** Monotonic per id: each message is the full state at this version; keep the highest. */
    version: Type.Integer({ minimum: 1 }),
  },
  {
    $id: 'kec.incident/v1',
    title: 'kec.incident/v1',
    description: 'An incident version on <root>.incidents.<cluster>.<ns>',
    additionalProperties: false,
  },
);

export const PatternPayloadSchema = Type.Object(
  {
    schema: Type.Literal('kec.pattern/v1'),
    kind: Type.Union([Type.Literal('storm'), Type.Literal('first-seen')]),
    cluster: Type.String(),
    namespace: Type.String(),
    /** Kind/name of the workload, or "". */
    workload: Type.String(),
    /** The fingerprint id ("" for a reason storm). */
    fingerprint: Type.String(),
    reason: Type.String(),
    /** The Kubernetes type (Normal, Warning) of the event whose occurrence made the pattern. */
    type: Type.String(),
    /** kec's severity of that event (a storm of Normal events is info). */
    severity: SeveritySchema,
    /** "1m" for storms, "0s" for first-seen. */
    window: Type.String(),
    /** Occurrences in the minute (0 for first-seen). */
    rate: Type.Number({ minimum: 0 }),
    /** Mean per minute over the baseline minutes before (0 for first-seen). */
    baseline: Type.Number({ minimum: 0 }),
    at: Type.String(),
  },
  {
    $id: 'kec.pattern/v1',
    title: 'kec.pattern/v1',
    description: 'A storm or a first-seen fingerprint on <root>.patterns.<cluster>.<ns>',
    additionalProperties: false,
  },
);
