// A deterministic set of kec.events/v1 payloads (several namespaces, kinds, workloads, labels, updates of the
// same Event, a reused pod name with a new uid, an incident) relative to a base time in the past.
import type { IncidentPayload, KecEventsPayload } from '@kec/writer';

export interface Spec {
  cluster?: string;
  namespace: string;
  uid: string;
  rv: number;
  count: number;
  first: number;
  at: number;
  reason: string;
  type?: string;
  kind?: string;
  object: string;
  objectUid?: string;
  workload?: { kind: string; name: string } | null;
  labels?: Record<string, string>;
  node?: string;
  severity?: 'info' | 'warning' | 'error' | 'critical';
  category?: string;
  note?: string;
  incidentId?: string | null;
  fieldPath?: string;
  occurrences?: number;
  /** When the watcher saw it (default: at + 100 ms). */
  observed?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function payload(s: Spec): KecEventsPayload {
  const type = s.type ?? 'Warning';
  return {
    schema: 'kec.events/v1',
    cluster: s.cluster ?? 'c1',
    observedAt: iso(s.observed ?? s.at + 100).replace('Z', '000Z'),
    sourceApi: 'core/v1',
    watchType: s.count === 1 ? 'ADDED' : 'MODIFIED',
    resourceVersion: String(s.rv),
    uid: s.uid,
    name: `${s.object}.${s.uid}`,
    namespace: s.namespace,
    creationTimestamp: iso(s.first).replace(/\.\d+Z$/, 'Z'),
    labels: {},
    annotations: {},
    eventTime: null,
    series: null,
    reportingController: 'kubelet',
    reportingInstance: s.node ?? 'node-1',
    action: '',
    reason: s.reason,
    regarding: {
      kind: s.kind ?? 'Pod',
      namespace: s.namespace,
      name: s.object,
      uid: s.objectUid ?? `uid-${s.object}`,
      apiVersion: 'v1',
      resourceVersion: '1',
      fieldPath: s.fieldPath ?? '',
    },
    related: null,
    note: s.note ?? `${s.reason} on ${s.object}`,
    type,
    deprecatedSource: { component: 'kubelet', host: s.node ?? 'node-1' },
    deprecatedFirstTimestamp: iso(s.first).replace(/\.\d+Z$/, 'Z'),
    deprecatedLastTimestamp: iso(s.at).replace(/\.\d+Z$/, 'Z'),
    deprecatedCount: s.count,
    count: s.count,
    firstTimestamp: iso(s.first).replace(/\.\d+Z$/, 'Z'),
    lastTimestamp: iso(s.at).replace(/\.\d+Z$/, 'Z'),
    combined: false,
    enrichment: {
      status: 'hit',
      object: { labels: s.labels ?? {}, annotations: {}, deleted: false },
      workload: s.workload === undefined ? null : s.workload,
      node: { name: s.node ?? 'node-1', zone: 'z1' },
      namespaceLabels: {},
    },
    classification: {
      severity: s.severity ?? (type === 'Warning' ? 'warning' : 'info'),
      category: s.category ?? 'other',
      actionable: type === 'Warning',
      ruleId: 'test',
      rulesetVersion: '1',
      fields: {},
    },
    fingerprint: { id: `fp-${s.reason}`, template: `${s.reason} on <pod>` },
    occurrences: s.occurrences ?? 1,
    incidentId: s.incidentId ?? null,
  };
}

export const MIN = 60_000;
export const HOUR = 3_600_000;

/** The fixture: a base two days ago (whole hour), events spread over 30 hours. */
export function fixture(base: number): { events: KecEventsPayload[]; incidents: IncidentPayload[] } {
  const ev: KecEventsPayload[] = [];
  let rv = 1000;
  const web = { kind: 'Deployment', name: 'web' };
  // web pods crash-looping: one Event per pod, updated several times (count grows)
  for (let p = 0; p < 3; p++) {
    const object = `web-7d9f8-${p}`;
    for (let c = 1; c <= 4; c++) {
      ev.push(
        payload({
          namespace: 'shop',
          uid: `e-backoff-${p}`,
          rv: rv++,
          count: c,
          first: base + p * MIN,
          at: base + p * MIN + (c - 1) * 10 * MIN,
          reason: 'BackOff',
          object,
          workload: web,
          labels: { app: 'web', tier: 'front', env: p === 2 ? 'staging' : 'prod' },
          node: `node-${p}`,
          severity: 'error',
          category: 'health',
          fieldPath: 'spec.containers{app}',
          note: `Back-off restarting failed container app in pod ${object}`,
          incidentId: 'inc-web',
        }),
      );
    }
  }
  // the deployment's own events (Normal)
  ev.push(
    payload({
      namespace: 'shop',
      uid: 'e-scaled',
      rv: rv++,
      count: 1,
      first: base + 2 * MIN,
      at: base + 2 * MIN,
      reason: 'ScalingReplicaSet',
      type: 'Normal',
      kind: 'Deployment',
      object: 'web',
      workload: web,
      labels: { app: 'web' },
      category: 'scaling',
    }),
  );
  // a reused pod name: db-0 with two uids (a StatefulSet pod recreated)
  for (const [i, uidObj] of ['uid-db-0-a', 'uid-db-0-b'].entries()) {
    ev.push(
      payload({
        namespace: 'data',
        uid: `e-db-${i}`,
        rv: rv++,
        count: 1,
        first: base + (5 + i * 10) * HOUR,
        at: base + (5 + i * 10) * HOUR,
        reason: i === 0 ? 'Killing' : 'Started',
        type: 'Normal',
        object: 'db-0',
        objectUid: uidObj,
        workload: { kind: 'StatefulSet', name: 'db' },
        labels: { app: 'db', tier: 'data' },
        node: 'node-1',
        category: 'lifecycle',
      }),
    );
  }
  // many small events across namespaces (for pagination), one per 10 minutes
  for (let i = 0; i < 150; i++) {
    const ns = `ns-${i % 5}`;
    ev.push(
      payload({
        namespace: ns,
        uid: `e-many-${String(i).padStart(3, '0')}`,
        rv: rv++,
        count: 1,
        first: base + i * 10 * MIN,
        at: base + i * 10 * MIN,
        reason: i % 3 === 0 ? 'FailedScheduling' : 'Pulled',
        type: i % 3 === 0 ? 'Warning' : 'Normal',
        object: `job-${i}-pod`,
        workload: i % 2 === 0 ? { kind: 'Job', name: `job-${i}` } : null,
        labels: i % 4 === 0 ? { app: 'batch' } : {},
        node: `node-${i % 3}`,
        category: i % 3 === 0 ? 'scheduling' : 'image',
        note:
          i % 3 === 0 ? '0/3 nodes are available: 3 Insufficient memory.' : `Successfully pulled image "busybox:${i}"`,
      }),
    );
  }
  // a node event (cluster-scoped: namespace '')
  ev.push(
    payload({
      namespace: '',
      uid: 'e-node',
      rv: rv++,
      count: 1,
      first: base + 3 * HOUR,
      at: base + 3 * HOUR,
      reason: 'NodeNotReady',
      kind: 'Node',
      object: 'node-2',
      objectUid: 'uid-node-2',
      node: 'node-2',
      severity: 'critical',
      category: 'node',
    }),
  );
  const incidents: IncidentPayload[] = [
    {
      schema: 'kec.incident/v1',
      cluster: 'c1',
      id: 'inc-web',
      namespace: 'shop',
      title: 'web is crash-looping',
      severity: 'error',
      category: 'health',
      rootCause: {
        eventUid: 'e-backoff-0',
        reason: 'BackOff',
        object: 'Pod/shop/web-7d9f8-0',
        why: 'first BackOff of the workload',
      },
      affected: ['Pod/shop/web-7d9f8-0', 'Pod/shop/web-7d9f8-1', 'Pod/shop/web-7d9f8-2'],
      firstSeen: iso(base),
      lastSeen: iso(base + 32 * MIN),
      eventCount: 3,
      occurrenceCount: 12,
      state: 'open',
      version: 3,
    },
  ];
  return { events: ev, incidents };
}
