// Fixed API answers for the history commands' tests (shapes of services/api's schemas).
import type { EventItem, Incident, IncidentDetail, Timeline, Top } from '@kec/api';

/** "Now" of every golden output. */
export const NOW = Date.parse('2026-12-07T12:00:00Z');
const ago = (ms: number) =>
  new Date(NOW - ms)
    .toISOString()
    .replace('Z', '000Z')
    .replace(/(\.\d{3})000Z$/, '$1000Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

export function event(over: Partial<EventItem> & { uid: string }): EventItem {
  return {
    cluster: 'prod',
    namespace: 'shop',
    name: `${over.uid}.17f3a`,
    lastSeen: ago(5 * M),
    firstSeen: ago(5 * M),
    count: 1,
    type: 'Normal',
    reason: 'Scheduled',
    object: { kind: 'Pod', namespace: 'shop', name: 'web-7d9c5-x2x9k', uid: 'p1', apiVersion: 'v1', fieldPath: '' },
    source: 'default-scheduler',
    reportingController: 'default-scheduler',
    reportingInstance: '',
    message: 'Successfully assigned shop/web-7d9c5-x2x9k to node-1',
    severity: 'info',
    category: 'scheduling',
    workload: { kind: 'Deployment', name: 'web' },
    node: 'node-1',
    incidentId: null,
    labels: { app: 'web' },
    fingerprintId: 'f1',
    deleted: false,
    ...over,
  };
}

/** Three events, deliberately not in time order. */
export const EVENTS: EventItem[] = [
  event({
    uid: 'e2',
    lastSeen: ago(5 * M),
    firstSeen: ago(1 * H),
    count: 12,
    type: 'Warning',
    reason: 'BackOff',
    object: {
      kind: 'Pod',
      namespace: 'shop',
      name: 'web-7d9c5-x2x9k',
      uid: 'p1',
      apiVersion: 'v1',
      fieldPath: 'spec.containers{web}',
    },
    source: 'kubelet, node-1',
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
    message: 'Back-off restarting failed container web in pod web-7d9c5-x2x9k_shop(p1)',
    severity: 'critical',
    category: 'lifecycle',
    incidentId: 'inc-42',
  }),
  event({ uid: 'e1', lastSeen: ago(2 * H + 5 * M), firstSeen: ago(2 * H + 5 * M) }),
  event({
    uid: 'e3',
    lastSeen: ago(30 * S),
    firstSeen: ago(3 * 86_400 * S + 4 * H),
    count: 3,
    namespace: 'payments',
    type: 'Warning',
    reason: 'Unhealthy',
    object: { kind: 'Pod', namespace: 'payments', name: 'api-0', uid: 'p2', apiVersion: 'v1', fieldPath: '' },
    source: 'kubelet, node-2',
    message: 'Readiness probe failed: HTTP probe failed with statuscode: 503\ngoroutine dump follows',
    severity: 'warning',
    category: 'health',
    workload: { kind: 'StatefulSet', name: 'api' },
    node: 'node-2',
  }),
];

export const INCIDENT: Incident = {
  id: 'inc-42',
  cluster: 'prod',
  namespace: 'shop',
  title: 'web: BackOff in shop',
  severity: 'critical',
  category: 'lifecycle',
  state: 'open',
  rootCause: {
    eventUid: 'e2',
    reason: 'BackOff',
    object: 'Pod/shop/web-7d9c5-x2x9k',
    why: 'earliest Warning of the workload; the others follow within 2m',
  },
  affected: ['Pod/shop/web-7d9c5-x2x9k', 'Deployment/shop/web'],
  firstSeen: ago(1 * H),
  lastSeen: ago(5 * M),
  eventCount: 2,
  occurrenceCount: 13,
};

export const INCIDENT_DETAIL: IncidentDetail = {
  kind: 'Incident',
  apiVersion: 'kec.io/v1',
  incident: INCIDENT,
  events: [EVENTS[0] as EventItem, EVENTS[1] as EventItem],
};

export const TIMELINE: Timeline = {
  kind: 'Timeline',
  apiVersion: 'kec.io/v1',
  object: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  range: { since: ago(24 * H), until: ago(0) },
  step: '1h',
  objects: [
    { kind: 'Deployment', namespace: 'shop', name: 'web', uid: 'd1', firstSeen: ago(23 * H), lastSeen: ago(23 * H) },
    { kind: 'Pod', namespace: 'shop', name: 'web-7d9c5-x2x9k', uid: 'p1', firstSeen: ago(2 * H), lastSeen: ago(5 * M) },
  ],
  buckets: [
    { time: '2026-12-06T13:00:00.000000Z', occurrences: 1, warnings: 0 },
    { time: '2026-12-07T10:00:00.000000Z', occurrences: 2, warnings: 0 },
    { time: '2026-12-07T11:00:00.000000Z', occurrences: 12, warnings: 12 },
  ],
  entries: [
    {
      time: '2026-12-07T11:55:00.000000Z',
      cluster: 'prod',
      uid: 'e2',
      name: 'e2.17f3a',
      object: { kind: 'Pod', namespace: 'shop', name: 'web-7d9c5-x2x9k', uid: 'p1' },
      type: 'Warning',
      reason: 'BackOff',
      count: 12,
      occurrences: 11,
      severity: 'critical',
      category: 'lifecycle',
      message: 'Back-off restarting failed container web',
      incidentId: 'inc-42',
    },
    {
      time: '2026-12-06T13:00:00.000000Z',
      cluster: 'prod',
      uid: 'e0',
      name: 'web.17f00',
      object: { kind: 'Deployment', namespace: 'shop', name: 'web', uid: 'd1' },
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      count: 1,
      occurrences: 1,
      severity: 'info',
      category: 'scaling',
      message: 'Scaled up replica set web-7d9c5 to 1',
      incidentId: null,
    },
    {
      time: '2026-12-07T11:00:00.000000Z',
      cluster: 'prod',
      uid: 'e2',
      name: 'e2.17f3a',
      object: { kind: 'Pod', namespace: 'shop', name: 'web-7d9c5-x2x9k', uid: 'p1' },
      type: 'Warning',
      reason: 'BackOff',
      count: 1,
      occurrences: 1,
      severity: 'critical',
      category: 'lifecycle',
      message: 'Back-off restarting failed container web',
      incidentId: 'inc-42',
    },
  ],
  truncated: false,
};

export const TOP: Top = {
  kind: 'Top',
  apiVersion: 'kec.io/v1',
  by: 'reason',
  range: { since: ago(24 * H), until: ago(0) },
  items: [
    { key: 'BackOff', namespace: '', detail: 'Warning', occurrences: 1924, events: 95 },
    { key: 'Unhealthy', namespace: '', detail: 'Warning', occurrences: 310, events: 80 },
    { key: 'Pulling', namespace: '', detail: 'Normal', occurrences: 123, events: 94 },
  ],
};
