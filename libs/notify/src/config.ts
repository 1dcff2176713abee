// Receiver configuration (`receivers:` of the alerter's config): a TypeBox union discriminated by `type`.
// Secrets (webhook URLs with tokens, signing keys) are never written inline: each is read from a file or an
// environment variable (`{ file: PATH }` or `{ env: NAME }`) and never logged.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { RECEIVER_NAME_PATTERN } from './payload.ts';

/** A duration: milliseconds as a number, or a string such as `500ms`, `30s`, `5m`, `1h`, `1m30s`. */
export const DurationSchema = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^([0-9]+(ms|s|m|h))+$' }),
]);

/** Where a secret comes from: a file (its content, trailing newline removed) or an environment variable. */
export const SecretRefSchema = Type.Union([
  Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

export const RateLimitSchema = Type.Object(
  {
    /** At most `messages` sends in any window of `per` (a sliding window: requests queue, nothing is dropped). */
    messages: Type.Integer({ minimum: 1 }),
    per: DurationSchema,
  },
  { additionalProperties: false },
);

export const RetrySchema = Type.Object(
  {
    /** First wait after a failed attempt (default 1s); doubles per attempt, ±20 % jitter. */
    initialBackoff: Type.Optional(DurationSchema),
    /** Cap of the wait (default 1m). */
    maxBackoff: Type.Optional(DurationSchema),
  },
  { additionalProperties: false },
);

/** Handlebars templates overriding the defaults; the keys a notifier reads are listed in its section. */
export const TemplatesSchema = Type.Record(Type.String(), Type.String());

const common = {
  name: Type.String({ pattern: RECEIVER_NAME_PATTERN }),
  /** Per-request timeout (default 10s). */
  timeout: Type.Optional(DurationSchema),
  rateLimit: Type.Optional(RateLimitSchema),
  retry: Type.Optional(RetrySchema),
  /** Requests in flight at once to this receiver (default 4; Slack and DingTalk default 1). */
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /** Send notifications whose status is resolved (default true). */
  sendResolved: Type.Optional(Type.Boolean()),
};

export const AlertmanagerReceiverSchema = Type.Object(
  {
    type: Type.Literal('alertmanager'),
    ...common,
    /** Alertmanager base URL, e.g. http://alertmanager:9093 (the sender posts to `<url>/api/v2/alerts`). */
    url: Type.String({ minLength: 1 }),
    /** Firing alerts get `endsAt = now + 3 x resendInterval` (default 1m), so Alertmanager keeps them active between re-sends. */
    resendInterval: Type.Optional(DurationSchema),
    /** Optional HTTP basic auth password or bearer token. */
    bearerToken: Type.Optional(SecretRefSchema),
  },
  { additionalProperties: false },
);

export const WebhookReceiverSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    ...common,
    url: Type.Union([Type.String({ minLength: 1 }), SecretRefSchema]),
    /** CloudEvents HTTP binding mode (default structured). */
    mode: Type.Optional(Type.Union([Type.Literal('structured'), Type.Literal('binary')])),
    /** CloudEvents `source` (default `/kec/alerter`). */
    source: Type.Optional(Type.String({ minLength: 1 })),
    /** When set, the body is signed: header `X-Kec-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. */
    hmacSecret: Type.Optional(SecretRefSchema),
    /** Name of the signature header (default X-Kec-Signature). */
    signatureHeader: Type.Optional(Type.String({ minLength: 1 })),
    /** Extra request headers (not secrets). */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

export const SlackReceiverSchema = Type.Object(
  {
    type: Type.Literal('slack'),
    ...common,
    /** The incoming-webhook URL (it carries the token, so it is a secret). */
    url: SecretRefSchema,
    channel: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    templates: Type.Optional(TemplatesSchema),
  },
  { additionalProperties: false },
);

export const DingtalkReceiverSchema = Type.Object(
  {
    type: Type.Literal('dingtalk'),
    ...common,
    /** The robot webhook URL with its access_token (a secret); or give `accessToken` (and `endpoint`). */
    url: Type.Optional(SecretRefSchema),
    accessToken: Type.Optional(SecretRefSchema),
    /** Robot endpoint used with `accessToken` (default https://oapi.dingtalk.com/robot/send). */
    endpoint: Type.Optional(Type.String({ minLength: 1 })),
    /** The robot's signing secret (加签, `SEC...`): adds `timestamp` and `sign` to the URL. */
    secret: Type.Optional(SecretRefSchema),
    msgtype: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('markdown')])),
    atMobiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    atUserIds: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    isAtAll: Type.Optional(Type.Boolean()),
    templates: Type.Optional(TemplatesSchema),
  },
  { additionalProperties: false },
);

export const ReceiverConfigSchema = Type.Union([
  AlertmanagerReceiverSchema,
  WebhookReceiverSchema,
  SlackReceiverSchema,
  DingtalkReceiverSchema,
]);

export type Duration = Static<typeof DurationSchema>;
export type SecretRef = Static<typeof SecretRefSchema>;
export type RateLimit = Static<typeof RateLimitSchema>;
export type RetryConfig = Static<typeof RetrySchema>;
export type AlertmanagerReceiverConfig = Static<typeof AlertmanagerReceiverSchema>;
export type WebhookReceiverConfig = Static<typeof WebhookReceiverSchema>;
export type SlackReceiverConfig = Static<typeof SlackReceiverSchema>;
export type DingtalkReceiverConfig = Static<typeof DingtalkReceiverSchema>;
export type ReceiverConfig = Static<typeof ReceiverConfigSchema>;
export type ReceiverType = ReceiverConfig['type'];

/** Per-type defaults for the rate limit and concurrency. */
export const RECEIVER_DEFAULTS: Record<ReceiverType, { rateLimit?: RateLimit; concurrency: number }> = {
  alertmanager: { concurrency: 4 },
  webhook: { concurrency: 4 },
  // Slack: "1 per second; short bursts >1 allowed" for incoming webhooks.
  slack: { rateLimit: { messages: 1, per: '1s' }, concurrency: 1 },
  // DingTalk: 20 messages per minute per robot, exceeding it blocks the robot for 10 minutes.
  dingtalk: { rateLimit: { messages: 20, per: '1m' }, concurrency: 1 },
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Duration. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  let ms = 0;
  for (const m of d.matchAll(/([0-9]+)(ms|s|m|h)/g)) ms += Number(m[1]) * (UNITS[m[2] as string] as number);
  return ms;
}

const checkReceiver = Compile(ReceiverConfigSchema);
const bySchema = {
  alertmanager: Compile(AlertmanagerReceiverSchema),
  webhook: Compile(WebhookReceiverSchema),
  slack: Compile(SlackReceiverSchema),
  dingtalk: Compile(DingtalkReceiverSchema),
} as const;

/** One problem of a receiver config: a JSON pointer within the receiver and a message. */
export interface ReceiverConfigProblem {
  path: string;
  message: string;
}

/**
 * Problems of one receiver config (schema, then the rules a schema cannot say); empty when it is valid. Errors of
 * a union are reported against the member named by `type`, so they name the real key.
 */
export function receiverConfigProblems(value: unknown): ReceiverConfigProblem[] {
  if (!checkReceiver.Check(value)) {
    const type = (value as { type?: unknown } | null)?.type;
    const c = typeof type === 'string' && type in bySchema ? bySchema[type as ReceiverType] : undefined;
    if (!c) {
      return [{ path: '/type', message: `must be one of ${Object.keys(bySchema).join(', ')}` }];
    }
    return [...c.Errors(value)].slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message }));
  }
  const r = value as ReceiverConfig;
  const out: ReceiverConfigProblem[] = [];
  if (r.type === 'dingtalk' && (r.url === undefined) === (r.accessToken === undefined)) {
    out.push({ path: '/url', message: 'give exactly one of url or accessToken' });
  }
  if (r.type === 'alertmanager' && !/^https?:\/\//.test(r.url)) {
    out.push({ path: '/url', message: 'must be an http(s) URL' });
  }
  return out;
}
