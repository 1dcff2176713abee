// The pure core of notifications: silences, inhibition, aggregation groups and Alertmanager's timers (group_wait,
// group_interval, repeat_interval). Given the alerts, the silences and a group's last notification, `planGroups` says
// which groups notify now and with what. No I/O; time is a parameter.

import { NOTIFICATION_SCHEMA, type Notification, type NotificationAlert } from '@kec/notify';
import { notificationAlert } from './evaluate.ts';
import type { CompiledInhibit } from './load.ts';
import { matchesAll } from './matchers.ts';
import { type CompiledRoute, groupKeyOf, groupLabelsOf, routeAlert } from './route.ts';
import type { AlertState, GroupState, Silence } from './schema.ts';
import { stableId } from './text.ts';

/** Silences in force at `now` that match the labels (an alert is silenced when any one matches). */
export function silencedBy(
  silences: readonly Silence[],
  labels: Readonly<Record<string, string>>,
  now: number,
): string[] {
  const out: string[] = [];
  for (const s of silences) {
    if (Date.parse(s.startsAt) > now || Date.parse(s.endsAt) <= now) continue;
    if (matchesAll(s.matchers, labels)) out.push(s.id);
  }
  return out;
}

export function silenceState(s: Silence, now: number): 'pending' | 'active' | 'expired' {
  if (Date.parse(s.endsAt) <= now) return 'expired';
  return Date.parse(s.startsAt) > now ? 'pending' : 'active';
}

/**
 * Alertmanager's inhibition: a target alert is muted while a firing source alert has the same values of `equal`
 * (a missing label equals an empty one). An alert matching both sides is not inhibited by alerts that also match
 * both sides. Returns the ids of the inhibited alerts.
 */
export function inhibited(rules: readonly CompiledInhibit[], alerts: readonly AlertState[]): Set<string> {
  const out = new Set<string>();
  if (rules.length === 0) return out;
  const firing = alerts.filter((a) => a.status === 'firing');
  for (const r of rules) {
    const sources = firing.filter((a) => matchesAll(r.source, a.labels));
    if (sources.length === 0) continue;
    const key = (a: AlertState) => r.equal.map((l) => a.labels[l] ?? '').join('\u0000');
    const byKey = new Map<string, AlertState[]>();
    for (const s of sources) {
      const k = key(s);
      const l = byKey.get(k);
      if (l) l.push(s);
      else byKey.set(k, [s]);
    }
    for (const t of alerts) {
      if (out.has(t.id) || !matchesAll(r.target, t.labels)) continue;
      const cands = byKey.get(key(t)) ?? [];
      const bothSides = matchesAll(r.source, t.labels);
      if (cands.some((s) => s.id !== t.id && !(bothSides && matchesAll(r.target, s.labels)))) out.add(t.id);
    }
  }
  return out;
}

export interface ReceiverTiming {
  /** Alertmanager receivers: firing alerts are re-sent at least this often (their endsAt is 3 x this ahead). */
  resendIntervalMs?: number | undefined;
}

/** One aggregation group as the alerts make it now. */
export interface GroupView {
  /** KV key id: stableId(receiver, groupKey). */
  kvId: string;
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  route: CompiledRoute;
  alerts: AlertState[];
}

/** Groups every routed alert (firing or resolved) into its groups, one per (route, group labels). */
export function groupAlerts(route: CompiledRoute, alerts: readonly AlertState[]): Map<string, GroupView> {
  const groups = new Map<string, GroupView>();
  for (const a of alerts) {
    if (a.status === 'inactive') continue;
    for (const r of routeAlert(route, a.labels)) {
      const groupLabels = groupLabelsOf(r, a.labels);
      const groupKey = groupKeyOf(r, groupLabels);
      const kvId = stableId(r.receiver, groupKey);
      let g = groups.get(kvId);
      if (!g) {
        g = { kvId, receiver: r.receiver, groupKey, groupLabels, route: r, alerts: [] };
        groups.set(kvId, g);
      }
      g.alerts.push(a);
    }
  }
  return groups;
}

const firingMark = (a: AlertState) => `f:${a.labels['severity'] ?? ''}`;

export type GroupDecision =
  | { kind: 'none' }
  /** A new group: create its record; the first notification is due at nextFlushAt (group_wait). */
  | { kind: 'create'; state: GroupState }
  | { kind: 'notify'; state: GroupState; notification: Notification }
  /** An idle group (nothing firing, nothing to resolve, quiet for idleMs): delete its record. */
  | { kind: 'delete' };

export interface PlanOptions {
  now: number;
  muted: ReadonlySet<string>;
  externalURL?: string | undefined;
  maxAlerts: number;
  receiver?: ReceiverTiming | undefined;
  /** A group record with nothing to say is deleted after this long (must outlive the outbox's duplicate window). */
  idleMs: number;
}

/**
 * Alertmanager's flush rule for one group. `prev` is its record (undefined: never seen).
 * - a group starts with its first unmuted firing alert; its first notification waits group_wait;
 * - then, at least group_interval after its last notification, it notifies when an alert started firing, changed
 *   severity, or resolved after having been notified as firing; otherwise when repeat_interval has passed since the
 *   last notification (and something still fires); Alertmanager receivers use min(repeat_interval, resendInterval);
 * - an alert that resolved before it was ever notified is never notified; muted alerts are left out.
 */
export function planGroup(g: GroupView | undefined, prev: GroupState | undefined, o: PlanOptions): GroupDecision {
  const now = o.now;
  const alerts = (g?.alerts ?? []).filter((a) => !o.muted.has(a.id));
  const firing = alerts.filter((a) => a.status === 'firing');
  if (!prev) {
    if (!g || firing.length === 0) return { kind: 'none' };
    return {
      kind: 'create',
      state: {
        kvId: g.kvId,
        key: g.groupKey,
        receiver: g.receiver,
        groupLabels: g.groupLabels,
        version: 0,
        firstAt: now,
        nextFlushAt: now + g.route.timing.groupWaitMs,
        lastNotifiedAt: 0,
        notified: {},
        publishedVersion: 0,
        updatedAt: now,
      },
    };
  }
  if (now < prev.nextFlushAt) return { kind: 'none' };
  const notified = prev.notified;
  const resolvedToSend = alerts.filter((a) => a.status === 'resolved' && notified[a.id]?.startsWith('f'));
  const changed = firing.some((a) => notified[a.id] !== firingMark(a)) || resolvedToSend.length > 0;
  if (!g) {
    // No alert routes here any more (deleted, or rules changed).
    if (now - prev.lastNotifiedAt >= o.idleMs && now - prev.firstAt >= o.idleMs) return { kind: 'delete' };
    return { kind: 'none' };
  }
  const interval = g.route.timing.groupIntervalMs;
  let repeat = g.route.timing.repeatIntervalMs;
  if (o.receiver?.resendIntervalMs) repeat = Math.min(repeat, o.receiver.resendIntervalMs);
  // repeat_interval is checked on every engine tick once nextFlushAt has passed (no rounding to group_interval).
  const repeatDue = firing.length > 0 && prev.lastNotifiedAt > 0 && now - prev.lastNotifiedAt >= repeat;
  if (!changed && !repeatDue) {
    if (firing.length === 0 && now - Math.max(prev.lastNotifiedAt, prev.firstAt) >= o.idleMs) return { kind: 'delete' };
    // Nothing to say: no write at all (a group costs a KV write only when it notifies).
    return { kind: 'none' };
  }
  const sent = [...firing, ...resolvedToSend].sort((a, b) => a.id.localeCompare(b.id));
  const version = prev.version + 1;
  const notification = buildNotification(g, sent, version, o, now);
  const nextNotified: Record<string, string> = {};
  for (const a of firing) nextNotified[a.id] = firingMark(a);
  return {
    kind: 'notify',
    notification,
    state: {
      ...prev,
      groupLabels: g.groupLabels,
      version,
      // The next notification waits a whole group_interval (at most one per interval and group).
      nextFlushAt: now + interval,
      lastNotifiedAt: now,
      notified: nextNotified,
      pending: notification,
      updatedAt: now,
    },
  };
}

function common(maps: readonly Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = { ...maps[0] };
  for (const m of maps.slice(1)) for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  return out;
}

export function buildNotification(
  g: GroupView,
  alerts: readonly AlertState[],
  version: number,
  o: Pick<PlanOptions, 'externalURL' | 'maxAlerts' | 'receiver'>,
  now: number,
): Notification {
  // Firing first (they matter most when truncated), then resolved.
  const ordered = [...alerts].sort((a, b) => (a.status === b.status ? 0 : a.status === 'firing' ? -1 : 1));
  const shown = o.maxAlerts > 0 ? ordered.slice(0, o.maxAlerts) : ordered;
  const resend = o.receiver?.resendIntervalMs;
  const items: NotificationAlert[] = shown.map((a) => {
    const n = notificationAlert(a);
    // Alertmanager resolves an alert whose endsAt has passed: while firing, keep it 3 resend intervals ahead.
    if (resend && n.status === 'firing') n.endsAt = new Date(now + 3 * resend).toISOString();
    return n;
  });
  return {
    schema: NOTIFICATION_SCHEMA,
    receiver: g.receiver,
    groupKey: g.groupKey,
    groupLabels: g.groupLabels,
    version,
    status: items.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    commonLabels: common(items.map((a) => a.labels)),
    commonAnnotations: common(items.map((a) => a.annotations)),
    ...(o.externalURL ? { externalURL: o.externalURL } : {}),
    truncatedAlerts: ordered.length - shown.length,
    alerts: items,
  };
}
