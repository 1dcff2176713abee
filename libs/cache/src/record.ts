// The compact record the cache keeps per object, and the pure function that makes it from an API object.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const StringMap = Type.Record(Type.String(), Type.String());

export const OwnerRefSchema = Type.Object(
  { kind: Type.String(), name: Type.String(), uid: Type.String(), controller: Type.Boolean() },
  { additionalProperties: false },
);

/** A container's last termination (status.containerStatuses[].lastState.terminated, else state.terminated). */
export const TerminationSchema = Type.Object(
  {
    reason: Type.String(),
    exitCode: Type.Integer(),
    /** 0 when the runtime reported none. */
    signal: Type.Integer(),
    /** RFC 3339, "" when absent. */
    finishedAt: Type.String(),
  },
  { additionalProperties: false },
);

/** What a container's status says about a problem; only containers with a waiting reason or a termination are kept. */
export const ContainerStatusSchema = Type.Object(
  {
    name: Type.String(),
    /** state.waiting.reason (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError...), "" when not waiting. */
    waiting: Type.String(),
    lastTermination: Type.Union([TerminationSchema, Type.Null()]),
    restartCount: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** At most this many containers' statuses per pod (init containers first, then containers). */
export const MAX_CONTAINER_STATUSES = 16;

/** Pod fields worth having on an event. */
export const PodFieldsSchema = Type.Object(
  {
    nodeName: Type.String(),
    podIP: Type.String(),
    phase: Type.String(),
    images: Type.Array(Type.String()),
    /** Sum of restartCount over all containers (init containers included). */
    restarts: Type.Integer({ minimum: 0 }),
    /** Containers that wait or have terminated (absent in records written before it existed). */
    containers: Type.Optional(Type.Array(ContainerStatusSchema, { maxItems: MAX_CONTAINER_STATUSES })),
  },
  { additionalProperties: false },
);

/** Node fields worth having on an event. */
export const NodeFieldsSchema = Type.Object(
  {
    zone: Type.String(),
    region: Type.String(),
    instanceType: Type.String(),
    /** The Ready condition's status: True, False, Unknown, or "" when absent. */
    ready: Type.String(),
    /** Conditions in their bad state (Ready not True; MemoryPressure/DiskPressure/PIDPressure/... True). */
    problems: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const CacheRecordSchema = Type.Object(
  {
    v: Type.Literal(1),
    kind: Type.String(),
    namespace: Type.String(),
    name: Type.String(),
    uid: Type.String(),
    resourceVersion: Type.String(),
    labels: StringMap,
    annotations: StringMap,
    owners: Type.Array(OwnerRefSchema),
    pod: Type.Optional(PodFieldsSchema),
    node: Type.Optional(NodeFieldsSchema),
    /** Who wrote it: the filler's informer, or a reader after a cache-miss GET. */
    source: Type.Union([Type.Literal('informer'), Type.Literal('fetch')]),
    /** Epoch ms of the write. */
    writtenAt: Type.Integer(),
    /** Present on a tombstone: epoch ms when the filler saw the deletion. */
    deletedAt: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

/** Cached answer "the API said 404", kept briefly. */
export const NotFoundRecordSchema = Type.Object(
  {
    v: Type.Literal(1),
    notFound: Type.Literal(true),
    checkedAt: Type.Integer(),
    /** Who found the object missing: a GET answered 404 (default), or an informer current past the event. */
    by: Type.Optional(Type.Union([Type.Literal('get'), Type.Literal('informer')])),
  },
  { additionalProperties: false },
);

export type OwnerRef = Static<typeof OwnerRefSchema>;
export type PodFields = Static<typeof PodFieldsSchema>;
export type ContainerStatus = Static<typeof ContainerStatusSchema>;
export type Termination = Static<typeof TerminationSchema>;
export type NodeFields = Static<typeof NodeFieldsSchema>;
export type CacheRecord = Static<typeof CacheRecordSchema>;
export type NotFoundRecord = Static<typeof NotFoundRecordSchema>;
export type CacheEntry = CacheRecord | NotFoundRecord;

export const CacheRecordValidator = Compile(CacheRecordSchema);

export function isNotFound(e: CacheEntry | undefined): e is NotFoundRecord {
  return e !== undefined && (e as NotFoundRecord).notFound === true;
}

/**
 * Annotation keys that are never cached whatever the allow-list says: serialized objects and other blobs.
 */
export const DENIED_ANNOTATIONS: readonly string[] = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/desired-replicas',
  'control-plane.alpha.kubernetes.io/leader',
  'meta.helm.sh/release-manifest',
  'kapp.k14s.io/original',
  'argocd.argoproj.io/tracking-id',
];

export const DEFAULT_ANNOTATION_ALLOW: readonly string[] = [
  'app.kubernetes.io/*',
  'helm.sh/chart',
  'meta.helm.sh/release-name',
  'meta.helm.sh/release-namespace',
  'deployment.kubernetes.io/revision',
  'kec.io/*',
  'team',
  'owner',
];

export interface CompactOptions {
  /** Allowed annotation keys; `prefix/*` and `prefix*` match by prefix. Default DEFAULT_ANNOTATION_ALLOW. */
  annotationAllow?: readonly string[];
  /** Longer annotation values are dropped (blobs); default 256 characters. */
  maxAnnotationValueLength?: number;
  source?: 'informer' | 'fetch';
  now?: number;
}

/** A compiled annotation filter (compile once per process). */
export function annotationFilter(allow: readonly string[], maxLen: number): (key: string, value: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const a of allow) {
    if (a.endsWith('*')) prefixes.push(a.slice(0, -1));
    else exact.add(a);
  }
  const denied = new Set(DENIED_ANNOTATIONS);
  return (key, value) => {
    if (denied.has(key) || value.length > maxLen) return false;
    if (exact.has(key)) return true;
    for (const p of prefixes) if (key.startsWith(p)) return true;
    return false;
  };
}

const filterCache = new Map<string, (k: string, v: string) => boolean>();

function filterFor(o: CompactOptions): (k: string, v: string) => boolean {
  const allow = o.annotationAllow ?? DEFAULT_ANNOTATION_ALLOW;
  const max = o.maxAnnotationValueLength ?? 256;
  const id = `${max}\u0000${allow.join('\u0000')}`;
  let f = filterCache.get(id);
  if (!f) {
    f = annotationFilter(allow, max);
    filterCache.set(id, f);
  }
  return f;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

const PRESSURE_OK: Record<string, string> = { Ready: 'True' };

/**
 * Compacts a Kubernetes object (full or PartialObjectMetadata) into a cache record. `kind` is passed in because LIST
 * items and PartialObjectMetadata carry no usable kind.
 */
export function compactObject(kind: string, o: Obj, opts: CompactOptions = {}): CacheRecord {
  const md = obj(o.metadata);
  const keep = filterFor(opts);
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(md.annotations))) if (typeof v === 'string' && keep(k, v)) annotations[k] = v;
  const owners: OwnerRef[] = arr(md.ownerReferences).map((r) => {
    const x = obj(r);
    return { kind: str(x.kind), name: str(x.name), uid: str(x.uid), controller: x.controller === true };
  });
  const rec: CacheRecord = {
    v: 1,
    kind,
    namespace: str(md.namespace),
    name: str(md.name),
    uid: str(md.uid),
    resourceVersion: str(md.resourceVersion),
    labels: stringMap(md.labels),
    annotations,
    owners,
    source: opts.source ?? 'informer',
    writtenAt: opts.now ?? Date.now(),
  };
  if (kind === 'Pod') {
    const spec = obj(o.spec);
    const status = obj(o.status);
    const images: string[] = [];
    for (const c of [...arr(spec.initContainers), ...arr(spec.containers)]) {
      const img = str(obj(c).image);
      if (img && !images.includes(img)) images.push(img);
    }
    let restarts = 0;
    const containers: ContainerStatus[] = [];
    for (const cs of [...arr(status.initContainerStatuses), ...arr(status.containerStatuses)]) {
      const x = obj(cs);
      const n = x.restartCount;
      if (typeof n === 'number' && n > 0) restarts += n;
      const c = containerStatus(x);
      if (c && containers.length < MAX_CONTAINER_STATUSES) containers.push(c);
    }
    rec.pod = { nodeName: str(spec.nodeName), podIP: str(status.podIP), phase: str(status.phase), images, restarts };
    if (containers.length) rec.pod.containers = containers;
  } else if (kind === 'Node') {
    const l = rec.labels;
    let ready = '';
    const problems: string[] = [];
    for (const c of arr(obj(o.status).conditions)) {
      const x = obj(c);
      const type = str(x.type);
      const status = str(x.status);
      if (type === 'Ready') ready = status;
      const ok = PRESSURE_OK[type] ?? 'False';
      if (status !== ok) problems.push(type);
    }
    rec.node = {
      zone: l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '',
      region: l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '',
      instanceType: l['node.kubernetes.io/instance-type'] ?? l['beta.kubernetes.io/instance-type'] ?? '',
      ready,
      problems,
    };
  }
  return rec;
}

function termination(t: Record<string, unknown>): Termination | null {
  if (!Object.keys(t).length) return null;
  const code = t.exitCode;
  const sig = t.signal;
  return {
    reason: str(t.reason),
    exitCode: typeof code === 'number' && Number.isInteger(code) ? code : 0,
    signal: typeof sig === 'number' && Number.isInteger(sig) ? sig : 0,
    finishedAt: str(t.finishedAt),
  };
}

/** The problem-relevant part of one containerStatuses[] entry, or null when it neither waits nor has terminated. */
function containerStatus(x: Record<string, unknown>): ContainerStatus | null {
  const state = obj(x.state);
  const waiting = str(obj(state.waiting).reason);
  const last = termination(obj(obj(x.lastState).terminated)) ?? termination(obj(state.terminated));
  if (!waiting && !last) return null;
  const n = x.restartCount;
  return {
    name: str(x.name),
    waiting,
    lastTermination: last,
    restartCount: typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0,
  };
}

/** The controlling owner reference (controller: true), else the first one, else undefined. */
export function controllerOf(rec: CacheRecord): OwnerRef | undefined {
  return rec.owners.find((o) => o.controller) ?? rec.owners[0];
}
