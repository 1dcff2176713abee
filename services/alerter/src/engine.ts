// The imperative shell around the pure core: inputs -> alert state (KV, compare-and-set) -> KEC_ALERTS; and a tick
// that resolves quiet alerts, plans every group and puts notifications in the outbox (KEC_NOTIFICATIONS).
//
// Outbox guarantee: a notification is first written into its group's KV record (`pending`, at version n, by a
// compare-and-set that exactly one replica wins), then published with msg-id `<receiver>/<groupKey>/<n>`, then marked
// published. A replica that dies between the two is replaced by any other replica's tick, which publishes the pending
// notification again; the stream's duplicate window drops the second copy. So no notification is lost or doubled.
import { type Bus, type Publisher, token, untoken } from '@kec/bus';
import { durationMs, type Notification, notificationMsgId, notificationSubject } from '@kec/notify';
import type { Logger } from 'pino';
import {
  applyIncident,
  applyOccurrences,
  applyPattern,
  type EvalContext,
  type EventFacts,
  eventFacts,
  eventGroup,
  eventSubjectCanMatch,
  expire,
  incidentAlertId,
  matchEvent,
  matchPattern,
  notificationAlert,
} from './evaluate.ts';
import { groupAlerts, inhibited, planGroup, silencedBy } from './groups.ts';
import type { EventIn, IncidentIn, PatternIn } from './inputs.ts';
import type { AlertsConfig, CompiledAlertRule } from './load.ts';
import type { AlerterMetrics } from './metrics.ts';
import {
  ALERT_SCHEMA,
  type AlertPayload,
  type AlertState,
  type EventRule,
  type GroupState,
  type PatternRule,
} from './schema.ts';
import type { AlertStore } from './store.ts';

export interface EngineOptions {
  bus: Bus;
  publisher: Publisher;
  store: AlertStore;
  config: AlertsConfig;
  ctx: EvalContext;
  maxAlerts: number;
  groupIdleMs: number;
  logger: Logger;
  metrics?: AlerterMetrics | undefined;
  clock?: () => number;
}

/** `<root>.alerts.<cluster>`: the public subject of alert transitions. */
export const alertsSubject = (root: string, cluster: string) => `${root}.alerts.${token(cluster)}`;

export function alertPayload(a: AlertState): AlertPayload {
  return { schema: ALERT_SCHEMA, rule: a.rule, seq: a.seq, ...notificationAlert(a) };
}

/** A pending notification older than this is published again by whichever replica ticks (its writer may be dead). */
const REPUBLISH_AFTER_MS = 5_000;

export class AlertEngine {
  readonly o: EngineOptions;
  readonly #now: () => number;
  readonly #bySource: Record<'incidents' | 'events' | 'patterns', CompiledAlertRule[]>;
  readonly #ruleById: Map<string, CompiledAlertRule>;
  /** The time this replica last saw each alert change (for the notification delay metric). */
  ticks = 0;
  lastTickAt = 0;

  constructor(o: EngineOptions) {
    this.o = o;
    this.#now = o.clock ?? Date.now;
    this.#bySource = { incidents: [], events: [], patterns: [] };
    for (const r of o.config.rules) this.#bySource[r.spec.source].push(r);
    this.#ruleById = new Map(o.config.rules.map((r) => [r.spec.id, r]));
  }

  rulesOf(source: 'incidents' | 'events' | 'patterns'): readonly CompiledAlertRule[] {
    return this.#bySource[source];
  }

  readonly #subjectWanted = new Map<string, boolean>();

  /**
   * Whether any events rule can match an event published on `subject`, decided from its tokens (cluster, kind, type,
   * reason) and remembered per subject: events no rule can match are acked without being parsed, which is most of
   * them (at 1,000 events/s, parsing and validating each one was most of the alerter's CPU).
   */
  eventSubjectWanted(subject: string): boolean {
    const known = this.#subjectWanted.get(subject);
    if (known !== undefined) return known;
    const prefix = `${this.o.bus.root}.events.`;
    const t = subject.startsWith(prefix) ? subject.slice(prefix.length).split('.') : [];
    let wanted = true; // a subject of another shape: parse it (and dead-letter it if it is not an event)
    if (t.length === 5) {
      try {
        const facts = {
          cluster: untoken(t[0] ?? ''),
          kind: untoken(t[2] ?? ''),
          type: untoken(t[3] ?? ''),
          reason: untoken(t[4] ?? ''),
        };
        wanted = this.#bySource.events.some((r) => eventSubjectCanMatch(r.spec as EventRule, facts));
      } catch {
        wanted = true;
      }
    }
    // Subjects are few (cluster x namespace x kind x type x reason); the bound keeps a pathological stream in check.
    if (this.#subjectWanted.size >= 50_000) this.#subjectWanted.clear();
    this.#subjectWanted.set(subject, wanted);
    return wanted;
  }

  async #transitioned(prev: AlertState | undefined, next: AlertState | 'delete' | undefined): Promise<void> {
    if (!next || next === 'delete' || next.seq === (prev?.seq ?? 0)) return;
    this.o.metrics?.transitions.add(1, { source: next.source, state: next.status });
    await this.#publishAlert(next);
  }

  async #publishAlert(a: AlertState): Promise<void> {
    if (a.published >= a.seq) return;
    await this.o.publisher.publish(alertsSubject(this.o.bus.root, a.labels['cluster'] ?? ''), alertPayload(a), {
      msgId: `${a.id}/${a.seq}`,
    });
    await this.o.store.update('a', a.id, (cur) =>
      cur && cur.seq >= a.seq && cur.published < a.seq ? { ...cur, published: a.seq } : undefined,
    );
  }

  async #apply(id: string, fn: (prev: AlertState | undefined) => AlertState | 'delete' | undefined): Promise<void> {
    let before: AlertState | undefined;
    const next = await this.o.store.update('a', id, (prev) => {
      before = prev;
      return fn(prev);
    });
    await this.#transitioned(before, next);
  }

  /** Incidents in stream order (one batch): each matching rule's alert follows the incident's newest version. */
  async handleIncidents(items: readonly IncidentIn[]): Promise<void> {
    const rules = this.#bySource.incidents;
    if (rules.length === 0) return;
    const now = this.#now();
    // Only the newest version per incident matters (versions are full states).
    const newest = new Map<string, IncidentIn>();
    for (const i of items) {
      const k = `${i.cluster}/${i.id}`;
      const had = newest.get(k);
      if (!had || had.version < i.version) newest.set(k, i);
    }
    const work: Promise<void>[] = [];
    for (const i of newest.values()) {
      for (const rule of rules) {
        const id = incidentAlertId(rule, i);
        work.push(this.#apply(id, (prev) => applyIncident(prev, rule, i, now, this.o.ctx)));
      }
    }
    await Promise.all(work);
  }

  /** Events of one batch: occurrences summed per (rule, identity), one compare-and-set per alert. */
  async handleEvents(items: readonly EventIn[]): Promise<void> {
    const rules = this.#bySource.events;
    if (rules.length === 0) return;
    const now = this.#now();
    const acc = new Map<
      string,
      {
        rule: CompiledAlertRule;
        group: { id: string; by: Record<string, string> };
        n: number;
        facts: EventFacts;
        message: string;
      }
    >();
    for (const e of items) {
      const n = e.occurrences ?? 1;
      if (n <= 0) continue;
      let facts: EventFacts | undefined;
      for (const rule of rules) {
        facts ??= eventFacts(e);
        if (!matchEvent(rule, e, facts)) continue;
        const group = eventGroup(rule, facts);
        const a = acc.get(group.id);
        if (a) {
          a.n += n;
          a.facts = facts;
          a.message = e.note ?? '';
        } else acc.set(group.id, { rule, group, n, facts, message: e.note ?? '' });
      }
    }
    await Promise.all(
      [...acc.values()].map((a) =>
        this.#apply(a.group.id, (prev) =>
          applyOccurrences(prev, a.rule, a.group, a.n, { facts: a.facts, message: a.message }, now),
        ),
      ),
    );
  }

  async handlePatterns(items: readonly PatternIn[]): Promise<void> {
    const rules = this.#bySource.patterns;
    if (rules.length === 0) return;
    const now = this.#now();
    for (const p of items) {
      for (const rule of rules) {
        if (!matchPattern(rule.spec as PatternRule, p)) continue;
        const { id } = applyPattern(undefined, rule, p, now);
        await this.#apply(id, (prev) => applyPattern(prev, rule, p, now).next);
      }
    }
  }

  /** Alerts muted now: silenced or inhibited. */
  muted(alerts: readonly AlertState[], now: number): Set<string> {
    const silences = this.o.store.values('s');
    const out = inhibited(this.o.config.inhibit, alerts);
    if (silences.length) for (const a of alerts) if (silencedBy(silences, a.labels, now).length) out.add(a.id);
    return out;
  }

  /**
   * One evaluation on this replica: time-based alert transitions, unpublished alert transitions, every group's
   * timers, and pending notifications whose publish may have been lost. Safe on every replica at once.
   */
  async tick(): Promise<void> {
    const t0 = performance.now();
    const now = this.#now();
    const store = this.o.store;
    // 1. time: quiet alerts resolve, empty counters and old resolved alerts go.
    for (const a of store.values('a')) {
      const rule = this.#ruleById.get(a.rule);
      const windowMs = rule?.windowMs ?? 0;
      if (expire(a, now, windowMs) === undefined) {
        if (a.published < a.seq && now - a.updatedAt > REPUBLISH_AFTER_MS) await this.#publishAlert(a);
        continue;
      }
      await this.#apply(a.id, (prev) => (prev ? expire(prev, now, windowMs) : undefined));
    }
    // 2. groups.
    const route = this.o.config.route;
    if (route) {
      const alerts = store.values('a');
      const muted = this.muted(alerts, now);
      const views = groupAlerts(route, alerts);
      const ids = new Set([...views.keys(), ...store.values('g').map((g) => g.kvId)]);
      for (const id of ids) await this.#planAndNotify(id, views.get(id), muted, now);
    }
    // 3. outbox: pending notifications not marked published (their writer died or its publish failed).
    for (const g of store.values('g')) {
      if (g.pending && g.publishedVersion < g.version && now - g.updatedAt > REPUBLISH_AFTER_MS) {
        await this.#publishNotification(g.kvId, g.pending);
      }
    }
    this.ticks++;
    this.lastTickAt = now;
    this.o.metrics?.tickDuration.record((performance.now() - t0) / 1000);
  }

  async #planAndNotify(
    kvId: string,
    view: ReturnType<typeof groupAlerts> extends Map<string, infer V> ? V | undefined : never,
    muted: ReadonlySet<string>,
    now: number,
  ): Promise<void> {
    const receiver = view ? this.o.config.receivers.get(view.receiver) : undefined;
    const resend = receiver?.type === 'alertmanager' ? durationMs(receiver.resendInterval ?? '1m') : undefined;
    const opts = {
      now,
      muted,
      externalURL: this.o.ctx.externalURL || undefined,
      maxAlerts: this.o.maxAlerts,
      receiver: { resendIntervalMs: resend },
      idleMs: this.o.groupIdleMs,
    };
    // Twice at most: a group created with group_wait 0 notifies in the same tick.
    for (let round = 0; round < 2; round++) {
      let notification: Notification | undefined;
      let created = false;
      const written = await this.o.store.update('g', kvId, (prev) => {
        notification = undefined;
        created = false;
        // A notification still pending (not yet published) goes out before a newer one is planned.
        if (prev?.pending && prev.publishedVersion < prev.version) return undefined;
        const d = planGroup(view, prev, opts);
        switch (d.kind) {
          case 'none':
            return undefined;
          case 'delete':
            return 'delete';
          case 'create':
            created = true;
            return { ...d.state, kvId };
          case 'notify':
            notification = d.notification;
            return d.state;
        }
      });
      if (written && written !== 'delete' && notification) {
        await this.#publishNotification(kvId, notification);
        this.o.metrics?.notifications.add(1, { receiver: notification.receiver, status: notification.status });
        if (view) {
          const newest = Math.max(...view.alerts.map((a) => a.updatedAt));
          this.o.metrics?.notificationLag.record(Math.max(0, (this.#now() - newest) / 1000));
        }
      }
      if (!created) return;
    }
  }

  async #publishNotification(kvId: string, n: Notification): Promise<void> {
    await this.o.publisher.publish(notificationSubject(this.o.bus.root, n.receiver), n, {
      msgId: notificationMsgId(n),
    });
    await this.o.store.update('g', kvId, (cur) =>
      cur && cur.version >= n.version && cur.publishedVersion < n.version
        ? withoutPending({ ...cur, publishedVersion: n.version }, cur.version === n.version)
        : undefined,
    );
  }
}

function withoutPending(g: GroupState, drop: boolean): GroupState {
  if (!drop) return g;
  const { pending: _pending, ...rest } = g;
  return rest;
}
