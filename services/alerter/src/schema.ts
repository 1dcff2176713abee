// Schemas of the alerter: the `kec.alerts/v1` file (rules, route tree, inhibition rules, receivers), the state kept in
// NATS KV (alerts, groups, silences) and the public `kec.alert/v1` payload. Types are derived from these schemas.

import { NotificationSchema, type ReceiverConfig } from '@kec/notify';
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export const ALERTS_API_VERSION = 'kec.alerts/v1';
export const ALERT_SCHEMA = 'kec.alert/v1';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const Duration = Type.String({ pattern: '^\\d+(ms|s|m|h|d)$', description: 'a duration such as 30s, 5m, 4h' });
const StrOrList = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
]);
const StringMap = Type.Record(Type.String(), Type.String());
const SeveritySchema = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('error'),
  Type.Literal('critical'),
]);

/** What selects an incident, an event or a pattern. Every field is optional; all given fields must hold (AND). */
const CommonMatch = {
  cluster: Type.Optional(StrOrList),
  namespace: Type.Optional(StrOrList),
  /** `Kind/name` (e.g. `Deployment/web`) or just the name. */
  workload: Type.Optional(StrOrList),
  reason: Type.Optional(StrOrList),
};

export const IncidentMatchSchema = Type.Object(
  {
    ...CommonMatch,
    /** At least this severity. */
    severity: Type.Optional(SeveritySchema),
    category: Type.Optional(StrOrList),
    /** The root cause's object kind (Pod, Node, ...). */
    kind: Type.Optional(StrOrList),
    state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
  },
  { additionalProperties: false },
);

export const EventMatchSchema = Type.Object(
  {
    ...CommonMatch,
    severity: Type.Optional(SeveritySchema),
    category: Type.Optional(StrOrList),
    type: Type.Optional(StrOrList),
    kind: Type.Optional(StrOrList),
    node: Type.Optional(StrOrList),
    /** Labels of the involved object (from the enricher): every key must be present with this value. */
    labels: Type.Optional(StringMap),
    /** A regular expression (JavaScript syntax, unanchored) on the message. */
    message: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const PatternMatchSchema = Type.Object(
  {
    ...CommonMatch,
    kind: Type.Optional(Type.Union([Type.Literal('storm'), Type.Literal('first-seen')])),
    /** The Kubernetes type of the events that made the pattern (Normal, Warning). */
    type: Type.Optional(StrOrList),
    /** At least this severity (kec's, of the events that made the pattern). */
    severity: Type.Optional(SeveritySchema),
  },
  { additionalProperties: false },
);

/** Labels an events or patterns rule can group by (the alert's identity). */
export const EVENT_LABELS = [
  'cluster',
  'namespace',
  'workload',
  'kind',
  'object',
  'node',
  'reason',
  'type',
  'severity',
  'category',
  'fingerprint',
] as const;

const base = {
  id: Type.String({ pattern: '^[a-zA-Z0-9][-_.a-zA-Z0-9]*$' }),
  description: Type.Optional(Type.String()),
  /** The `alertname` label (default: the rule id). */
  alertname: Type.Optional(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' })),
  /** Severity label of the alert (default: the incident's or event's own). */
  severity: Type.Optional(SeveritySchema),
  /** Extra labels; values are templates. */
  labels: Type.Optional(StringMap),
  /** Annotations; values are templates (`{{ labels.namespace }}`, `{{ incident.title }}`, `{{ counts.occurrences }}`). */
  annotations: Type.Optional(StringMap),
  disabled: Type.Optional(Type.Boolean()),
};

export const IncidentRuleSchema = Type.Object(
  {
    ...base,
    source: Type.Literal('incidents'),
    match: Type.Optional(IncidentMatchSchema),
    /** The rule does not apply to incidents this also matches (e.g. `unless: { kind: Node }`). */
    unless: Type.Optional(IncidentMatchSchema),
  },
  { additionalProperties: false },
);

export const EventRuleSchema = Type.Object(
  {
    ...base,
    source: Type.Literal('events'),
    match: Type.Optional(EventMatchSchema),
    /** The alert fires when more than `count` new occurrences happen within `window`, per distinct `by` labels. */
    threshold: Type.Object(
      {
        count: Type.Integer({ minimum: 0 }),
        window: Duration,
        by: Type.Optional(Type.Array(Type.Union(EVENT_LABELS.map((l) => Type.Literal(l))), { uniqueItems: true })),
        /** Resolves after this long without a matching occurrence (default: the window). */
        quiet: Type.Optional(Duration),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const PatternRuleSchema = Type.Object(
  {
    ...base,
    source: Type.Literal('patterns'),
    match: Type.Optional(PatternMatchSchema),
    by: Type.Optional(
      Type.Array(
        Type.Union(['cluster', 'namespace', 'workload', 'reason', 'fingerprint', 'kind'].map((l) => Type.Literal(l))),
        { uniqueItems: true },
      ),
    ),
    /** Resolves this long after the last matching pattern (default 15m). */
    resolveAfter: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const AlertRuleSchema = Type.Union([IncidentRuleSchema, EventRuleSchema, PatternRuleSchema]);

export const RULE_SOURCES = ['incidents', 'events', 'patterns'] as const;
export const RULE_VALIDATORS = {
  incidents: Compile(IncidentRuleSchema),
  events: Compile(EventRuleSchema),
  patterns: Compile(PatternRuleSchema),
} as const;

/** Alertmanager's matcher: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"` (regexes anchored at both ends). */
export const MatcherSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  value: Type.String(),
  isRegex: Type.Boolean(),
  isEqual: Type.Boolean(),
});

// Route: Alertmanager's names (snake_case), so a route can be pasted from an alertmanager.yml.
export interface RouteSpec {
  receiver?: string | undefined;
  matchers?: string[] | undefined;
  group_by?: string[] | undefined;
  group_wait?: string | undefined;
  group_interval?: string | undefined;
  repeat_interval?: string | undefined;
  continue?: boolean | undefined;
  routes?: RouteSpec[] | undefined;
}

const RouteFields = {
  receiver: Type.Optional(Type.String({ minLength: 1 })),
  matchers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  group_by: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  group_wait: Type.Optional(Duration),
  group_interval: Type.Optional(Duration),
  repeat_interval: Type.Optional(Duration),
  continue: Type.Optional(Type.Boolean()),
};

export const RouteSchema: TSchema = Type.Cyclic(
  {
    Route: Type.Object(
      { ...RouteFields, routes: Type.Optional(Type.Array(Type.Ref('Route'))) },
      { additionalProperties: false },
    ),
  },
  'Route',
);

export const InhibitRuleSchema = Type.Object(
  {
    source_matchers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    target_matchers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    equal: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

/**
 * A receiver: its name and type (`alertmanager`, `webhook`, `slack`, `dingtalk`); the rest of its fields are checked
 * against @kec/notify's ReceiverConfigSchema when the file loads (errors name the receiver and the key).
 */
export const ReceiverRefSchema = Type.Object({ name: Type.String(), type: Type.String() });

export const AlertsFileSchema = Type.Object(
  {
    apiVersion: Type.Literal(ALERTS_API_VERSION),
    /** Each rule is checked against the schema of its `source` (RULE_VALIDATORS), for errors that name its own keys. */
    rules: Type.Optional(Type.Array(Type.Object({ source: Type.Union(RULE_SOURCES.map((x) => Type.Literal(x))) }))),
    route: Type.Optional(RouteSchema),
    receivers: Type.Optional(Type.Array(ReceiverRefSchema)),
    inhibit_rules: Type.Optional(Type.Array(InhibitRuleSchema)),
  },
  { additionalProperties: false },
);

export type IncidentMatch = Static<typeof IncidentMatchSchema>;
export type EventMatch = Static<typeof EventMatchSchema>;
export type PatternMatch = Static<typeof PatternMatchSchema>;
export type IncidentRule = Static<typeof IncidentRuleSchema>;
export type EventRule = Static<typeof EventRuleSchema>;
export type PatternRule = Static<typeof PatternRuleSchema>;
export type AlertRule = Static<typeof AlertRuleSchema>;
export type Matcher = Static<typeof MatcherSchema>;
export type InhibitRuleSpec = Static<typeof InhibitRuleSchema>;
export type ReceiverRef = ReceiverConfig;
export interface AlertsFile {
  apiVersion: typeof ALERTS_API_VERSION;
  rules?: AlertRule[] | undefined;
  route?: RouteSpec | undefined;
  receivers?: ReceiverRef[] | undefined;
  inhibit_rules?: InhibitRuleSpec[] | undefined;
}

export const AlertsFileValidator = Compile(AlertsFileSchema);

// ---- state (NATS KV) ----

export const AlertStatusSchema = Type.Union([
  Type.Literal('inactive'),
  Type.Literal('firing'),
  Type.Literal('resolved'),
]);
export type AlertStatus = Static<typeof AlertStatusSchema>;

export const CountsSchema = Type.Record(Type.String(), Type.Number());

/** One alert (KV key `a.<id>`): identity = rule + grouping labels. */
export const AlertStateSchema = Type.Object({
  id: Type.String(),
  rule: Type.String(),
  source: Type.Union([Type.Literal('incidents'), Type.Literal('events'), Type.Literal('patterns')]),
  status: AlertStatusSchema,
  labels: StringMap,
  annotations: StringMap,
  /** RFC 3339. */
  startsAt: Type.Optional(Type.String()),
  endsAt: Type.Optional(Type.String()),
  /** Last matching input (ms), for quiet-period resolution. */
  activeAt: Type.Number(),
  /** When it resolves without a new match (ms); events and patterns rules. */
  resolveAt: Type.Optional(Type.Number()),
  incidentId: Type.Optional(Type.String()),
  incidentVersion: Type.Optional(Type.Number()),
  generatorURL: Type.Optional(Type.String()),
  counts: Type.Optional(CountsSchema),
  /** Events rules: occurrences per minute bucket, [minute start ms, n]. */
  buckets: Type.Optional(Type.Array(Type.Tuple([Type.Number(), Type.Number()]))),
  /** Transitions (firing/resolved) so far; the public kec.alert/v1 message of transition n has msg-id `<id>/<n>`. */
  seq: Type.Integer({ minimum: 0 }),
  /** The last transition published on KEC_ALERTS. */
  published: Type.Integer({ minimum: 0 }),
  updatedAt: Type.Number(),
});
export type AlertState = Static<typeof AlertStateSchema>;

/** One aggregation group of one receiver (KV key `g.<hash>`): the last notification and its timers. */
export const GroupStateSchema = Type.Object({
  /** Its KV id: stableId(receiver, key). */
  kvId: Type.String(),
  key: Type.String(),
  receiver: Type.String(),
  groupLabels: StringMap,
  version: Type.Integer({ minimum: 0 }),
  firstAt: Type.Number(),
  nextFlushAt: Type.Number(),
  lastNotifiedAt: Type.Number(),
  /** What the last notification said per alert: `f:<severity>` (firing) ; resolved alerts leave after being sent. */
  notified: Type.Record(Type.String(), Type.String()),
  /** The notification of `version`, kept until its publish ack (`publishedVersion`), so no replica loses it. */
  pending: Type.Optional(NotificationSchema),
  publishedVersion: Type.Integer({ minimum: 0 }),
  updatedAt: Type.Number(),
});
export type GroupState = Static<typeof GroupStateSchema>;

/** A silence (KV key `s.<id>`), the fields of Alertmanager's API. */
export const SilenceSchema = Type.Object({
  id: Type.String(),
  matchers: Type.Array(MatcherSchema, { minItems: 1 }),
  startsAt: Type.String(),
  endsAt: Type.String(),
  createdBy: Type.String(),
  comment: Type.String(),
  updatedAt: Type.String(),
});
export type Silence = Static<typeof SilenceSchema>;
export const SilenceValidator = Compile(SilenceSchema);

/** `kec.alert/v1` on `<root>.alerts.<cluster>` (stream KEC_ALERTS): each firing/resolved transition of an alert. */
export const AlertPayloadSchema = Type.Object({
  schema: Type.Literal(ALERT_SCHEMA),
  id: Type.String(),
  rule: Type.String(),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  labels: StringMap,
  annotations: StringMap,
  startsAt: Type.String(),
  endsAt: Type.Optional(Type.String()),
  incidentId: Type.Optional(Type.String()),
  generatorURL: Type.Optional(Type.String()),
  counts: Type.Optional(CountsSchema),
  seq: Type.Integer({ minimum: 1 }),
});
export type AlertPayload = Static<typeof AlertPayloadSchema>;
