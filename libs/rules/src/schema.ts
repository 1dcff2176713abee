// The rule file format `kec.rules/v1` (TypeBox; types derived from the schemas).
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

export const RULES_API_VERSION = 'kec.rules/v1';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export const CATEGORIES = [
  'scheduling',
  'image',
  'storage',
  'network',
  'node',
  'resources',
  'health',
  'lifecycle',
  'scaling',
  'config',
  'security',
  'policy',
  'other',
] as const;

const OneOrMany = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
]);

export const SeveritySchema = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('error'),
  Type.Literal('critical'),
]);
export const CategorySchema = Type.Union([
  Type.Literal('scheduling'),
  Type.Literal('image'),
  Type.Literal('storage'),
  Type.Literal('network'),
  Type.Literal('node'),
  Type.Literal('resources'),
  Type.Literal('health'),
  Type.Literal('lifecycle'),
  Type.Literal('scaling'),
  Type.Literal('config'),
  Type.Literal('security'),
  Type.Literal('policy'),
  Type.Literal('other'),
]);

export const MatchSchema = Type.Object(
  {
    /** Exact reason(s). */
    reason: Type.Optional(OneOrMany),
    /** Normal or Warning. */
    type: Type.Optional(OneOrMany),
    /** Kind(s) of the involved object. */
    kind: Type.Optional(OneOrMany),
    /** reportingController, or source.component when that is empty. */
    component: Type.Optional(OneOrMany),
    /** JavaScript regex tested against the message (the "(combined from similar events): " prefix removed). */
    message: Type.Optional(Type.String({ minLength: 1 })),
    /** Labels the involved object must carry (exact values; "*" = present). */
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

export const RuleSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]*$' }),
    description: Type.Optional(Type.String()),
    /** Higher first; rules of equal priority keep file order. Default 0. */
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    match: MatchSchema,
    severity: SeveritySchema,
    category: CategorySchema,
    actionable: Type.Boolean(),
    /** Regexes run on the message; their named groups become fields (exitCode, image, volume, node, probe, container...). */
    extract: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** open: may open an incident; join: joins an open one only; none: never part of an incident. Default: open for warning and above, join otherwise. */
    incident: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('join'), Type.Literal('none')])),
    /** Root-cause rank: among an incident's events the highest rank (then the earliest) is the root-cause candidate. Default 0. */
    rank: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    /** Cause-effect link: also look for an open incident of the event's node (evictions, NodeNotReady on pods). */
    linkNode: Type.Optional(Type.Boolean()),
    /** Why this event is a root cause, shown on incidents. */
    why: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RuleFileSchema = Type.Object(
  {
    apiVersion: Type.Literal(RULES_API_VERSION),
    /** Version of this rule set; stored on every classified event with the other files' versions. */
    version: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._+-]+$' }),
    rules: Type.Array(RuleSchema),
  },
  { additionalProperties: false },
);

export type Severity = Static<typeof SeveritySchema>;
export type Category = Static<typeof CategorySchema>;
export type RuleSpec = Static<typeof RuleSchema>;
export type RuleFile = Static<typeof RuleFileSchema>;
export type MatchSpec = Static<typeof MatchSchema>;

export const RuleFileValidator = Compile(RuleFileSchema);
