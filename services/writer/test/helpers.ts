// Test helpers: kec.events/v1 payloads with controllable identity, count and time.
import type { KecEventsPayload } from '../src/contract.ts';

export interface EventSpec {
  cluster?: string;
  namespace?: string;
  uid: string;
  rv: number | string;
  count: number;
  /** lastTimestamp (RFC 3339). */
  at: string;
  first?: string;
  reason?: string;
  type?: string;
  kind?: string;
  object?: string;
  watchType?: 'ADDED' | 'MODIFIED' | 'DELETED' | 'LISTED';
  occurrences?: number;
  severity?: 'info' | 'warning' | 'error' | 'critical';
  workload?: string;
  note?: string;
}

export function eventPayload(s: EventSpec): KecEventsPayload {
  const first = s.first ?? s.at;
  const ns = s.namespace ?? 'web';
  return {
    schema: 'kec.events/v1',
    cluster: s.cluster ?? 'test',
    observedAt: s.at.replace(/(\.\d+)?Z$/, '.000000Z'),
    sourceApi: 'core/v1',
    watchType: s.watchType ?? (s.count === 1 ? 'ADDED' : 'MODIFIED'),
    resourceVersion: String(s.rv),
    uid: s.uid,
    name: `${s.object ?? 'pod-a'}.${s.uid.slice(0, 8)}`,
    namespace: ns,
    creationTimestamp: first.replace(/\.\d+Z$/, 'Z'),
    labels: {},
    annotations: {},
    eventTime: null,
    series: null,
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
    action: '',
    reason: s.reason ?? 'BackOff',
    regarding: {
      kind: s.kind ?? 'Pod',
      namespace: ns,
      name: s.object ?? 'pod-a',
      uid: `obj-${s.object ?? 'pod-a'}`,
      apiVersion: 'v1',
      resourceVersion: '1',
      fieldPath: '',
    },
    related: null,
    note: s.note ?? 'Back-off restarting failed container app in pod pod-a',
    type: s.type ?? 'Warning',
    deprecatedSource: { component: 'kubelet', host: 'node-1' },
    deprecatedFirstTimestamp: first.replace(/\.\d+Z$/, 'Z'),
    deprecatedLastTimestamp: s.at.replace(/\.\d+Z$/, 'Z'),
    deprecatedCount: s.count,
    count: s.count,
    firstTimestamp: first.replace(/\.\d+Z$/, 'Z'),
    lastTimestamp: s.at.replace(/\.\d+Z$/, 'Z'),
    combined: false,
    enrichment: {
      status: 'hit',
      object: { labels: { app: s.workload ?? 'web' }, annotations: {}, deleted: false },
      workload: { kind: 'Deployment', name: s.workload ?? 'web' },
      node: { name: 'node-1', zone: 'z1' },
      namespaceLabels: { team: 'a' },
    },
    classification: {
      severity: s.severity ?? 'warning',
      category: 'health',
      actionable: true,
      ruleId: 'backoff',
      rulesetVersion: '1',
      fields: { container: 'app' },
    },
    fingerprint: { id: 'fp1', template: 'Back-off restarting failed container <name> in pod <name>' },
    occurrences: s.occurrences ?? (s.watchType === 'DELETED' ? 0 : s.count),
    incidentId: null,
  };
}

/**
 * The observations of one Event whose count grows from 1 to `finalCount`: `steps` observations spread evenly
 * between `from` and `to`, each with the occurrences since the previous one (the correlator's rule).
 */
export function growingEvent(o: {
  uid: string;
  from: Date;
  to: Date;
  finalCount: number;
  steps: number;
  rvBase: number;
  namespace?: string;
  reason?: string;
}): KecEventsPayload[] {
  const out: KecEventsPayload[] = [];
  let prev = 0;
  for (let i = 0; i < o.steps; i++) {
    const f = o.steps === 1 ? 1 : i / (o.steps - 1);
    const count = i === o.steps - 1 ? o.finalCount : Math.max(prev + 1, Math.round(1 + f * (o.finalCount - 1)));
    const at = new Date(o.from.getTime() + f * (o.to.getTime() - o.from.getTime()));
    out.push(
      eventPayload({
        uid: o.uid,
        rv: o.rvBase + i,
        count,
        at: `${at.toISOString().slice(0, 19)}Z`,
        first: `${o.from.toISOString().slice(0, 19)}Z`,
        occurrences: count - prev,
        namespace: o.namespace,
        reason: o.reason,
      }),
    );
    prev = count;
  }
  return out;
}
