// kec.enriched/v1: a KecEvent plus what the enricher knows about the object it is about. The payload on
// `<root>.enriched.<cluster>.<namespace>.<kind>`; the correlator consumes it.
import { KecEventProperties, MICRO_TIME_PATTERN, ModelValidationError } from '@kec/model';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { PodFieldsSchema } from './record.ts';

export const KEC_ENRICHED_SCHEMA = 'kec.enriched/v1';

const StringMap = Type.Record(Type.String(), Type.String());

/**
 * How the regarding object was found:
 * - hit: a live record in the cache;
 * - tombstone: the object was deleted; the record is what it looked like (object.deleted = true);
 * - fetched: not cached; one GET to the API found it (and cached it);
 * - inferred: not found (as a miss; `detail` says why), but its name follows a controller's naming convention
 *   (`<cronjob>-<minutes>-<5>`, `<deployment>-<pod-template-hash>-<5>`, `<statefulset>-<ordinal>`, a cached DaemonSet's
 *   or Job's `<name>-<5>`): `owners` and `workload` are read from the name, not seen; `object` is null;
 * - miss: not found: the API said 404, or the informer that covers the kind was current and never saw it, or the
 *   kind is not one the enricher knows, or the GET was not possible (rate limit, API error); `detail` says which;
 * - unavailable: Redis could not be read; the event passes through with only what it carried (and, like inferred,
 *   the owners its name shows).
 */
export const EnrichmentStatusSchema = Type.Union([
  Type.Literal('hit'),
  Type.Literal('tombstone'),
  Type.Literal('fetched'),
  Type.Literal('inferred'),
  Type.Literal('miss'),
  Type.Literal('unavailable'),
]);

export const WorkloadRefSchema = Type.Object(
  { kind: Type.String(), name: Type.String(), uid: Type.String() },
  { additionalProperties: false },
);

export const EnrichedObjectSchema = Type.Object(
  {
    kind: Type.String(),
    namespace: Type.String(),
    name: Type.String(),
    uid: Type.String(),
    labels: StringMap,
    annotations: StringMap,
    deleted: Type.Boolean(),
    /** When the deletion was seen (MicroTime), or null. */
    deletedAt: Type.Union([Type.String({ pattern: MICRO_TIME_PATTERN }), Type.Null()]),
  },
  { additionalProperties: false },
);

export const EnrichedNodeSchema = Type.Object(
  {
    name: Type.String(),
    zone: Type.String(),
    region: Type.String(),
    instanceType: Type.String(),
    labels: StringMap,
    ready: Type.String(),
    problems: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const EnrichmentSchema = Type.Object(
  {
    status: EnrichmentStatusSchema,
    /** Why a miss, inferred or unavailable happened (not-found, informer-current, unsupported-kind, rate-limited, fetch-failed, redis-error, no-object); "" otherwise. */
    detail: Type.String(),
    object: Type.Union([EnrichedObjectSchema, Type.Null()]),
    /** Pod fields, when the object is a Pod. */
    pod: Type.Union([PodFieldsSchema, Type.Null()]),
    /** Owner chain from the direct controller up to the top controller (empty for bare objects). */
    owners: Type.Array(WorkloadRefSchema),
    /** The top controller (Deployment, StatefulSet, DaemonSet, CronJob, a Job without CronJob, ...); for an event about a workload, the workload itself or its top owner; null for bare pods, nodes, namespaces. */
    workload: Type.Union([WorkloadRefSchema, Type.Null()]),
    /** The node: the pod's node, or the object itself for Node events. */
    node: Type.Union([EnrichedNodeSchema, Type.Null()]),
    /** Labels of the event's namespace ({} when unknown or cluster-scoped). */
    namespaceLabels: StringMap,
    enrichedAt: Type.String({ pattern: MICRO_TIME_PATTERN }),
  },
  { additionalProperties: false },
);

export const EnrichedEventSchema = Type.Object(
  { ...KecEventProperties, schema: Type.Literal(KEC_ENRICHED_SCHEMA), enrichment: EnrichmentSchema },
  { $id: KEC_ENRICHED_SCHEMA, additionalProperties: false },
);

export type EnrichmentStatus = Static<typeof EnrichmentStatusSchema>;
export type WorkloadRef = Static<typeof WorkloadRefSchema>;
export type EnrichedObject = Static<typeof EnrichedObjectSchema>;
export type EnrichedNode = Static<typeof EnrichedNodeSchema>;
export type Enrichment = Static<typeof EnrichmentSchema>;
export type EnrichedEvent = Static<typeof EnrichedEventSchema>;

export const EnrichedEventValidator = Compile(EnrichedEventSchema);

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isEnrichedEvent(v: unknown): v is EnrichedEvent {
  return EnrichedEventValidator.Check(v);
}

/** Parses and validates a kec.enriched/v1 payload (bytes, JSON string or value). Throws ModelValidationError. */
export function parseEnrichedEvent(input: unknown): EnrichedEvent {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : utf8.decode(input));
    } catch (cause) {
      throw new ModelValidationError('', `payload is not JSON: ${(cause as Error).message}`, { cause });
    }
  }
  if (EnrichedEventValidator.Check(value)) return value;
  const first = EnrichedEventValidator.Errors(value)[0] as { instancePath?: string; message?: string } | undefined;
  throw new ModelValidationError(first?.instancePath ?? '', first?.message ?? 'not a kec.enriched/v1 event');
}
