// The per-event pipeline: classify (rules) -> fingerprint -> occurrences + incident (Redis, atomic) -> patterns, and
// the output payloads kec.events/v1, kec.incident/v1, kec.pattern/v1.
import { createHash } from 'node:crypto';
import type { EnrichedEvent } from '@kec/cache';
import { timestampMicros } from '@kec/model';
import { type Classification, type RuleSet, type Severity, severityRank } from '@kec/rules';
import { type Fingerprint, fingerprint } from './fingerprint.ts';
import { podStatusCause } from './pod-status.ts';
import type { CorrelatorState, IncidentState } from './state.ts';

export const EVENTS_SCHEMA = 'kec.events/v1';
export const INCIDENT_SCHEMA = 'kec.incident/v1';
export const PATTERN_SCHEMA = 'kec.pattern/v1';

const SEVERITIES: Severity[] = ['info', 'warning', 'error', 'critical'];

export interface EventPayload extends Omit<EnrichedEvent, 'schema'> {
  schema: typeof EVENTS_SCHEMA;
  classification: Omit<Classification, 'incident' | 'rank' | 'linkNode' | 'why'>;
  fingerprint: Fingerprint;
  occurrences: number;
  incidentId: string | null;
}

export interface IncidentPayload {
  schema: typeof INCIDENT_SCHEMA;
  id: string;
  cluster: string;
  namespace: string;
  title: string;
  severity: Severity;
  category: string;
  rootCause: { eventUid: string; reason: string; object: string; why: string } | null;
  affected: string[];
  firstSeen: string;
  lastSeen: string;
  eventCount: number;
  occurrenceCount: number;
  state: 'open' | 'resolved';
  version: number;
}

export interface PatternPayload {
  schema: typeof PATTERN_SCHEMA;
  kind: 'storm' | 'first-seen';
  cluster: string;
  namespace: string;
  workload: string;
  fingerprint: string;
  reason: string;
  /** The Kubernetes type (Normal, Warning) and kec's severity of the event that made the pattern. */
  type: string;
  severity: Severity;
  window: string;
  rate: number;
  baseline: number;
  at: string;
}

export interface Output {
  event: EventPayload;
  /** This (uid, rv) had been processed before (a redelivery or a replay). */
  replay: boolean;
  incident: IncidentPayload | null;
  patterns: { payload: PatternPayload; msgId: string }[];
}

export interface CorrelatorOptions {
  rules: RuleSet;
  state: CorrelatorState;
  /** Storm: the current minute has at least stormMin occurrences and stormFactor x the baseline rate. */
  stormMin: number;
  stormFactor: number;
  baselineMinutes: number;
  firstSeenTtlSec: number;
}

const objName = (kind: string, ns: string, name: string) => (ns ? `${kind}/${ns}/${name}` : `${kind}/${name}`);

function ms(t: string | null | undefined): number {
  const m = t ? timestampMicros(t) : Number.NaN;
  return Number.isFinite(m) ? Math.floor(m / 1000) : Number.NaN;
}

/**
 * Tie-break between root-cause candidates first seen at the same instant: the hex-nanos suffix client-go puts in event
 * names (`<object>.<UnixNano of the creation, hex>`: the emitter's own order, finer than the µs of eventTime; several
 * pods' FailedScheduling of one scheduling cycle share their eventTime and reach the API server in any order), else
 * the resourceVersion (etcd's revision, so the write order; the incident keeps the lowest one seen per candidate, i.e.
 * the creation when the ADDED was seen), zero-padded so they compare as text.
 */
export function creationOrder(resourceVersion: string, name: string, uid: string): string {
  const m = /\.([0-9a-f]{12,16})$/.exec(name);
  if (m?.[1]) return `a${BigInt(`0x${m[1]}`).toString().padStart(20, '0')}`;
  if (/^\d{1,20}$/.test(resourceVersion)) return `b${resourceVersion.padStart(20, '0')}`;
  return `z${uid}`;
}

/**
 * An index key: `own` keys are registered with the event's incident; `find: false` keys are not looked up. `window`
 * scales the join window for this key's lookups: a precise causal key (the reversal of a scale-up, a controller's
 * event naming the pod, an HPA's earlier rescale) reaches further than a shared one (a Deployment's steps, a node's
 * victims' follow-ups).
 */
export interface IncidentKey {
  key: string;
  own: boolean;
  find?: boolean;
  window?: number;
}

/** Join-window factors: a named causal link (2 x the window), steps of one change (1/6: 2.5 min by default). */
export const LONG = 2;
export const SHORT = 1 / 6;

/** Controller objects: their follow-ups name the object they concern (a pod, a Job), which is the link. */
const CONTROLLERS = new Set([
  'Deployment',
  'ReplicaSet',
  'ReplicationController',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
]);
/** A node (re)joining the cluster: kubelet's Starting/NodeReady and the node controller's RegisteredNode. */
const NODE_JOINS = new Set(['Starting', 'NodeReady', 'RegisteredNode']);
// deployment controller: "Scaled up replica set X from 1 to 3" (and the older "Scaled up replica set X to 3 from 1",
// "Scaled up replica set X to 3")
const SCALED = /^Scaled (up|down) replica set (\S+) (?:from (\d+) to (-?\d+)|to (-?\d+)(?: from (\d+))?)$/;
const NEW_SIZE = /^New size: (\d+); reason: /;

/** A ScalingReplicaSet's ReplicaSet, direction and sizes. */
export function scaledReplicaSet(note: string): { up: boolean; rs: string; from?: number; to: number } | undefined {
  const m = SCALED.exec(note.trim());
  if (!m?.[2]) return undefined;
  const from = m[3] ?? m[6];
  return {
    up: m[1] === 'up',
    rs: m[2],
    to: Number(m[4] ?? m[5]),
    ...(from !== undefined ? { from: Number(from) } : {}),
  };
}

/**
 * The index keys of an event, in lookup order. Causal links, not shared keys: an event looks up what could have
 * caused it or what it continues (its own object, the pod or Job a controller names, the node of a pod that went
 * away, the scale-up a scale-down reverses), and a workload only for the same kind of problem.
 */
export function incidentKeys(e: EnrichedEvent, c: Classification): IncidentKey[] {
  const r = e.regarding;
  const ns = r.namespace || (r.kind === 'Node' ? '' : e.namespace);
  const keys: IncidentKey[] = [];
  const en = e.enrichment;
  if (r.kind === 'Node') {
    // node-problem-detector's own conditions (kernel, filesystem, runtime) are another detector's findings: they make
    // their own incident on the node, apart from kubelet's pressure and the node controller's NotReady
    if (c.ruleId.startsWith('npd-')) return [{ key: `n:${r.name}#npd`, own: true }];
    keys.push({ key: `n:${r.name}`, own: true });
    // a node that joins while the cluster autoscaler scales up is that scale-up's node
    if (NODE_JOINS.has(e.reason)) keys.push({ key: 'ca:scale-up', own: false });
    return keys;
  }
  const self = `o:${objName(r.kind, ns, r.name)}`;
  // The workload is the enricher's: seen (hit, tombstone, fetched) or read from the object's name (inferred).
  let w = en.workload ? `w:${en.workload.kind}/${ns}/${en.workload.name}` : undefined;
  // The HPA's scale target: HorizontalPodAutoscaler events are about the HPA, named after its Deployment by convention.
  if (!w && r.kind === 'HorizontalPodAutoscaler') w = `w:Deployment/${ns}/${r.name}`;
  if (!w && ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'].includes(r.kind)) w = `w:${r.kind}/${ns}/${r.name}`;
  const followUp = c.incident === 'join' && c.severity === 'info' && !c.linkNode;

  if (r.kind === 'Pod') {
    if (followUp) {
      // A healthy follow-up (Scheduled, Pulled, Created, Started, Killing...) joins only through its own pod: sharing a
      // workload is not a cause. A pod its node's failure touched (NotReady, evicted) links its follow-ups only just
      // after: a container restarting minutes later on the recovered node is routine.
      keys.push({ key: self, own: true });
      keys.push({ key: `${self}#node`, own: false, window: SHORT });
      // a Job's pods are its attempts: their follow-ups belong to the Job's own incident (BackoffLimitExceeded)
      const owner = en.owners[0];
      if (owner?.kind === 'Job') keys.push({ key: `o:${objName('Job', ns, owner.name)}`, own: false });
      if (PENDING.has(e.reason)) keys.push(...pendingPod(w, e.reason));
      return keys;
    }
    if (c.linkNode) {
      // Pods that go away (evicted, preempted, NotReady) join their node's incident, register their own key for the
      // follow-ups just after, and their controller's `#replace` key, unlooked-up, which the controller's
      // SuccessfulCreate of the replacement finds.
      const node = en.node?.name || en.pod?.nodeName;
      if (node) keys.push({ key: `n:${node}`, own: false });
      keys.push({ key: `${self}#node`, own: true });
      if (w) keys.push({ key: `${w}#${c.category}`, own: true });
      const owner = podController(e, ns);
      if (owner) keys.push({ key: `${owner}#replace`, own: true, find: false });
      return keys;
    }
    // A pod's problem joins its workload's other pods only for the same kind of problem (pull failures or pending
    // pods across a rollout or scale-out), not another pod's different problem.
    keys.push({ key: self, own: true });
    if (w) keys.push({ key: `${w}#${c.category}`, own: true });
    if (PENDING.has(e.reason)) keys.push(...pendingPod(w, e.reason));
    return keys;
  }

  if (r.kind === 'Deployment' && e.reason === 'ScalingReplicaSet') {
    const s = scaledReplicaSet(e.note);
    if (s) {
      const rs = `o:${objName('ReplicaSet', ns, s.rs)}`;
      // a scale-down reverses the scale-up to its `from` (an HPA's or someone's scale-out, a rollout undone)
      if (!s.up && s.from !== undefined) keys.push({ key: `${rs}#size:${s.from}`, own: false, window: LONG });
      // a scale-up to the size an HPA just decided is that rescale
      if (s.up && w) keys.push({ key: `${w}#size:${s.to}`, own: false });
      // a scale-up's new pods may go pending or fail to pull their image: those problems of the workload's pods,
      // just before (events of different controllers arrive in any order) or after, are its consequence
      if (s.up && w)
        keys.push(
          { key: `${w}#scheduling`, own: true, window: SHORT },
          { key: `${w}#image`, own: true, window: SHORT },
        );
      // the steps of one change (a rollout scales the new ReplicaSet up and the old one down, step by step)
      if (w) keys.push({ key: w, own: true, window: SHORT });
      // a scale-up is what a later scale-down from its size reverses (a scale-down to a size reverses nothing)
      if (s.up) keys.push({ key: `${rs}#size:${s.to}`, own: true, find: false });
      keys.push(
        // what the ReplicaSet's controller does next: create (up) or delete (down) pods
        { key: `${rs}#${s.up ? 'up' : 'down'}`, own: true, find: false },
        { key: self, own: true, find: false },
      );
      return keys;
    }
  }
  if (r.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale') {
    // an HPA's rescale continues its earlier rescale (the scale-back after the load drops, minutes later), and its new
    // size is what the Deployment's scale-up to that size follows
    keys.push({ key: `${self}#rescale`, own: true, window: LONG });
    const size = NEW_SIZE.exec(e.note.trim())?.[1];
    if (w && size) keys.push({ key: `${w}#size:${size}`, own: true, find: false });
    if (w) keys.push({ key: w, own: true, find: false });
    return keys;
  }

  const named = followUp ? controllerNamed(e) : undefined;
  if (followUp && (CONTROLLERS.has(r.kind) || r.kind === 'Job')) {
    // A controller's healthy event is about the pod or Job it names, not about the controller: its own object key
    // (a CronJob, a ReplicaSet) would join every run or every replica to an incident of one of them.
    keys.push({ key: self, own: true, find: r.kind === 'Job' });
    if (!named) return keys;
    const target = `o:${objName(named.kind, ns, named.name)}`;
    if (named.kind === 'Pod') {
      // A pod the controller deletes: the scale-down of this controller that deletes it (a rollout's old ReplicaSet, a
      // scale-back), else the pod's own incident (LONG: a pending pod deleted minutes later). A pod it creates: the
      // pod's own incident, then this controller's scale-up, then its replacement of a pod that went away (a
      // rollout's new pods are the new ReplicaSet's; an evicted pod's replacement is its own ReplicaSet's). A Job's
      // pod is its attempt (its own key, above).
      if (e.reason === 'SuccessfulDelete' && r.kind !== 'Job') keys.push({ key: `${self}#down`, own: false });
      keys.push({ key: target, own: true, window: LONG });
      if (e.reason === 'SuccessfulCreate' && r.kind !== 'Job')
        keys.push({ key: `${self}#up`, own: false }, { key: `${self}#replace`, own: false });
      return keys;
    }
    // a CronJob's Job: the failed one it saw finish joins that Job's incident; creating or deleting a scheduled run
    // is routine (a run is not caused by the one before)
    keys.push({ key: target, own: true, find: e.reason === 'SawCompletedJob', window: LONG });
    return keys;
  }

  keys.push({ key: self, own: true });
  if (followUp) return keys;
  // Another object's problem (a Job's BackoffLimitExceeded, an HPA that cannot read metrics) joins its workload only
  // for the same kind of problem; a change (a scale, a rollout) joins the workload's own changes.
  if (w) keys.push({ key: severityRank(c.severity) >= 1 ? `${w}#${c.category}` : w, own: true });
  return keys;
}

/** The cluster autoscaler's events about a pod it saw unschedulable. */
const PENDING = new Set(['TriggeredScaleUp', 'NotTriggerScaleUp']);

/**
 * The autoscaler speaks of a pending pod: the workload's pending pods (its FailedScheduling, which the scheduler's
 * events.k8s.io series may deliver after it, or the scale-out that made them); a scale-up it triggers is what a node
 * joining next belongs to.
 */
function pendingPod(w: string | undefined, reason: string): IncidentKey[] {
  const keys: IncidentKey[] = w ? [{ key: `${w}#scheduling`, own: true }] : [];
  if (reason === 'TriggeredScaleUp') keys.push({ key: 'ca:scale-up', own: true, find: false });
  return keys;
}

/** A pod's controller (ReplicaSet, StatefulSet, DaemonSet) as an object key: the enricher's owner, else its name. */
function podController(e: EnrichedEvent, ns: string): string | undefined {
  const o = e.enrichment.owners[0];
  if (o && o.kind !== 'Job') return `o:${objName(o.kind, ns, o.name)}`;
  const wl = e.enrichment.workload;
  if (!wl || o) return undefined;
  if (wl.kind === 'StatefulSet' || wl.kind === 'DaemonSet') return `o:${objName(wl.kind, ns, wl.name)}`;
  const rs = /^(.+)-[a-z0-9]{5}$/.exec(e.regarding.name)?.[1];
  return wl.kind === 'Deployment' && rs?.startsWith(`${wl.name}-`) ? `o:${objName('ReplicaSet', ns, rs)}` : undefined;
}

const CONTROLLER_KINDS = new Set(['ReplicaSet', 'ReplicationController', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
// replicaset/daemonset/job controllers: "Created pod: X", "Deleted pod: X"; statefulset: "create Pod X in StatefulSet
// Y successful"; cronjob: "Created job X", "Deleted job X"
const NAMED_POD =
  /^(?:Created|Deleted) pod: ([a-z0-9][-a-z0-9.]*)$|^(?:create|delete) Pod ([a-z0-9][-a-z0-9.]*) in StatefulSet /;
const NAMED_JOB = /^(?:Created|Deleted) job ([a-z0-9][-a-z0-9.]*)$/;
// cronjob controller: the failed Job it saw finish is the failure's own aftermath (a completed one is routine)
const FAILED_JOB = /^Saw completed job: ([a-z0-9][-a-z0-9.]*), (?:status|condition): Failed$/;

/** The pod (or Job) a controller's SuccessfulCreate/SuccessfulDelete (or SawCompletedJob of a failed Job) names. */
function controllerNamed(e: EnrichedEvent): { kind: string; name: string } | undefined {
  if (e.reason === 'SawCompletedJob' && e.regarding.kind === 'CronJob') {
    const f = FAILED_JOB.exec(e.note.trim());
    return f?.[1] ? { kind: 'Job', name: f[1] } : undefined;
  }
  if (e.reason !== 'SuccessfulCreate' && e.reason !== 'SuccessfulDelete') return undefined;
  if (!CONTROLLER_KINDS.has(e.regarding.kind)) return undefined;
  const msg = e.note.trim();
  const p = NAMED_POD.exec(msg);
  if (p) return { kind: 'Pod', name: (p[1] ?? p[2]) as string };
  const j = NAMED_JOB.exec(msg);
  if (j?.[1]) return { kind: 'Job', name: j[1] };
  return undefined;
}

export function incidentPayload(s: IncidentState): IncidentPayload {
  const rc = s.rootCause;
  const [kind, ...rest] = (rc?.object ?? '').split('/');
  const more = s.affected.length > 1 ? ` (+${s.affected.length - 1} more)` : '';
  const title = rc ? `${rc.reason} on ${kind} ${rest.join('/')}${more}` : 'incident';
  return {
    schema: INCIDENT_SCHEMA,
    id: s.id,
    cluster: s.cluster,
    namespace: s.namespace,
    title,
    severity: SEVERITIES[Math.max(0, Math.min(3, s.severity))] ?? 'info',
    category: rc?.category ?? 'other',
    rootCause: rc ? { eventUid: rc.uid, reason: rc.reason, object: rc.object, why: rc.why } : null,
    affected: s.affected,
    firstSeen: new Date(s.firstMs).toISOString(),
    lastSeen: new Date(s.lastMs).toISOString(),
    eventCount: s.events,
    occurrenceCount: s.occurrences,
    state: s.state,
    version: s.version,
  };
}

export class Correlator {
  readonly o: CorrelatorOptions;
  constructor(o: CorrelatorOptions) {
    this.o = o;
  }

  async process(e: EnrichedEvent): Promise<Output> {
    const labels = e.enrichment.object?.labels ?? {};
    const classified = this.o.rules.classify(e, labels);
    const cause = podStatusCause(e, classified);
    const c: Classification = cause
      ? { ...classified, fields: cause.fields, category: cause.category, rank: cause.rank, why: cause.why }
      : classified;
    const fp = fingerprint({
      reason: e.reason,
      note: e.note,
      regarding: e.regarding,
      names: {
        workload: e.enrichment.workload?.name,
        node: e.enrichment.node?.name,
        host: e.deprecatedSource?.host,
      },
    });
    const r = e.regarding;
    const ns = r.namespace || (r.kind === 'Node' ? '' : e.namespace);
    const lastMs = ms(e.lastTimestamp);
    const firstMs = ms(e.firstTimestamp);
    const eventMs = Number.isFinite(lastMs) ? lastMs : ms(e.observedAt);
    const lastMicros = timestampMicros(e.lastTimestamp);
    const firstMicros = timestampMicros(e.firstTimestamp);
    const keys = incidentKeys(e, c).map((k) => ({ ...k, key: `${this.o.state.prefix}k:${e.cluster}:${k.key}` }));
    const candidateId = createHash('sha256')
      .update(`${e.cluster}\0${e.uid}\0${e.resourceVersion}`)
      .digest('hex')
      .slice(0, 20);
    const res = await this.o.state.observe({
      uid: `${e.cluster}:${e.uid}`,
      eventUid: e.uid,
      firstMicros: Number.isFinite(firstMicros) ? firstMicros : eventMs * 1000,
      order: creationOrder(e.resourceVersion, e.name, e.uid),
      resourceVersion: e.resourceVersion,
      count: e.count,
      lastMicros: Number.isFinite(lastMicros) ? lastMicros : undefined,
      deleted: e.watchType === 'DELETED',
      mode: c.incident,
      eventMs,
      firstMs: Number.isFinite(firstMs) ? Math.min(firstMs, eventMs) : eventMs,
      keys,
      candidateId: `inc-${candidateId}`,
      rank: c.rank,
      reason: cause?.reason ?? e.reason,
      object: objName(r.kind, ns, r.name),
      why: c.why || `${c.severity} ${c.category} event ${e.reason}: ${e.note.slice(0, 200)}`,
      severity: severityRank(c.severity),
      category: c.category,
      namespace: ns,
      cluster: e.cluster,
    });
    const { incident: _i, rank: _r, linkNode: _l, why: _w, ...classification } = c;
    const event: EventPayload = {
      ...e,
      schema: EVENTS_SCHEMA,
      classification,
      fingerprint: fp,
      occurrences: res.occurrences,
      incidentId: res.incidentId,
    };
    const patterns = await this.patterns(e, c, fp, res.occurrences, res.fresh, res.replay, eventMs, ns);
    return { event, replay: res.replay, incident: res.incident ? incidentPayload(res.incident) : null, patterns };
  }

  private async patterns(
    e: EnrichedEvent,
    c: Classification,
    fp: Fingerprint,
    occurrences: number,
    fresh: boolean,
    replay: boolean,
    eventMs: number,
    ns: string,
  ): Promise<Output['patterns']> {
    const out: Output['patterns'] = [];
    if (e.watchType === 'DELETED') return out;
    const wl = e.enrichment.workload ? `${e.enrichment.workload.kind}/${e.enrichment.workload.name}` : '';
    const at = new Date(eventMs).toISOString();
    const owner = `${e.uid}/${e.resourceVersion}`;
    const base = {
      schema: PATTERN_SCHEMA,
      cluster: e.cluster,
      namespace: ns,
      workload: wl,
      reason: e.reason,
      type: e.type,
      severity: c.severity,
      at,
    } as const;
    if (severityRank(c.severity) >= 1 && (fresh || replay)) {
      const key = `fs:${e.cluster}:${ns}/${wl}:${fp.id}`;
      if (await this.o.state.claim(key, owner, this.o.firstSeenTtlSec)) {
        out.push({
          payload: { ...base, kind: 'first-seen', fingerprint: fp.id, window: '0s', rate: 0, baseline: 0 },
          msgId: `first-seen/${e.cluster}/${ns}/${wl}/${fp.id}`,
        });
      }
    }
    // History carried by the first observation of an old event (count N) is not a rate.
    const n = replay || (fresh && e.count > 1) ? 0 : occurrences;
    if (n === 0 && !replay) return out;
    const minute = Math.floor(eventMs / 60_000);
    const B = this.o.baselineMinutes;
    const scopes = [
      ['fp', `${e.cluster}:fp:${fp.id}`, fp.id],
      ['reason', `${e.cluster}:reason:${ns}:${e.reason}`, ''],
    ] as const;
    const rates = await this.o.state.rates(
      scopes.map(([, key]) => key),
      minute,
      n,
      B,
    );
    for (const [i, [scope, key, fpId]] of scopes.entries()) {
      const { current, before } = rates[i] as { current: number; before: number };
      const baseline = before / B;
      if (current >= this.o.stormMin && current >= this.o.stormFactor * Math.max(baseline, 1)) {
        const win = Math.floor(minute / 10);
        if (await this.o.state.claim(`storm:${key}:${win}`, owner, 3600)) {
          out.push({
            payload: { ...base, kind: 'storm', fingerprint: fpId, window: '1m', rate: current, baseline },
            msgId: `storm/${scope}/${key}/${win}`,
          });
        }
      }
    }
    return out;
  }
}
