// The object kinds the cache holds, how to reach them on the API (research G1), and whether metadata is enough.

export interface KindInfo {
  kind: string;
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name. */
  resource: string;
  namespaced: boolean;
  /**
   * true: labels, annotations and owner references are all the cache keeps, so the informer asks for
   * PartialObjectMetadata. Pods and nodes need spec/status fields (node, IP, phase, images, restarts; zone, conditions).
   */
  metadataOnly: boolean;
}

const k = (kind: string, group: string, resource: string, namespaced: boolean, metadataOnly: boolean): KindInfo => ({
  kind,
  group,
  version: 'v1',
  resource,
  namespaced,
  metadataOnly,
});

/** Every kind the filler keeps warm, in the order it starts their informers (owners before dependents). */
export const CACHED_KINDS: readonly KindInfo[] = [
  k('Namespace', '', 'namespaces', false, true),
  k('Node', '', 'nodes', false, false),
  k('Deployment', 'apps', 'deployments', true, true),
  k('StatefulSet', 'apps', 'statefulsets', true, true),
  k('DaemonSet', 'apps', 'daemonsets', true, true),
  k('ReplicaSet', 'apps', 'replicasets', true, true),
  k('CronJob', 'batch', 'cronjobs', true, true),
  k('Job', 'batch', 'jobs', true, true),
  k('PersistentVolumeClaim', '', 'persistentvolumeclaims', true, true),
  k('Service', '', 'services', true, true),
  k('Pod', '', 'pods', true, false),
];

const BY_KIND = new Map(CACHED_KINDS.map((i) => [i.kind, i]));

export function kindInfo(kind: string): KindInfo | undefined {
  return BY_KIND.get(kind);
}

/** Collection path across all namespaces: /api/v1/pods, /apis/apps/v1/replicasets. */
export function collectionPath(info: KindInfo): string {
  return info.group ? `/apis/${info.group}/${info.version}/${info.resource}` : `/api/${info.version}/${info.resource}`;
}

/** Object path (G1): /api/v1/namespaces/{ns}/pods/{n}, /api/v1/nodes/{n}. */
export function objectPath(info: KindInfo, namespace: string, name: string): string {
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  const ns = info.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.resource}/${encodeURIComponent(name)}`;
}
