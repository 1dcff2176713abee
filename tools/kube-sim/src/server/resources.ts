// The resource catalogue: what the simulator serves, how discovery describes it, and per-resource server rules.

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceDef {
  group: string; // '' for the core group
  version: string;
  resource: string; // plural
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Storage table shared by cohabiting resources (core and events.k8s.io events: L1). */
  storage: string;
  /** K4: PUT without metadata.resourceVersion is refused with 422 when false. */
  allowUnconditionalUpdate: boolean;
  /** K4: PUT to a missing object creates it when true. */
  allowCreateOnUpdate: boolean;
  /** Field labels accepted by fieldSelector (besides metadata.name / metadata.namespace), mapped to a getter on the stored object. */
  fields: Record<string, (o: StoredObject) => string>;
  /** Zero-value fields a real server puts beside metadata in a BOOKMARK object (L12). */
  bookmarkExtra: Record<string, unknown>;
  /** Served from the watch cache in a real server (gets periodic bookmarks when asked); events are not (L11/L12). */
  cached: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: stored objects are free-form JSON
export type StoredObject = Record<string, any>;

export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return String(v);
}

const eventCoreFields: Record<string, (o: StoredObject) => string> = {
  'involvedObject.kind': (o) => str(o.involvedObject?.kind),
  'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
  'involvedObject.name': (o) => str(o.involvedObject?.name),
  'involvedObject.uid': (o) => str(o.involvedObject?.uid),
  'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
  'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
  'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
  reason: (o) => str(o.reason),
  reportingComponent: (o) => str(o.reportingComponent),
  // pkg/registry/core/event/strategy.go ToSelectableFields: source falls back to reportingController.
  source: (o) => str(o.source?.component) || str(o.reportingComponent),
  type: (o) => str(o.type),
};

// pkg/apis/events/v1/conversion.go: regarding.* and reportingController map onto the core labels; involvedObject.* is rejected.
const eventNewFields: Record<string, (o: StoredObject) => string> = {
  'regarding.kind': eventCoreFields['involvedObject.kind']!,
  'regarding.namespace': eventCoreFields['involvedObject.namespace']!,
  'regarding.name': eventCoreFields['involvedObject.name']!,
  'regarding.uid': eventCoreFields['involvedObject.uid']!,
  'regarding.apiVersion': eventCoreFields['involvedObject.apiVersion']!,
  'regarding.resourceVersion': eventCoreFields['involvedObject.resourceVersion']!,
  'regarding.fieldPath': eventCoreFields['involvedObject.fieldPath']!,
  reportingController: eventCoreFields.reportingComponent!,
  reason: eventCoreFields.reason!,
  type: eventCoreFields.type!,
  source: eventCoreFields.source!,
};

const podFields: Record<string, (o: StoredObject) => string> = {
  'spec.nodeName': (o) => str(o.spec?.nodeName),
  'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
  'spec.schedulerName': (o) => str(o.spec?.schedulerName),
  'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
  'spec.hostNetwork': (o) => String(Boolean(o.spec?.hostNetwork)),
  'status.phase': (o) => str(o.status?.phase),
  'status.podIP': (o) => str(o.status?.podIP),
  'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
};

const eventBookmarkCore = {
  involvedObject: {},
  source: {},
  firstTimestamp: null,
  lastTimestamp: null,
  eventTime: null,
  reportingComponent: '',
  reportingInstance: '',
};
const eventBookmarkNew = {
  eventTime: null,
  regarding: {},
  deprecatedSource: {},
  deprecatedFirstTimestamp: null,
  deprecatedLastTimestamp: null,
};

interface DefInput {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  storage?: string;
  allowUnconditionalUpdate?: boolean;
  allowCreateOnUpdate?: boolean;
  fields?: Record<string, (o: StoredObject) => string>;
  bookmarkExtra?: Record<string, unknown>;
  cached?: boolean;
}

function def(d: DefInput): ResourceDef {
  return {
    group: d.group,
    version: d.version,
    resource: d.resource,
    singular: d.kind.toLowerCase(),
    kind: d.kind,
    namespaced: d.namespaced,
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    storage: d.storage ?? (d.group ? `${d.resource}.${d.group}` : d.resource),
    allowUnconditionalUpdate: d.allowUnconditionalUpdate ?? true,
    allowCreateOnUpdate: d.allowCreateOnUpdate ?? false,
    fields: d.fields ?? {},
    bookmarkExtra: d.bookmarkExtra ?? { spec: {}, status: {} },
    cached: d.cached ?? true,
  };
}

export const RESOURCES: ResourceDef[] = [
  def({
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    fields: { 'status.phase': (o) => str(o.status?.phase) },
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    fields: { 'spec.unschedulable': (o) => String(Boolean(o.spec?.unschedulable)) },
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    fields: podFields,
    bookmarkExtra: { spec: { containers: null }, status: {} },
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    allowCreateOnUpdate: true,
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    shortNames: ['pvc'],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'events',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    storage: 'events',
    allowCreateOnUpdate: true,
    fields: eventCoreFields,
    bookmarkExtra: eventBookmarkCore,
    cached: false,
  }),
  def({
    group: 'events.k8s.io',
    version: 'v1',
    resource: 'events',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    storage: 'events',
    allowCreateOnUpdate: true,
    fields: eventNewFields,
    bookmarkExtra: eventBookmarkNew,
    cached: false,
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    fields: { 'status.replicas': (o) => str(o.status?.replicas ?? 0) },
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
  }),
  def({
    group: 'batch',
    version: 'v1',
    resource: 'jobs',
    kind: 'Job',
    namespaced: true,
    categories: ['all'],
    fields: { 'status.successful': (o) => str(o.status?.succeeded ?? 0) },
  }),
  def({
    group: 'batch',
    version: 'v1',
    resource: 'cronjobs',
    kind: 'CronJob',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
  }),
  def({
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    kind: 'Lease',
    namespaced: true,
    allowUnconditionalUpdate: false,
    allowCreateOnUpdate: true,
    bookmarkExtra: { spec: {} },
  }),
];

export function apiVersionOf(d: ResourceDef): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

export function apiResourceList(group: string, version: string): unknown | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: defs.map((r) => {
      const e: Record<string, unknown> = {
        name: r.resource,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ALL_VERBS,
      };
      if (r.shortNames.length) e.shortNames = r.shortNames;
      if (r.categories.length) e.categories = r.categories;
      return e;
    }),
  };
}

export function apiGroup(group: string): unknown | undefined {
  const versions = groupVersions().filter((g) => g.group === group);
  if (!group || versions.length === 0) return undefined;
  const gv = versions.map((v) => ({ groupVersion: `${group}/${v.version}`, version: v.version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: gv, preferredVersion: gv[0] };
}

export function apiGroupList(): unknown {
  const groups = [...new Set(RESOURCES.map((r) => r.group).filter((g) => g))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g)) };
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** /openapi/v3 root: one entry per group-version, as kubectl's openapi3 client expects. */
export function openApiV3Root(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const g of groupVersions()) {
    const p = gvPath(g.group, g.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=kube-sim` };
  }
  return { paths };
}

/**
 * A minimal OpenAPI v3 document for a group-version: only the item PATCH operations with their GVK and the
 * fieldValidation parameter, which is what kubectl checks to choose server-side field validation. No schemas.
 */
export function openApiV3GroupVersion(path: string): unknown | undefined {
  const gv = groupVersions().find((g) => gvPath(g.group, g.version) === path);
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES.filter((d) => d.group === gv.group && d.version === gv.version)) {
    const base = `/${path}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${r.kind}`,
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
          name,
          in: 'query',
          schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
        })),
        responses: {},
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.34.0' },
    paths,
    components: { schemas: {} },
  };
}
