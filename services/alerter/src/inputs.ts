// What the alerter reads from KEC_INCIDENTS, KEC_EVENTS and KEC_PATTERNS: only the fields it uses, tolerant of the
// rest (the producer's full contract is the correlator's README and services/writer/src/contract.ts). A message that
// fails these schemas is dead-lettered.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const StringMap = Type.Record(Type.String(), Type.String());
const Severity = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('error'),
  Type.Literal('critical'),
]);
const ObjectName = Type.Union([
  Type.String(),
  Type.Object({ kind: Type.String(), namespace: Type.Optional(Type.String()), name: Type.String() }),
]);

export const IncidentInSchema = Type.Object({
  schema: Type.Literal('kec.incident/v1'),
  id: Type.String({ minLength: 1 }),
  cluster: Type.String(),
  namespace: Type.String(),
  title: Type.String(),
  severity: Severity,
  category: Type.String(),
  rootCause: Type.Optional(
    Type.Union([
      Type.Object({ eventUid: Type.String(), reason: Type.String(), object: ObjectName, why: Type.String() }),
      Type.Null(),
    ]),
  ),
  affected: Type.Array(ObjectName),
  firstSeen: Type.String(),
  lastSeen: Type.String(),
  eventCount: Type.Integer(),
  occurrenceCount: Type.Integer(),
  state: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  version: Type.Integer({ minimum: 0 }),
});

export const EventInSchema = Type.Object({
  schema: Type.String(),
  cluster: Type.String(),
  namespace: Type.String(),
  uid: Type.String(),
  reason: Type.String(),
  type: Type.String(),
  note: Type.Optional(Type.String()),
  regarding: Type.Object({ kind: Type.String(), namespace: Type.Optional(Type.String()), name: Type.String() }),
  enrichment: Type.Optional(
    Type.Union([
      Type.Object({
        object: Type.Optional(Type.Union([Type.Object({ labels: Type.Optional(StringMap) }), Type.Null()])),
        workload: Type.Optional(Type.Union([Type.Object({ kind: Type.String(), name: Type.String() }), Type.Null()])),
        node: Type.Optional(Type.Union([Type.Object({ name: Type.String() }), Type.Null()])),
      }),
      Type.Null(),
    ]),
  ),
  classification: Type.Optional(
    Type.Union([Type.Object({ severity: Severity, category: Type.String() }), Type.Null()]),
  ),
  fingerprint: Type.Optional(Type.Union([Type.Object({ id: Type.String() }), Type.Null()])),
  occurrences: Type.Optional(Type.Integer({ minimum: 0 })),
  incidentId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export const PatternInSchema = Type.Object({
  schema: Type.Literal('kec.pattern/v1'),
  kind: Type.Union([Type.Literal('storm'), Type.Literal('first-seen')]),
  cluster: Type.String(),
  namespace: Type.String(),
  workload: Type.String(),
  fingerprint: Type.String(),
  reason: Type.String(),
  /** Absent in messages of correlators before they carried it: such a pattern matches no `type`/`severity` matcher. */
  type: Type.Optional(Type.String()),
  severity: Type.Optional(Severity),
  rate: Type.Number(),
  baseline: Type.Number(),
  at: Type.String(),
});

export type IncidentIn = Static<typeof IncidentInSchema>;
export type EventIn = Static<typeof EventInSchema>;
export type PatternIn = Static<typeof PatternInSchema>;

export const IncidentInValidator = Compile(IncidentInSchema);
export const EventInValidator = Compile(EventInSchema);
export const PatternInValidator = Compile(PatternInSchema);

/** `Kind/ns/name` of an object named either way. */
export function objectName(o: Static<typeof ObjectName>): string {
  return typeof o === 'string' ? o : `${o.kind}/${o.namespace ?? ''}/${o.name}`;
}
