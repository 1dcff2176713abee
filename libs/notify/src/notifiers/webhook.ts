// Generic webhook carrying the notification as a CloudEvents 1.0 event over HTTP, structured
// (`application/cloudevents+json`, the whole event in the body) or binary (attributes as `ce-*` headers, the
// notification as the body). Optionally signed: `<signatureHeader>: sha256=<hex HMAC-SHA256(secret, body)>`.
import { createHmac } from 'node:crypto';
import type { WebhookReceiverConfig } from '../config.ts';
import type { Notification } from '../payload.ts';
import { readSecret, redactUrl, type SecretSource } from '../secrets.ts';
import type { AttemptContext, Notifier } from './types.ts';

export const DEFAULT_CLOUDEVENTS_SOURCE = '/kec/alerter';
export const DEFAULT_SIGNATURE_HEADER = 'X-Kec-Signature';

/** The CloudEvents context attributes kec sets. */
export interface CloudEventAttributes {
  specversion: '1.0';
  /** The notification's msg id: unique per (source, notification), the same on every retry. */
  id: string;
  source: string;
  /** `io.kec.alert.firing` or `io.kec.alert.resolved`. */
  type: string;
  /** The group key of the notification. */
  subject: string;
  time: string;
  datacontenttype: 'application/json';
}

export function cloudEventAttributes(n: Notification, ctx: AttemptContext, source: string): CloudEventAttributes {
  return {
    specversion: '1.0',
    id: ctx.id,
    source,
    type: `io.kec.alert.${n.status}`,
    subject: n.groupKey,
    time: ctx.now.toISOString(),
    datacontenttype: 'application/json',
  };
}

/**
 * A header value as the CloudEvents HTTP binding wants it (3.1.3.2): space, `"`, `%` and everything outside printable
 * ASCII percent-encoded as UTF-8.
 */
export function ceHeaderValue(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c > 0x20 && c < 0x7f && ch !== '"' && ch !== '%') out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookNotifier(cfg: WebhookReceiverConfig, source: SecretSource = {}): Notifier {
  const url = typeof cfg.url === 'string' ? cfg.url : readSecret(cfg.url, source);
  const secret = cfg.hmacSecret ? readSecret(cfg.hmacSecret, source) : undefined;
  const ceSource = cfg.source ?? DEFAULT_CLOUDEVENTS_SOURCE;
  const mode = cfg.mode ?? 'structured';
  const sigHeader = cfg.signatureHeader ?? DEFAULT_SIGNATURE_HEADER;
  return {
    name: cfg.name,
    type: 'webhook',
    describe: `webhook receiver ${cfg.name} (${redactUrl(url)})`,
    request(n: Notification, ctx: AttemptContext) {
      const attrs = cloudEventAttributes(n, ctx, ceSource);
      const headers: Record<string, string> = { ...cfg.headers };
      let body: string;
      if (mode === 'structured') {
        headers['content-type'] = 'application/cloudevents+json; charset=utf-8';
        body = JSON.stringify({ ...attrs, data: n });
      } else {
        const { datacontenttype, ...rest } = attrs;
        headers['content-type'] = datacontenttype;
        for (const [k, v] of Object.entries(rest)) headers[`ce-${k}`] = ceHeaderValue(v);
        body = JSON.stringify(n);
      }
      if (secret) headers[sigHeader] = webhookSignature(secret, body);
      return { url, headers, body };
    },
  };
}
