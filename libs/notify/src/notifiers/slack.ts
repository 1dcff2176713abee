// Slack incoming webhook: `{ text, blocks }` — a header (title), the fields severity/status/cluster/namespace, the
// root cause, the affected objects, details, and a button to kec. `text` is the notification and fallback text.
// Limits respected: header ≤ 150 characters, section text ≤ 3000, ≤ 50 blocks (Block Kit).
import type { SlackReceiverConfig } from '../config.ts';
import type { Notification } from '../payload.ts';
import { readSecret, redactUrl, type SecretSource } from '../secrets.ts';
import { compileTemplates, escapePlain, escapeSlack, truncate } from '../templates.ts';
import type { Notifier } from './types.ts';

/** Default Slack templates (Handlebars; values arrive escaped for mrkdwn, `title` is plain text). */
export const SLACK_TEMPLATES = {
  title: '[{{statusWord}}{{#if (eq status "firing")}}:{{firingCount}}{{/if}}] {{summary}}',
  text: '[{{statusWord}}] {{summary}}{{#if commonLabels.namespace}} ({{commonLabels.namespace}}){{/if}}',
  rootCause:
    '{{#if commonAnnotations.root_cause}}*Root cause:* {{commonAnnotations.root_cause}}' +
    '{{#if commonAnnotations.why}}\n{{commonAnnotations.why}}{{/if}}{{/if}}',
  affected:
    '{{#if commonAnnotations.affected}}*Affected:*\n{{#each (lines commonAnnotations.affected)}}• {{this}}\n{{/each}}' +
    '{{else}}*Affected:*\n{{#each alerts}}• {{#if labels.workload}}{{labels.workload}}{{else}}{{default annotations.summary labels.alertname}}{{/if}}' +
    '{{#if (eq status "resolved")}} (resolved){{/if}}\n{{/each}}{{/if}}' +
    '{{#if truncatedAlerts}}… and {{truncatedAlerts}} more{{/if}}',
  details:
    '{{#if commonAnnotations.description}}{{commonAnnotations.description}}{{/if}}' +
    '{{#each counts}}{{#if @first}}\n{{/if}}{{@key}}: *{{this}}*  {{/each}}',
} as const;

type SlackKey = keyof typeof SLACK_TEMPLATES;

const HEADER_MAX = 150;
const SECTION_MAX = 3000;

function isHttpUrl(s: string): boolean {
  return /^https?:\/\/[^\s]+$/.test(s) && s.length <= 3000;
}

export function slackNotifier(cfg: SlackReceiverConfig, source: SecretSource = {}): Notifier {
  const url = readSecret(cfg.url, source);
  const t = compileTemplates<SlackKey>(cfg.name, SLACK_TEMPLATES, cfg.templates, {
    title: escapePlain,
    text: escapeSlack,
    rootCause: escapeSlack,
    affected: escapeSlack,
    details: escapeSlack,
  });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_MAX) } });
  return {
    name: cfg.name,
    type: 'slack',
    describe: `slack receiver ${cfg.name} (${redactUrl(url)})`,
    request(n: Notification) {
      const blocks: unknown[] = [
        { type: 'header', text: { type: 'plain_text', text: truncate(t.title(n) || 'kec alert', HEADER_MAX) } },
      ];
      const fields: string[] = [];
      const severity = n.commonLabels.severity ?? n.alerts[0]?.labels.severity;
      if (severity) fields.push(`*Severity:*\n${escapeSlack(severity)}`);
      fields.push(`*Status:*\n${n.status}`);
      if (n.commonLabels.cluster) fields.push(`*Cluster:*\n${escapeSlack(n.commonLabels.cluster)}`);
      if (n.commonLabels.namespace) fields.push(`*Namespace:*\n${escapeSlack(n.commonLabels.namespace)}`);
      blocks.push({ type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: truncate(f, 2000) })) });
      for (const key of ['rootCause', 'affected', 'details'] as const) {
        const text = t[key](n);
        if (text !== '') blocks.push(section(text));
      }
      const link = n.alerts[0]?.generatorURL ?? n.externalURL;
      if (link && isHttpUrl(link)) {
        blocks.push({
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in kec' }, url: link }],
        });
      }
      const payload: Record<string, unknown> = { text: t.text(n) || 'kec alert', blocks };
      if (cfg.channel) payload.channel = cfg.channel;
      if (cfg.username) payload.username = cfg.username;
      return { url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) };
    },
  };
}
