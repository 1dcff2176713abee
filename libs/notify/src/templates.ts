// Message texts from Handlebars templates with safe defaults. Values are escaped for the target format before
// rendering (the template's own text is the author's and stays as written), and templates run with noEscape, so
// `{{x}}` inserts the value escaped for Slack mrkdwn, DingTalk markdown or plain text, never HTML entities.
// Every template is compiled and tried on a sample notification when a receiver is created, so a bad template is
// a config error at start, not a failed notification.
import Handlebars from 'handlebars';
import { ReceiverConfigError } from './errors.ts';
import type { Notification, NotificationAlert } from './payload.ts';

export type Escaper = (s: string) => string;

/** Slack mrkdwn: `&`, `<` and `>` are control characters (https://docs.slack.dev/messaging/formatting-message-text). */
export const escapeSlack: Escaper = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Markdown (DingTalk): backslash before the characters that start emphasis, links, headings, code or HTML. */
export const escapeMarkdown: Escaper = (s) => s.replace(/[\\`*_[\]()#<>|~]/g, (c) => `\\${c}`);

/** Plain text: nothing to escape (the text is placed in JSON by JSON.stringify). */
export const escapePlain: Escaper = (s) => s;

const SEVERITY_ORDER = ['info', 'warning', 'error', 'critical'];

/** What a template sees (every string escaped for the target format). */
export interface TemplateContext {
  receiver: string;
  status: 'firing' | 'resolved';
  /** `FIRING` or `RESOLVED`. */
  statusWord: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  truncatedAlerts: number;
  alerts: NotificationAlert[];
  firing: NotificationAlert[];
  resolved: NotificationAlert[];
  firingCount: number;
  resolvedCount: number;
  /** commonLabels.severity, else the highest severity label among the alerts, else ''. */
  severity: string;
  /** commonAnnotations.summary, else the first alert's summary, else the alertname. */
  summary: string;
  /**
   * The first alert's generatorURL, else externalURL, else '': only http(s) URLs, not escaped as text but with the
   * characters that would end a markdown or Slack link (space, `(`, `)`, `<`, `>`, `|`, `"`, backslash) percent-encoded.
   */
  link: string;
  /** Counts summed over the alerts (e.g. occurrences). */
  counts: Record<string, number>;
}

function highestSeverity(n: Notification): string {
  let best = -2;
  let name = '';
  for (const a of n.alerts) {
    const s = a.labels.severity;
    if (s === undefined) continue;
    const i = SEVERITY_ORDER.indexOf(s); // unknown severities rank below info
    if (i > best) {
      best = i;
      name = s;
    }
  }
  return name;
}

/** An http(s) URL safe inside a markdown or Slack link; '' for anything else. */
export function safeUrl(url: string): string {
  if (!/^https?:\/\//i.test(url)) return '';
  return url.replace(/[\s()<>|"\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function escapeDeep<T>(v: T, esc: Escaper): T {
  if (typeof v === 'string') return esc(v) as T;
  if (Array.isArray(v)) return v.map((x) => escapeDeep(x, esc)) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = escapeDeep(x, esc);
    return out as T;
  }
  return v;
}

/** The template context of a notification, strings escaped with `esc`. */
export function templateContext(n: Notification, esc: Escaper): TemplateContext {
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const resolved = n.alerts.filter((a) => a.status === 'resolved');
  const counts: Record<string, number> = {};
  for (const a of n.alerts) for (const [k, v] of Object.entries(a.counts ?? {})) counts[k] = (counts[k] ?? 0) + v;
  const first = n.alerts[0];
  const ctx: TemplateContext = {
    receiver: n.receiver,
    status: n.status,
    statusWord: n.status === 'firing' ? 'FIRING' : 'RESOLVED',
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalURL ?? '',
    truncatedAlerts: n.truncatedAlerts,
    alerts: n.alerts,
    firing,
    resolved,
    firingCount: firing.length,
    resolvedCount: resolved.length,
    severity: n.commonLabels.severity ?? highestSeverity(n),
    summary: n.commonAnnotations.summary ?? first?.annotations.summary ?? n.commonLabels.alertname ?? n.groupKey,
    link: '',
    counts,
  };
  const out = escapeDeep(ctx, esc);
  out.link = safeUrl(first?.generatorURL ?? n.externalURL ?? '');
  return out;
}

function newEnv(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('join', (list: unknown, sep: unknown) =>
    Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : '',
  );
  hb.registerHelper('default', (v: unknown, d: unknown) => (v === undefined || v === null || v === '' ? d : v));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('upper', (s: unknown) => String(s ?? '').toUpperCase());
  hb.registerHelper('lower', (s: unknown) => String(s ?? '').toLowerCase());
  hb.registerHelper('truncate', (s: unknown, n: unknown) => truncate(String(s ?? ''), typeof n === 'number' ? n : 80));
  // Lines of an annotation written as a newline-separated list (e.g. `affected`).
  hb.registerHelper('lines', (s: unknown) =>
    String(s ?? '')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );
  return hb;
}

/** `s` cut to at most `max` characters, ending with `…` when cut. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

export type Render = (n: Notification) => string;

/** A sample notification on which templates are tried at start. */
export const SAMPLE_NOTIFICATION: Notification = {
  schema: 'kec.notification/v1',
  receiver: 'sample',
  groupKey: '{}:{alertname="KecIncident", namespace="shop"}',
  groupLabels: { alertname: 'KecIncident', namespace: 'shop' },
  version: 1,
  status: 'firing',
  commonLabels: { alertname: 'KecIncident', cluster: 'prod-1', namespace: 'shop', severity: 'error' },
  commonAnnotations: {
    summary: 'BackOff x5 on Pod shop/web-1',
    root_cause: 'ImagePullBackOff',
    affected: 'Pod shop/web-1',
  },
  externalURL: 'https://kec.example',
  truncatedAlerts: 0,
  alerts: [
    {
      id: 'sample',
      status: 'firing',
      labels: { alertname: 'KecIncident', namespace: 'shop', severity: 'error' },
      annotations: { summary: 'BackOff x5 on Pod shop/web-1' },
      startsAt: '2026-12-07T13:16:00Z',
      generatorURL: 'https://kec.example/incidents/inc-1',
      counts: { occurrences: 5 },
    },
  ],
};

/**
 * Compiles the templates of one receiver: `defaults` overridden by the user's `overrides` (keys must be known), each
 * rendered with values escaped by `escapers[key]` (default plain). Throws ReceiverConfigError naming the key.
 */
export function compileTemplates<K extends string>(
  receiver: string,
  defaults: Record<K, string>,
  overrides: Record<string, string> | undefined,
  escapers: Partial<Record<K, Escaper>>,
): Record<K, Render> {
  const hb = newEnv();
  for (const key of Object.keys(overrides ?? {})) {
    if (!(key in defaults)) {
      throw new ReceiverConfigError(
        `receiver ${receiver}: unknown template ${JSON.stringify(key)} (known: ${Object.keys(defaults).join(', ')})`,
        { receiver, path: `/templates/${key}` },
      );
    }
  }
  const out = {} as Record<K, Render>;
  for (const key of Object.keys(defaults) as K[]) {
    const source = overrides?.[key] ?? defaults[key];
    const esc = escapers[key] ?? escapePlain;
    let fn: ReturnType<typeof hb.compile>;
    try {
      fn = hb.compile(source, { noEscape: true, strict: false });
      fn(templateContext(SAMPLE_NOTIFICATION, esc)); // Handlebars compiles lazily: force it (and a first run) now.
    } catch (cause) {
      const msg = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
      throw new ReceiverConfigError(`receiver ${receiver}: template ${key}: ${msg}`, {
        cause,
        receiver,
        path: `/templates/${key}`,
      });
    }
    out[key] = (n) => fn(templateContext(n, esc)).trim();
  }
  return out;
}
