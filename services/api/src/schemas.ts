// The HTTP contract of services/api: every route's query parameters, bodies and responses as TypeBox schemas.
// The OpenAPI 3.1 document (/api/v1/openapi.json, services/api/openapi.json) is generated from these, and the
// `kec` CLI builds against the same types (import from '@kec/api').
import Type, { type Static, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const StringMap = Type.Record(Type.String(), Type.String());

/** RFC 3339 UTC timestamp with microseconds, e.g. `2026-12-07T14:00:00.123456Z`. */
export const TimestampSchema = Type.String({ description: 'RFC 3339 timestamp (UTC)' });

/** `since`/`until`: a duration back from now (`90s`, `15m`, `2h`, `7d`, `1w`, `1h30m`) or an RFC 3339 time. */
export const TimeBoundSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'a duration back from now (30s, 15m, 2h, 7d, 1w, 1h30m) or an RFC 3339 time',
});

export const TimeRangeQuerySchema = Type.Object({
  since: Type.Optional(TimeBoundSchema),
  until: Type.Optional(TimeBoundSchema),
});

/** The range a response covers, resolved to absolute times (`[since, until)`). */
export const ResolvedRangeSchema = Type.Object({ since: TimestampSchema, until: TimestampSchema });

// ---------------------------------------------------------------------------------------------------------------
// Errors: a Kubernetes-style Status (as kube-apiserver answers), so kubectl-minded clients read them as usual.

export const StatusReasonSchema = Type.Union([
  Type.Literal('BadRequest'),
  Type.Literal('Unauthorized'),
  Type.Literal('Forbidden'),
  Type.Literal('NotFound'),
  Type.Literal('RequestEntityTooLarge'),
  Type.Literal('TooManyRequests'),
  Type.Literal('Timeout'),
  Type.Literal('InternalError'),
  Type.Literal('ServiceUnavailable'),
]);

export const StatusSchema = Type.Object({
  kind: Type.Literal('Status'),
  apiVersion: Type.Literal('v1'),
  metadata: Type.Object({}),
  status: Type.Literal('Failure'),
  message: Type.String(),
  reason: StatusReasonSchema,
  code: Type.Integer(),
  details: Type.Optional(
    Type.Object({
      causes: Type.Optional(
        Type.Array(
          Type.Object({
            field: Type.Optional(Type.String()),
            reason: Type.Optional(Type.String()),
            message: Type.String(),
          }),
        ),
      ),
      /** ClickHouse error code, when the engine refused a statement (e.g. 164 READONLY). */
      clickhouseCode: Type.Optional(Type.Integer()),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------------------------
// Events

export const EventTypeSchema = Type.String({ description: 'Normal or Warning (any value the API sent is kept)' });
export const SeveritySchema = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('error'),
  Type.Literal('critical'),
]);

/** The object an Event is about (`involvedObject` / `regarding`). */
export const ObjectRefSchema = Type.Object({
  kind: Type.String(),
  namespace: Type.String(),
  name: Type.String(),
  uid: Type.String(),
  apiVersion: Type.String(),
  /** kubectl's SUBOBJECT column (`involvedObject.fieldPath`), e.g. `spec.containers{app}`; '' when none. */
  fieldPath: Type.String(),
});

export const WorkloadRefSchema = Type.Object({ kind: Type.String(), name: Type.String() });

/** One Event object in its latest state: kubectl's columns plus kec's enrichment and classification. */
export const EventItemSchema = Type.Object({
  cluster: Type.String(),
  /** The Event's own namespace ('' for cluster-scoped events). */
  namespace: Type.String(),
  /** The Event object's name (kubectl's NAME column in -o wide). */
  name: Type.String(),
  uid: Type.String(),
  /** When the newest occurrence happened (lastTimestamp / series.lastObservedTime / eventTime). */
  lastSeen: TimestampSchema,
  firstSeen: TimestampSchema,
  /** Occurrences so far (count / series.count; 1 for a single event). */
  count: Type.Integer({ minimum: 0 }),
  type: EventTypeSchema,
  reason: Type.String(),
  object: ObjectRefSchema,
  /** kubectl's SOURCE column: `component, host` (core/v1 source) or the reporting controller. */
  source: Type.String(),
  reportingController: Type.String(),
  reportingInstance: Type.String(),
  message: Type.String(),
  severity: Type.String({ description: 'info | warning | error | critical' }),
  category: Type.String(),
  /** The owning workload (Pod -> ReplicaSet -> Deployment ...), null when not resolved. */
  workload: Nullable(WorkloadRefSchema),
  /** Node of the object ('' when unknown). */
  node: Type.String(),
  /** The incident the correlator joined it to, null when none. */
  incidentId: Nullable(Type.String()),
  /** Labels of the involved object (from enrichment; kept after the object is deleted). */
  labels: StringMap,
  fingerprintId: Type.String(),
  /** The Event object itself expired from the API (TTL); its history is kept. */
  deleted: Type.Boolean(),
});

export const EventFilterQueryProperties = {
  cluster: Type.Optional(Type.String({ minLength: 1 })),
  /** Absent: all namespaces. */
  namespace: Type.Optional(Type.String({ minLength: 1 })),
  /** `Kind/name` of the involved object (kubectl's `--for`); Kind is case-insensitive (`pod/web-0`). */
  for: Type.Optional(Type.String({ minLength: 3, pattern: '^[^/]+/[^/]+$' })),
  /** Comma-separated list; any matches. */
  reason: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated list of Normal, Warning (case-insensitive). */
  type: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated list of info, warning, error, critical. */
  severity: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated list of categories. */
  category: Type.Optional(Type.String({ minLength: 1 })),
  /** Workload name, or `Kind/name`. */
  workload: Type.Optional(Type.String({ minLength: 1 })),
  node: Type.Optional(Type.String({ minLength: 1 })),
  /** Kubernetes label selector on the involved object's labels: `app=web,tier!=db,env in (a,b),!canary,team`. */
  labelSelector: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** Case-insensitive substring of the message. */
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  since: Type.Optional(TimeBoundSchema),
  until: Type.Optional(TimeBoundSchema),
};

export const EventsQuerySchema = Type.Object(
  {
    ...EventFilterQueryProperties,
    /** Page size (default 100, at most 1000). */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** `nextCursor` of the previous page; the other parameters must be the same. */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);

/**
 * One page, newest first by lastSeen (then uid). `nextCursor` is null on the last page. The set the pages walk
 * is pinned at the first page (events whose last occurrence is before `range.until` of the first page), so
 * pages neither repeat nor skip while rows are written; an Event updated after the first page moves past the
 * pinned bound and is left out of this walk (it shows in a new listing or in /watch).
 */
export const EventPageSchema = Type.Object({
  kind: Type.Literal('EventList'),
  apiVersion: Type.Literal('kec.io/v1'),
  range: ResolvedRangeSchema,
  items: Type.Array(EventItemSchema),
  nextCursor: Nullable(Type.String()),
});

// ---------------------------------------------------------------------------------------------------------------
// Timeline of one object (and, for a workload, its pods), across uid changes when a name is reused.

export const TimelineParamsSchema = Type.Object({
  /** Kind, case-insensitive (`pod`, `Deployment`, `deploy`, `sts`). */
  kind: Type.String({ minLength: 1 }),
  /** `_` for a cluster-scoped object (Node). */
  namespace: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
});

export const TimelineQuerySchema = Type.Object(
  {
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    since: Type.Optional(TimeBoundSchema),
    until: Type.Optional(TimeBoundSchema),
    /** Bucket width for `buckets` (`1m`, `5m`, `15m`, `1h`, `1d`); default chosen from the range. */
    step: Type.Optional(Type.String({ pattern: '^(1m|5m|15m|1h|1d)$' })),
    /** Entries returned at most (default 1000, at most 10000); the oldest first. */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

/** One stored observation of an Event about the object or one of its pods. */
export const TimelineEntrySchema = Type.Object({
  time: TimestampSchema,
  cluster: Type.String(),
  /** The Event object. */
  uid: Type.String(),
  name: Type.String(),
  object: Type.Object({ kind: Type.String(), namespace: Type.String(), name: Type.String(), uid: Type.String() }),
  type: Type.String(),
  reason: Type.String(),
  /** The Event's count at this observation. */
  count: Type.Integer({ minimum: 0 }),
  /** New occurrences this observation brought (0 for a replay or a deletion). */
  occurrences: Type.Integer({ minimum: 0 }),
  severity: Type.String(),
  category: Type.String(),
  message: Type.String(),
  incidentId: Nullable(Type.String()),
});

export const TimelineBucketSchema = Type.Object({
  time: TimestampSchema,
  occurrences: Type.Integer({ minimum: 0 }),
  warnings: Type.Integer({ minimum: 0 }),
});

export const TimelineSchema = Type.Object({
  kind: Type.Literal('Timeline'),
  apiVersion: Type.Literal('kec.io/v1'),
  object: Type.Object({ kind: Type.String(), namespace: Type.String(), name: Type.String() }),
  range: ResolvedRangeSchema,
  step: Type.String(),
  /** Every object whose events are included (the object itself under each uid it had, and a workload's pods). */
  objects: Type.Array(
    Type.Object({
      kind: Type.String(),
      namespace: Type.String(),
      name: Type.String(),
      uid: Type.String(),
      firstSeen: TimestampSchema,
      lastSeen: TimestampSchema,
    }),
  ),
  /** Occurrences per time bucket (only buckets with occurrences). */
  buckets: Type.Array(TimelineBucketSchema),
  /** Observations oldest first. */
  entries: Type.Array(TimelineEntrySchema),
  /** More entries exist in the range than `limit`. */
  truncated: Type.Boolean(),
});

// ---------------------------------------------------------------------------------------------------------------
// Incidents

export const IncidentsQuerySchema = Type.Object(
  {
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    namespace: Type.Optional(Type.String({ minLength: 1 })),
    state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
    /** Comma-separated list of info, warning, error, critical. */
    severity: Type.Optional(Type.String({ minLength: 1 })),
    category: Type.Optional(Type.String({ minLength: 1 })),
    since: Type.Optional(TimeBoundSchema),
    until: Type.Optional(TimeBoundSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const IncidentSchema = Type.Object({
  id: Type.String(),
  cluster: Type.String(),
  namespace: Type.String(),
  title: Type.String(),
  severity: Type.String(),
  category: Type.String(),
  state: Type.String({ description: 'open | resolved' }),
  rootCause: Type.Object({
    eventUid: Type.String(),
    reason: Type.String(),
    /** `Kind/namespace/name` */
    object: Type.String(),
    /** Why this event is the root-cause candidate (the correlation rule's explanation). */
    why: Type.String(),
  }),
  /** `Kind/namespace/name` of every affected object. */
  affected: Type.Array(Type.String()),
  firstSeen: TimestampSchema,
  lastSeen: TimestampSchema,
  eventCount: Type.Integer({ minimum: 0 }),
  occurrenceCount: Type.Integer({ minimum: 0 }),
});

export const IncidentListSchema = Type.Object({
  kind: Type.Literal('IncidentList'),
  apiVersion: Type.Literal('kec.io/v1'),
  range: ResolvedRangeSchema,
  items: Type.Array(IncidentSchema),
});

export const IncidentParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
export const IncidentDetailQuerySchema = Type.Object(
  { cluster: Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
);

/** An incident with its member events, oldest first (by firstSeen, then lastSeen). */
export const IncidentDetailSchema = Type.Object({
  kind: Type.Literal('Incident'),
  apiVersion: Type.Literal('kec.io/v1'),
  incident: IncidentSchema,
  events: Type.Array(EventItemSchema),
});

// ---------------------------------------------------------------------------------------------------------------
// Top and series (from the per-minute rollup: exact, replay-proof occurrence counts)

export const TopBySchema = Type.Union([
  Type.Literal('reason'),
  Type.Literal('workload'),
  Type.Literal('node'),
  Type.Literal('namespace'),
  Type.Literal('fingerprint'),
]);

export const TopQuerySchema = Type.Object(
  {
    by: TopBySchema,
    ...EventFilterQueryProperties,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const TopItemSchema = Type.Object({
  /** reason; `Kind/name` of a workload; node name; namespace; fingerprint id. */
  key: Type.String(),
  /** For `workload`: its namespace; otherwise ''. */
  namespace: Type.String(),
  /** For `fingerprint`: the message template; for `reason`: the event type; otherwise ''. */
  detail: Type.String(),
  /** New occurrences in the range. */
  occurrences: Type.Integer({ minimum: 0 }),
  /** Distinct Event objects that produced them. */
  events: Type.Integer({ minimum: 0 }),
});

export const TopSchema = Type.Object({
  kind: Type.Literal('Top'),
  apiVersion: Type.Literal('kec.io/v1'),
  by: TopBySchema,
  range: ResolvedRangeSchema,
  items: Type.Array(TopItemSchema),
});

export const SeriesGroupBySchema = Type.Union([
  Type.Literal('reason'),
  Type.Literal('namespace'),
  Type.Literal('severity'),
  Type.Literal('category'),
  Type.Literal('kind'),
  Type.Literal('type'),
  Type.Literal('workload'),
]);

export const SeriesQuerySchema = Type.Object(
  {
    /** Bucket width: 1m, 5m, 15m, 1h, 1d (default 1h). */
    step: Type.Optional(Type.String({ pattern: '^(1m|5m|15m|1h|1d)$' })),
    groupBy: Type.Optional(SeriesGroupBySchema),
    ...EventFilterQueryProperties,
  },
  { additionalProperties: false },
);

export const SeriesPointSchema = Type.Object({
  time: TimestampSchema,
  /** Value of the groupBy dimension ('' without groupBy). */
  group: Type.String(),
  occurrences: Type.Integer({ minimum: 0 }),
});

export const SeriesSchema = Type.Object({
  kind: Type.Literal('Series'),
  apiVersion: Type.Literal('kec.io/v1'),
  step: Type.String(),
  groupBy: Nullable(Type.String()),
  range: ResolvedRangeSchema,
  /** Only buckets with occurrences, by time then group. */
  points: Type.Array(SeriesPointSchema),
});

// ---------------------------------------------------------------------------------------------------------------
// Watch (Server-Sent Events): `event: <type>` + `data: <JSON>` lines, a `: keepalive` comment every 15 s.

export const WatchQuerySchema = Type.Object(
  {
    ...EventFilterQueryProperties,
    /** Also stream incident changes (default true). */
    incidents: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** SSE `event: event`: an Event observation (ADDED / MODIFIED / DELETED / LISTED) as it was stored. */
export const WatchEventSchema = Type.Object({
  type: Type.Literal('event'),
  watchType: Type.String({ description: 'ADDED | MODIFIED | DELETED | LISTED' }),
  /** New occurrences this observation represents. */
  occurrences: Type.Integer({ minimum: 0 }),
  event: EventItemSchema,
});

/** SSE `event: incident`: the full state of an incident that opened, changed or resolved. */
export const WatchIncidentSchema = Type.Object({ type: Type.Literal('incident'), incident: IncidentSchema });

/** SSE `event: error`: the stream ends after it (e.g. NATS went away); the client reconnects. */
export const WatchErrorSchema = Type.Object({ type: Type.Literal('error'), status: StatusSchema });

// ---------------------------------------------------------------------------------------------------------------
// SQL (read-only, enforced by the engine)

export const SqlRequestSchema = Type.Object(
  {
    /** One read-only statement (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS). */
    query: Type.String({ minLength: 1, maxLength: 262_144 }),
    /** Values for `{name:Type}` placeholders, bound by the engine. */
    params: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String())),
  },
  { additionalProperties: false },
);

export const SqlResponseSchema = Type.Object({
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  rows: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  /** The engine cut the result at the row limit (max_result_rows, result_overflow_mode=break). */
  truncated: Type.Boolean(),
  statistics: Type.Object({ elapsedMs: Type.Number(), rows: Type.Integer({ minimum: 0 }) }),
});

// ---------------------------------------------------------------------------------------------------------------

export type Status = Static<typeof StatusSchema>;
export type StatusReason = Static<typeof StatusReasonSchema>;
export type ObjectRef = Static<typeof ObjectRefSchema>;
export type EventItem = Static<typeof EventItemSchema>;
export type EventsQuery = Static<typeof EventsQuerySchema>;
export type EventPage = Static<typeof EventPageSchema>;
export type TimelineParams = Static<typeof TimelineParamsSchema>;
export type TimelineQuery = Static<typeof TimelineQuerySchema>;
export type TimelineEntry = Static<typeof TimelineEntrySchema>;
export type TimelineBucket = Static<typeof TimelineBucketSchema>;
export type Timeline = Static<typeof TimelineSchema>;
export type IncidentsQuery = Static<typeof IncidentsQuerySchema>;
export type Incident = Static<typeof IncidentSchema>;
export type IncidentList = Static<typeof IncidentListSchema>;
export type IncidentDetail = Static<typeof IncidentDetailSchema>;
export type TopBy = Static<typeof TopBySchema>;
export type TopQuery = Static<typeof TopQuerySchema>;
export type TopItem = Static<typeof TopItemSchema>;
export type Top = Static<typeof TopSchema>;
export type SeriesQuery = Static<typeof SeriesQuerySchema>;
export type SeriesPoint = Static<typeof SeriesPointSchema>;
export type Series = Static<typeof SeriesSchema>;
export type WatchQuery = Static<typeof WatchQuerySchema>;
export type WatchEvent = Static<typeof WatchEventSchema>;
export type WatchIncident = Static<typeof WatchIncidentSchema>;
export type WatchError = Static<typeof WatchErrorSchema>;
export type SqlRequest = Static<typeof SqlRequestSchema>;
export type SqlResponse = Static<typeof SqlResponseSchema>;
