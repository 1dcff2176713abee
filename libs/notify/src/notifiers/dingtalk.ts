// DingTalk custom robot: `{ msgtype: text|markdown, text|markdown, at }`. With a signing secret (加签) the URL gets
// `timestamp` (ms) and `sign` = urlEncode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))). DingTalk answers
// HTTP 200 with `{"errcode":0,"errmsg":"ok"}`; any other errcode is a failure (throttling ones retryable).
import { createHmac } from 'node:crypto';
import type { DingtalkReceiverConfig } from '../config.ts';
import { DeliveryError } from '../errors.ts';
import type { HttpAnswer } from '../http.ts';
import type { Notification } from '../payload.ts';
import { readSecret, redactUrl, type SecretSource } from '../secrets.ts';
import { compileTemplates, escapeMarkdown, escapePlain, truncate } from '../templates.ts';
import type { AttemptContext, Notifier } from './types.ts';

export const DINGTALK_ENDPOINT = 'https://oapi.dingtalk.com/robot/send';

/** Default DingTalk templates (Handlebars; `markdown` gets values escaped for markdown). */
export const DINGTALK_TEMPLATES = {
  title: '[{{statusWord}}] {{summary}}',
  text:
    '[kec {{statusWord}}] {{summary}}\n' +
    '{{#if severity}}Severity: {{severity}}\n{{/if}}' +
    '{{#if commonLabels.cluster}}Cluster: {{commonLabels.cluster}}\n{{/if}}' +
    '{{#if commonLabels.namespace}}Namespace: {{commonLabels.namespace}}\n{{/if}}' +
    '{{#if commonAnnotations.root_cause}}Root cause: {{commonAnnotations.root_cause}}\n{{/if}}' +
    '{{#if commonAnnotations.affected}}Affected: {{join (lines commonAnnotations.affected) ", "}}\n{{/if}}' +
    '{{#each counts}}{{@key}}: {{this}}\n{{/each}}' +
    'Alerts: {{firingCount}} firing, {{resolvedCount}} resolved{{#if truncatedAlerts}} (+{{truncatedAlerts}} more){{/if}}\n' +
    '{{#if link}}{{link}}{{/if}}',
  markdown:
    '### [{{statusWord}}] {{summary}}\n\n' +
    '{{#if severity}}- **Severity:** {{severity}}\n{{/if}}' +
    '{{#if commonLabels.cluster}}- **Cluster:** {{commonLabels.cluster}}\n{{/if}}' +
    '{{#if commonLabels.namespace}}- **Namespace:** {{commonLabels.namespace}}\n{{/if}}' +
    '{{#if commonAnnotations.root_cause}}- **Root cause:** {{commonAnnotations.root_cause}}\n{{/if}}' +
    '{{#if commonAnnotations.affected}}- **Affected:** {{join (lines commonAnnotations.affected) ", "}}\n{{/if}}' +
    '{{#each counts}}- **{{@key}}:** {{this}}\n{{/each}}' +
    '- **Alerts:** {{firingCount}} firing, {{resolvedCount}} resolved{{#if truncatedAlerts}} (+{{truncatedAlerts}} more){{/if}}\n' +
    '{{#if link}}\n\n[Open in kec]({{link}}){{/if}}',
} as const;

type DingtalkKey = keyof typeof DINGTALK_TEMPLATES;

/** DingTalk errcodes that mean "later": system busy, too fast (20/min), quota. */
const RETRYABLE_ERRCODES = new Set([-1, 130101, 90030]);
/** DingTalk blocks a robot for 10 minutes after it exceeded 20 messages per minute. */
const THROTTLED_WAIT_MS = 60_000;
/** DingTalk's message size limit is ~20,000 bytes; stay below it. */
const CONTENT_MAX = 15_000;

/** The `sign` query value for a timestamp (ms) and a secret: base64(HMAC-SHA256(secret, `${ts}\n${secret}`)). */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** `url` with `timestamp` and `sign` (URL-encoded) added to its query. */
export function dingtalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', dingtalkSign(timestampMs, secret));
  return u.toString();
}

export function dingtalkNotifier(cfg: DingtalkReceiverConfig, source: SecretSource = {}): Notifier {
  let base: string;
  if (cfg.url) base = readSecret(cfg.url, source);
  else {
    const u = new URL(cfg.endpoint ?? DINGTALK_ENDPOINT);
    u.searchParams.set('access_token', readSecret(cfg.accessToken as NonNullable<typeof cfg.accessToken>, source));
    base = u.toString();
  }
  new URL(base); // fail at start on a malformed URL
  const secret = cfg.secret ? readSecret(cfg.secret, source) : undefined;
  const msgtype = cfg.msgtype ?? 'markdown';
  const t = compileTemplates<DingtalkKey>(cfg.name, DINGTALK_TEMPLATES, cfg.templates, {
    title: escapePlain,
    text: escapePlain,
    markdown: escapeMarkdown,
  });
  const atMobiles = cfg.atMobiles ?? [];
  const atUserIds = cfg.atUserIds ?? [];
  // DingTalk highlights a mention only when the content names it.
  const mentions = [...atMobiles, ...atUserIds].map((m) => `@${m}`).join(' ');
  const withMentions = (s: string) => truncate(s, CONTENT_MAX) + (mentions ? `\n\n${mentions}` : '');
  return {
    name: cfg.name,
    type: 'dingtalk',
    describe: `dingtalk receiver ${cfg.name} (${redactUrl(base)})`,
    request(n: Notification, ctx: AttemptContext) {
      const url = secret ? dingtalkSignedUrl(base, secret, ctx.now.getTime()) : base;
      const at = { atMobiles, atUserIds, isAtAll: cfg.isAtAll ?? false };
      const payload =
        msgtype === 'text'
          ? { msgtype, text: { content: withMentions(t.text(n)) }, at }
          : { msgtype, markdown: { title: truncate(t.title(n), 100), text: withMentions(t.markdown(n)) }, at };
      return { url, headers: { 'content-type': 'application/json;charset=utf-8' }, body: JSON.stringify(payload) };
    },
    check(answer: HttpAnswer) {
      let parsed: { errcode?: unknown; errmsg?: unknown };
      try {
        parsed = JSON.parse(answer.body) as typeof parsed;
      } catch {
        throw new DeliveryError(`dingtalk receiver ${cfg.name}: answer is not JSON`, {
          retryable: true,
          status: answer.status,
          responseBody: answer.body.slice(0, 512),
        });
      }
      const code = typeof parsed.errcode === 'number' ? parsed.errcode : Number(parsed.errcode);
      if (code === 0) return;
      const retryable = RETRYABLE_ERRCODES.has(code);
      throw new DeliveryError(`dingtalk receiver ${cfg.name}: errcode ${code}: ${String(parsed.errmsg ?? '')}`, {
        retryable,
        status: answer.status,
        ...(code === 130101 || code === 90030 ? { retryAfterMs: THROTTLED_WAIT_MS } : {}),
        responseBody: answer.body.slice(0, 512),
      });
    },
  };
}
