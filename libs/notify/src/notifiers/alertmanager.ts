// Alertmanager API v2: POST <url>/api/v2/alerts with a JSON array of postable alerts. Firing alerts carry
// endsAt = now + 3 x resendInterval (Alertmanager resolves an alert whose endsAt has passed, so a re-send must come
// before that; 3x tolerates two lost re-sends); resolved alerts carry their real endsAt.
import { type AlertmanagerReceiverConfig, durationMs } from '../config.ts';
import type { Notification } from '../payload.ts';
import { readSecret, redactUrl, type SecretSource } from '../secrets.ts';
import type { AttemptContext, Notifier } from './types.ts';

export const DEFAULT_RESEND_INTERVAL_MS = 60_000;

/** The postable alert of Alertmanager's OpenAPI (`postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

function isHttpUrl(s: string | undefined): s is string {
  if (!s) return false;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The alerts array posted for a notification. */
export function alertmanagerAlerts(n: Notification, now: Date, resendIntervalMs: number): PostableAlert[] {
  const firingEnd = new Date(now.getTime() + 3 * resendIntervalMs).toISOString();
  return n.alerts.map((a) => {
    const annotations = { ...a.annotations };
    if (a.incidentId !== undefined && annotations.incident_id === undefined && a.labels.incident_id === undefined) {
      annotations.incident_id = a.incidentId;
    }
    // Alertmanager rejects a whole post (400) where an alert ends before it starts. A cluster clock ahead of kec's
    // (or kube-sim's accelerated demo clock) can put startsAt after now + 3 x resendInterval: start no later than now.
    const startsAt = Date.parse(a.startsAt) > now.getTime() ? now.toISOString() : a.startsAt;
    const resolvedEnd = a.endsAt ?? now.toISOString();
    const out: PostableAlert = {
      // Alertmanager requires labels; alertname is required by convention.
      labels: { alertname: a.labels.alertname ?? n.commonLabels.alertname ?? 'KecAlert', ...a.labels },
      annotations,
      startsAt,
      endsAt:
        a.status === 'resolved' ? (Date.parse(resolvedEnd) < Date.parse(startsAt) ? startsAt : resolvedEnd) : firingEnd,
    };
    // generatorURL is `format: uri` in the OpenAPI: a relative or malformed link would make the whole post a 422.
    if (isHttpUrl(a.generatorURL)) out.generatorURL = a.generatorURL;
    return out;
  });
}

export function alertmanagerNotifier(cfg: AlertmanagerReceiverConfig, source: SecretSource = {}): Notifier {
  const url = `${cfg.url.replace(/\/+$/, '')}/api/v2/alerts`;
  const resendMs = cfg.resendInterval === undefined ? DEFAULT_RESEND_INTERVAL_MS : durationMs(cfg.resendInterval);
  const token = cfg.bearerToken ? readSecret(cfg.bearerToken, source) : undefined;
  return {
    name: cfg.name,
    type: 'alertmanager',
    describe: `alertmanager receiver ${cfg.name} (${redactUrl(url)})`,
    request(n: Notification, ctx: AttemptContext) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      return { url, headers, body: JSON.stringify(alertmanagerAlerts(n, ctx.now, resendMs)) };
    },
  };
}
