// The pure core of alert rules: which rules an incident, an event or a pattern matches, the alert's identity and
// labels, and the state transitions (inactive -> firing -> resolved). No I/O; time is a parameter.
import type { NotificationAlert } from '@kec/notify';
import { type EventIn, type IncidentIn, objectName, type PatternIn } from './inputs.ts';
import type { CompiledAlertRule } from './load.ts';
import type { AlertState, EventRule, IncidentMatch, IncidentRule, PatternRule, Severity } from './schema.ts';
import { SEVERITIES } from './schema.ts';
import { renderTemplate, stableId } from './text.ts';

export interface EvalContext {
  /** Base URL of kec's UI/API; generatorURL = `<externalURL>/incidents/<id>` (omitted when empty). */
  externalURL: string;
}

const rank = (s: string) => SEVERITIES.indexOf(s as Severity);
const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];
const isIn = (v: string | string[] | undefined, x: string): boolean => {
  const l = list(v);
  return l === undefined || l.includes(x);
};
/** A workload matcher value is `Kind/name` or just `name`. */
const workloadIn = (v: string | string[] | undefined, w: string): boolean => {
  const l = list(v);
  if (l === undefined) return true;
  const name = w.includes('/') ? w.slice(w.indexOf('/') + 1) : w;
  return l.some((x) => x === w || x === name);
};

// <deployment>-<pod-template-hash>-<5>, in Kubernetes' vowel-less alphabet (as the correlator derives it).
const POD_OF_DEPLOYMENT = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

function workloadOfObject(kind: string, name: string): string {
  if (kind === 'Pod') {
    const m = POD_OF_DEPLOYMENT.exec(name);
    if (m?.[1]) return `Deployment/${m[1]}`;
  }
  return `${kind}/${name}`;
}

function splitObject(o: string): { kind: string; namespace: string; name: string } {
  const [kind = '', namespace = '', ...rest] = o.split('/');
  return { kind, namespace, name: rest.join('/') };
}

function finish(
  rule: CompiledAlertRule,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  data: Record<string, unknown>,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const scope = { ...data, labels, rule: rule.spec.id };
  for (const [k, v] of Object.entries(rule.spec.labels ?? {})) labels[k] = renderTemplate(v, scope);
  for (const [k, v] of Object.entries(rule.spec.annotations ?? {}))
    annotations[k] = renderTemplate(v, { ...scope, labels });
  for (const k of Object.keys(labels)) if (labels[k] === '') delete labels[k];
  return { labels, annotations };
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------------------------
// incidents

export function matchIncident(rule: IncidentRule, i: IncidentIn): boolean {
  return incidentHolds(rule.match ?? {}, i) && !(rule.unless && incidentHolds(rule.unless, i));
}

function incidentHolds(m: IncidentMatch, i: IncidentIn): boolean {
  if (m.severity && rank(i.severity) < rank(m.severity)) return false;
  if (!isIn(m.cluster, i.cluster) || !isIn(m.namespace, i.namespace) || !isIn(m.category, i.category)) return false;
  if (m.state && m.state !== i.state) return false;
  const root = i.rootCause ? splitObject(objectName(i.rootCause.object)) : undefined;
  if (m.reason && !isIn(m.reason, i.rootCause?.reason ?? '')) return false;
  if (m.kind && !isIn(m.kind, root?.kind ?? '')) return false;
  if (m.workload) {
    const ws = [root, ...i.affected.map((a) => splitObject(objectName(a)))]
      .filter((o) => o !== undefined)
      .map((o) => workloadOfObject(o.kind, o.name));
    if (!ws.some((w) => workloadIn(m.workload, w))) return false;
  }
  return true;
}

export function incidentAlertId(rule: CompiledAlertRule, i: IncidentIn): string {
  return stableId(rule.spec.id, i.cluster, i.id);
}

function incidentLabels(rule: CompiledAlertRule, i: IncidentIn, ctx: EvalContext) {
  const rootObj = i.rootCause ? objectName(i.rootCause.object) : '';
  const root = rootObj ? splitObject(rootObj) : undefined;
  const labels: Record<string, string> = {
    alertname: rule.alertname,
    rule: rule.spec.id,
    cluster: i.cluster,
    namespace: i.namespace,
    severity: rule.spec.severity ?? i.severity,
    category: i.category,
    reason: i.rootCause?.reason ?? '',
    kind: root?.kind ?? '',
    object: rootObj,
    workload: root && root.kind !== 'Node' ? workloadOfObject(root.kind, root.name) : '',
    node: root?.kind === 'Node' ? root.name : '',
    incident_id: i.id,
  };
  const affected = i.affected.map(objectName);
  // One object a line: @kec/notify's templates list `affected` by lines (Slack bullets, DingTalk joins them).
  const shown = [...affected.slice(0, 10), ...(affected.length > 10 ? [`+${affected.length - 10} more`] : [])].join(
    '\n',
  );
  const counts = { events: i.eventCount, occurrences: i.occurrenceCount, affected: affected.length };
  const generatorURL = ctx.externalURL
    ? `${ctx.externalURL.replace(/\/$/, '')}/incidents/${encodeURIComponent(i.id)}`
    : '';
  const annotations: Record<string, string> = {
    summary: i.title,
    description:
      `${i.severity} ${i.category} incident in ${i.namespace || 'the cluster'} (${i.cluster}): ${i.title}. ` +
      `${i.eventCount} events, ${i.occurrenceCount} occurrences, first ${i.firstSeen}, last ${i.lastSeen}.`,
    root_cause: i.rootCause ? `${i.rootCause.reason} on ${rootObj}` : '',
    why: i.rootCause?.why ?? '',
    affected: shown,
    counts: `${i.eventCount} events, ${i.occurrenceCount} occurrences, ${affected.length} objects`,
  };
  if (generatorURL) annotations['link'] = generatorURL;
  const out = finish(rule, labels, annotations, { incident: i, counts, externalURL: ctx.externalURL });
  for (const k of Object.keys(out.annotations)) if (out.annotations[k] === '') delete out.annotations[k];
  return { ...out, counts, generatorURL };
}

/**
 * The next state of an incident rule's alert for this incident version, or undefined when nothing changes (an older
 * version, a resolution of an alert that never fired, an incident below the rule's threshold).
 */
export function applyIncident(
  prev: AlertState | undefined,
  rule: CompiledAlertRule,
  i: IncidentIn,
  now: number,
  ctx: EvalContext,
): AlertState | undefined {
  if (prev?.incidentVersion !== undefined && prev.incidentVersion >= i.version) return undefined;
  const matched = matchIncident(rule.spec as IncidentRule, i);
  if (!matched) return undefined;
  const { labels, annotations, counts, generatorURL } = incidentLabels(rule, i, ctx);
  const base: AlertState = {
    id: incidentAlertId(rule, i),
    rule: rule.spec.id,
    source: 'incidents',
    status: prev?.status ?? 'inactive',
    labels,
    annotations,
    activeAt: now,
    incidentId: i.id,
    incidentVersion: i.version,
    counts,
    seq: prev?.seq ?? 0,
    published: prev?.published ?? 0,
    updatedAt: now,
    ...(prev?.startsAt ? { startsAt: prev.startsAt } : {}),
    ...(generatorURL ? { generatorURL } : {}),
  };
  if (i.state === 'open') {
    if (prev?.status === 'firing') return base;
    return { ...base, status: 'firing', startsAt: iso(Date.parse(i.firstSeen) || now), seq: base.seq + 1 };
  }
  // resolved
  if (prev?.status !== 'firing') return prev ? base : undefined;
  return { ...base, status: 'resolved', endsAt: iso(now), seq: base.seq + 1 };
}

// ---------------------------------------------------------------------------------------------------------------
// events

export interface EventFacts {
  cluster: string;
  namespace: string;
  workload: string;
  kind: string;
  object: string;
  node: string;
  reason: string;
  type: string;
  severity: string;
  category: string;
  fingerprint: string;
}

export function eventFacts(e: EventIn): EventFacts {
  const r = e.regarding;
  const ns = r.namespace ?? e.namespace;
  const w = e.enrichment?.workload;
  return {
    cluster: e.cluster,
    namespace: ns,
    workload: w ? `${w.kind}/${w.name}` : workloadOfObject(r.kind, r.name),
    kind: r.kind,
    object: `${r.kind}/${ns}/${r.name}`,
    node: e.enrichment?.node?.name ?? (r.kind === 'Node' ? r.name : ''),
    reason: e.reason,
    type: e.type,
    severity: e.classification?.severity ?? 'info',
    category: e.classification?.category ?? 'other',
    fingerprint: e.fingerprint?.id ?? '',
  };
}

export function matchEvent(rule: CompiledAlertRule, e: EventIn, f: EventFacts): boolean {
  const m = (rule.spec as EventRule).match ?? {};
  if (m.severity && rank(f.severity) < rank(m.severity)) return false;
  if (!isIn(m.reason, f.reason) || !isIn(m.type, f.type) || !isIn(m.kind, f.kind)) return false;
  if (!isIn(m.category, f.category) || !isIn(m.namespace, f.namespace) || !isIn(m.cluster, f.cluster)) return false;
  if (!isIn(m.node, f.node) || !workloadIn(m.workload, f.workload)) return false;
  if (m.labels) {
    const have = e.enrichment?.object?.labels ?? {};
    for (const [k, v] of Object.entries(m.labels)) if (have[k] !== v) return false;
  }
  if (rule.message && !rule.message.test(e.note ?? '')) return false;
  return true;
}

/** What an event's subject (`<root>.events.<cluster>.<ns>.<kind>.<type>.<reason>`) says, decoded. */
export interface EventSubjectFacts {
  cluster: string;
  kind: string;
  type: string;
  reason: string;
}

/**
 * Whether an events rule can match an event, from its subject alone (no parse): false only when the cluster, the
 * kind, the type or the reason rules it out. The correlator writes `Unknown` for an empty kind, type or reason, so
 * that value decides nothing.
 */
export function eventSubjectCanMatch(rule: EventRule, t: EventSubjectFacts): boolean {
  const m = rule.match ?? {};
  const may = (v: string | string[] | undefined, x: string) => x === 'Unknown' || isIn(v, x);
  return isIn(m.cluster, t.cluster) && may(m.kind, t.kind) && may(m.type, t.type) && may(m.reason, t.reason);
}

export const DEFAULT_EVENT_BY = ['namespace', 'workload', 'reason'] as const;

/** The alert identity of an events rule for an event: the rule and the values of its `by` labels. */
export function eventGroup(rule: CompiledAlertRule, f: EventFacts): { id: string; by: Record<string, string> } {
  const by: Record<string, string> = { cluster: f.cluster };
  for (const k of (rule.spec as EventRule).threshold.by ?? DEFAULT_EVENT_BY) by[k] = f[k];
  return { id: stableId(rule.spec.id, ...Object.entries(by).flat()), by };
}

const MINUTE = 60_000;

/**
 * Adds `n` occurrences seen at `now` to an events rule's alert: per-minute buckets over the window; fires when the
 * window holds more than `count`. `sample` is one of the events (labels and annotations). Undefined when nothing
 * changes.
 */
export function applyOccurrences(
  prev: AlertState | undefined,
  rule: CompiledAlertRule,
  group: { id: string; by: Record<string, string> },
  n: number,
  sample: { facts: EventFacts; message: string },
  now: number,
): AlertState | undefined {
  if (n <= 0) return undefined;
  const spec = rule.spec as EventRule;
  const minute = now - (now % MINUTE);
  const buckets = (prev?.buckets ?? []).filter(([t]) => t > now - rule.windowMs);
  const last = buckets.at(-1);
  if (last && last[0] === minute) last[1] += n;
  else buckets.push([minute, n]);
  const inWindow = buckets.reduce((s, [, c]) => s + c, 0);
  const firing = prev?.status === 'firing';
  const total = (firing ? (prev?.counts?.['total'] ?? 0) : 0) + n;
  const counts = { occurrences: inWindow, total, windowMinutes: rule.windowMs / MINUTE };
  const f = sample.facts;
  const labels: Record<string, string> = {
    alertname: rule.alertname,
    rule: spec.id,
    ...group.by,
    severity: spec.severity ?? (group.by['severity'] || f.severity),
  };
  const where = [group.by['namespace'], group.by['workload'] ?? group.by['object'] ?? group.by['node']]
    .filter(Boolean)
    .join(' ');
  const annotations: Record<string, string> = {
    summary: `${group.by['reason'] ?? f.reason} x${inWindow} in ${spec.threshold.window}${where ? ` on ${where}` : ''}`,
    description: `More than ${spec.threshold.count} matching occurrences in ${spec.threshold.window} (${inWindow}); last: ${f.reason} on ${f.object}: ${sample.message}`,
    counts: `${inWindow} occurrences in ${spec.threshold.window}, ${total} since firing`,
  };
  const out = finish(rule, labels, annotations, { event: f, counts });
  const next: AlertState = {
    id: group.id,
    rule: spec.id,
    source: 'events',
    status: prev?.status === 'firing' ? 'firing' : 'inactive',
    labels: out.labels,
    annotations: out.annotations,
    activeAt: now,
    resolveAt: now + rule.quietMs,
    counts,
    buckets,
    seq: prev?.seq ?? 0,
    published: prev?.published ?? 0,
    updatedAt: now,
    ...(prev?.startsAt && firing ? { startsAt: prev.startsAt } : {}),
  };
  if (!firing && inWindow > spec.threshold.count) {
    return { ...next, status: 'firing', startsAt: iso(now), seq: next.seq + 1 };
  }
  return next;
}

// ---------------------------------------------------------------------------------------------------------------
// patterns

export function matchPattern(rule: PatternRule, p: PatternIn): boolean {
  const m = rule.match ?? {};
  if (m.kind && m.kind !== p.kind) return false;
  if (m.type !== undefined && (p.type === undefined || !isIn(m.type, p.type))) return false;
  if (m.severity && (p.severity === undefined || rank(p.severity) < rank(m.severity))) return false;
  return (
    isIn(m.cluster, p.cluster) &&
    isIn(m.namespace, p.namespace) &&
    isIn(m.reason, p.reason) &&
    workloadIn(m.workload, p.workload)
  );
}

export const DEFAULT_PATTERN_BY = ['namespace', 'workload', 'reason', 'kind'] as const;

export function applyPattern(
  prev: AlertState | undefined,
  rule: CompiledAlertRule,
  p: PatternIn,
  now: number,
): { id: string; next: AlertState } {
  const spec = rule.spec as PatternRule;
  const values: Record<string, string> = {
    cluster: p.cluster,
    namespace: p.namespace,
    workload: p.workload,
    reason: p.reason,
    fingerprint: p.fingerprint,
    kind: p.kind,
  };
  const by: Record<string, string> = { cluster: p.cluster };
  for (const k of spec.by ?? DEFAULT_PATTERN_BY) by[k] = values[k] ?? '';
  const id = stableId(spec.id, ...Object.entries(by).flat());
  const firing = prev?.status === 'firing';
  const seen = (firing ? (prev?.counts?.['patterns'] ?? 0) : 0) + 1;
  const counts = { rate: p.rate, baseline: p.baseline, patterns: seen };
  const { kind, ...rest } = by;
  const labels: Record<string, string> = {
    alertname: rule.alertname,
    rule: spec.id,
    ...rest,
    pattern: kind ?? p.kind,
    severity: spec.severity ?? 'warning',
  };
  const where = [p.namespace, p.workload].filter(Boolean).join(' ') || 'the cluster';
  const annotations: Record<string, string> =
    p.kind === 'storm'
      ? {
          summary: `${p.reason} storm in ${where}: ${p.rate}/min (baseline ${p.baseline.toFixed(1)}/min)`,
          description: `The rate of ${p.reason}${p.fingerprint ? ` (fingerprint ${p.fingerprint})` : ''} reached ${p.rate} per minute, ${p.baseline > 0 ? `${(p.rate / p.baseline).toFixed(0)}x` : 'far above'} its baseline, at ${p.at}.`,
          counts: `${p.rate} per minute, baseline ${p.baseline.toFixed(1)}`,
        }
      : {
          summary: `First ${p.reason} in ${where}`,
          description: `${p.reason} (fingerprint ${p.fingerprint}) was seen for the first time in ${where} at ${p.at}.`,
        };
  const out = finish(rule, labels, annotations, { pattern: p, counts });
  const next: AlertState = {
    id,
    rule: spec.id,
    source: 'patterns',
    status: 'firing',
    labels: out.labels,
    annotations: out.annotations,
    activeAt: now,
    resolveAt: now + rule.quietMs,
    counts,
    seq: (prev?.seq ?? 0) + (firing ? 0 : 1),
    published: prev?.published ?? 0,
    updatedAt: now,
    startsAt: firing && prev?.startsAt ? prev.startsAt : iso(now),
  };
  return { id, next };
}

// ---------------------------------------------------------------------------------------------------------------
// time

/** How long a resolved alert is kept (so every group can send its resolution), and an idle counter. */
export const RESOLVED_RETENTION_MS = 3_600_000;

/**
 * What time alone does to an alert at `now`: an events/patterns alert quiet until `resolveAt` resolves; an inactive
 * counter whose window is empty, and a resolved alert older than the retention, are deleted (`'delete'`).
 */
export function expire(a: AlertState, now: number, windowMs: number): AlertState | 'delete' | undefined {
  if (a.status === 'firing' && a.resolveAt !== undefined && now >= a.resolveAt) {
    return { ...a, status: 'resolved', endsAt: iso(a.resolveAt), seq: a.seq + 1, updatedAt: now };
  }
  if (a.status === 'inactive' && (a.buckets ?? []).every(([t]) => t <= now - windowMs)) return 'delete';
  if (a.status === 'resolved' && a.published >= a.seq && now - Date.parse(a.endsAt ?? '') > RESOLVED_RETENTION_MS) {
    return 'delete';
  }
  return undefined;
}

/** The alert as a notification carries it. */
export function notificationAlert(a: AlertState): NotificationAlert {
  return {
    id: a.id,
    status: a.status === 'firing' ? 'firing' : 'resolved',
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt ?? new Date(a.activeAt).toISOString(),
    ...(a.status === 'resolved' && a.endsAt ? { endsAt: a.endsAt } : {}),
    ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    ...(a.incidentId ? { incidentId: a.incidentId } : {}),
    ...(a.counts ? { counts: a.counts } : {}),
  };
}
