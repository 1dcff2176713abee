// Resource verbs: route parsing, get/list/create/update/patch/delete with the apiserver's rules (L3, L7, L8, L10, E3, K4, G3).
import { randomUUID } from 'node:crypto';
import { errors, KubeStatusError, statusBody } from './errors.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { fromStored, itemJson, nowTime, objectJson, type Rendering, toStored } from './render.ts';
import { apiVersionOf, findResource, type ResourceDef, type StoredObject, type Verb } from './resources.ts';
import {
  type FieldSelector,
  type LabelSelector,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.ts';
import { cmp, type Rec, type Store, stampRv } from './store.ts';
import { eventTable } from './table.ts';

export interface Route {
  def: ResourceDef;
  namespace: string; // '' when cluster-wide or cluster-scoped
  name: string; // '' for a collection
  subresource: string;
  watchPrefix: boolean; // deprecated /watch/ form
}

/** Parses /api/v1/... and /apis/<g>/<v>/... resource paths; undefined when not a resource path. */
export function parseRoute(pathname: string): Route | undefined {
  const seg = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 3) {
    group = '';
    version = seg[1]!;
    rest = seg.slice(2);
  } else if (seg[0] === 'apis' && seg.length >= 4) {
    group = seg[1]!;
    version = seg[2]!;
    rest = seg.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const def = findResource(group, version, rest[0] ?? '');
  if (!def) return undefined;
  if (namespace && !def.namespaced) return undefined;
  if (rest.length > 3) return undefined;
  const subresource = rest[2] ?? '';
  if (subresource && subresource !== 'status') return undefined;
  return { def, namespace, name: rest[1] ?? '', subresource, watchPrefix };
}

export function verbOf(method: string, route: Route, query: URLSearchParams): Verb | undefined {
  const isWatch = route.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
      if (route.name) return isWatch ? 'watch' : 'get';
      return isWatch ? 'watch' : 'list';
    case 'POST':
      return route.name ? undefined : 'create';
    case 'PUT':
      return route.name ? 'update' : undefined;
    case 'PATCH':
      return route.name ? 'patch' : undefined;
    case 'DELETE':
      return route.name ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

export function renderingFromAccept(accept: string | undefined): Rendering {
  if (accept && /as=PartialObjectMetadata(List)?\b/.test(accept) && /g=meta\.k8s\.io/.test(accept)) return 'partial';
  return 'full';
}

export interface ApiResult {
  status: number;
  json: string;
}

export interface ApiContext {
  store: Store;
  now(): number;
  continueTtlSeconds: number;
  strictNamespaces: boolean;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const GEN_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function keyOf(def: ResourceDef, ns: string, name: string): string {
  return def.namespaced ? `${ns}/${name}` : name;
}

function parseRv(v: string, what = 'resourceVersion'): number {
  if (!/^\d+$/.test(v)) throw errors.badRequest(`invalid ${what}: strconv.ParseUint: parsing "${v}": invalid syntax`);
  return Number(v);
}

function listOptionsInvalid(field: string, message: string): KubeStatusError {
  return new KubeStatusError(
    statusBody(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${field}: ${message}`, {
      group: 'meta.k8s.io',
      kind: 'ListOptions',
      causes: [{ reason: 'FieldValueForbidden', message, field }],
    }),
  );
}

interface Snapshot {
  items: Rec[];
  rv: number;
  expires: number;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
  t: number;
}

export class ResourceApi {
  private snapshots = new Map<string, Snapshot>();
  private ctx: ApiContext;

  constructor(ctx: ApiContext) {
    this.ctx = ctx;
  }

  private get store(): Store {
    return this.ctx.store;
  }

  // --- read ------------------------------------------------------------------------------------------------

  get(route: Route, as: Rendering): ApiResult {
    const { def } = route;
    const rec = this.store.get(def.storage, keyOf(def, route.namespace, route.name));
    if (!rec) throw errors.notFound(def.resource, def.group, route.name);
    if (as === 'table') return { status: 200, json: eventTable([rec.json], {}, this.ctx.now()) };
    return { status: 200, json: objectJson(def, rec.json, as) };
  }

  selectors(def: ResourceDef, query: URLSearchParams): { labels?: LabelSelector; fields?: FieldSelector } {
    return {
      labels: parseLabelSelector(query.get('labelSelector')),
      fields: parseFieldSelector(query.get('fieldSelector'), def),
    };
  }

  static matches(rec: Rec, sel: { labels?: LabelSelector; fields?: FieldSelector }): boolean {
    if (!matchLabels(sel.labels, rec.labels)) return false;
    if (sel.fields && !matchFields(sel.fields, JSON.parse(rec.json))) return false;
    return true;
  }

  list(route: Route, query: URLSearchParams, as: Rendering): ApiResult {
    const { def } = route;
    const sel = this.selectors(def, query);
    const rvParam = query.get('resourceVersion');
    const rvMatch = query.get('resourceVersionMatch') ?? '';
    const limitParam = query.get('limit');
    const limit = limitParam ? Number(limitParam) : 0;
    const cont = query.get('continue') ?? '';
    if (query.get('sendInitialEvents') !== null) {
      throw listOptionsInvalid('sendInitialEvents', 'Forbidden: sendInitialEvents is forbidden for list');
    }
    if (rvMatch && (rvParam === null || rvParam === '')) {
      throw listOptionsInvalid(
        'resourceVersionMatch',
        'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      );
    }
    if (rvMatch && rvMatch !== 'Exact' && rvMatch !== 'NotOlderThan') {
      throw listOptionsInvalid(
        'resourceVersionMatch',
        `Unsupported value: "${rvMatch}": supported values: "Exact", "NotOlderThan"`,
      );
    }
    if (rvMatch === 'Exact' && rvParam === '0') {
      throw listOptionsInvalid(
        'resourceVersionMatch',
        'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      );
    }
    const prefix = def.namespaced && route.namespace ? `${route.namespace}/` : '';
    const snapKey = `${def.storage}|${prefix}`;
    let snap: Rec[];
    let snapRv: number;
    let pos = 0;
    if (cont) {
      if (rvParam) throw errors.badRequest('specifying resource version is not allowed when using continue');
      const tok = this.decodeContinue(cont);
      const now = this.ctx.now();
      if (now - tok.t > this.ctx.continueTtlSeconds * 1000 || this.store.isTooOld(tok.rv)) {
        throw errors.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      snapRv = tok.rv;
      const cached = this.snapshots.get(`${snapKey}|${snapRv}`);
      snap = cached ? cached.items : this.store.snapshotAt(def.storage, prefix, snapRv);
      pos = lowerBound(snap, tok.start);
    } else {
      let target = this.store.rv;
      if (rvParam && rvParam !== '0') {
        const n = parseRv(rvParam);
        const exact = rvMatch === 'Exact' || (rvMatch === '' && limit > 0);
        if (n > this.store.rv) throw errors.tooLargeResourceVersion(n, this.store.rv);
        if (exact) {
          if (this.store.isTooOld(n)) throw errors.gone('The resourceVersion for the provided list is too old.');
          target = n;
        }
      }
      snapRv = target;
      snap = this.store.snapshotAt(def.storage, prefix, target);
    }
    const items: string[] = [];
    let i = pos;
    for (; i < snap.length; i++) {
      if (limit > 0 && items.length >= limit) break;
      const rec = snap[i]!;
      if (!ResourceApi.matches(rec, sel)) continue;
      items.push(as === 'table' ? rec.json : itemJson(def, rec.json, as));
    }
    const meta: Record<string, unknown> = { resourceVersion: String(snapRv) };
    if (limit > 0 && i < snap.length) {
      const last = snap[i - 1]!;
      meta.continue = this.encodeContinue({
        v: 'meta.k8s.io/v1',
        rv: snapRv,
        start: `${last.key}\u0000`,
        t: this.ctx.now(),
      });
      if (!sel.labels && !sel.fields) meta.remainingItemCount = snap.length - i;
      this.keepSnapshot(`${snapKey}|${snapRv}`, snap, snapRv);
    }
    if (as === 'table') return { status: 200, json: eventTable(items, meta, this.ctx.now()) };
    const kind = as === 'partial' ? 'PartialObjectMetadataList' : `${def.kind}List`;
    const apiVersion = as === 'partial' ? 'meta.k8s.io/v1' : apiVersionOf(def);
    const json = `{"kind":"${kind}","apiVersion":"${apiVersion}","metadata":${JSON.stringify(meta)},"items":[${items.join(',')}]}`;
    return { status: 200, json };
  }

  private keepSnapshot(key: string, items: Rec[], rv: number): void {
    const now = this.ctx.now();
    for (const [k, s] of this.snapshots) if (s.expires <= now) this.snapshots.delete(k);
    if (this.snapshots.size >= 32) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.snapshots.set(key, { items, rv, expires: now + this.ctx.continueTtlSeconds * 1000 });
  }

  private encodeContinue(t: ContinueToken): string {
    return Buffer.from(JSON.stringify(t)).toString('base64url');
  }

  private decodeContinue(s: string): ContinueToken {
    try {
      const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken;
      if (
        t.v !== 'meta.k8s.io/v1' ||
        typeof t.rv !== 'number' ||
        typeof t.start !== 'string' ||
        typeof t.t !== 'number'
      ) {
        throw new Error('bad token');
      }
      return t;
    } catch {
      throw errors.badRequest(
        `continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`,
      );
    }
  }

  // --- write -----------------------------------------------------------------------------------------------

  private checkTypeMeta(def: ResourceDef, body: StoredObject): void {
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(def)) {
      throw errors.badRequest(
        `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(def)})`,
      );
    }
    if (body.kind !== undefined && body.kind !== def.kind) {
      throw errors.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${def.kind})`);
    }
  }

  private requireBody(body: unknown): StoredObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw errors.badRequest("Object 'Kind' is missing in the request body");
    }
    return body as StoredObject;
  }

  private validateName(def: ResourceDef, name: string): void {
    const isNs = def.resource === 'namespaces';
    const isSvc = def.resource === 'services';
    const re = isNs ? DNS1123_LABEL : isSvc ? DNS1035_LABEL : DNS1123_SUBDOMAIN;
    const max = isNs || isSvc ? 63 : 253;
    if (!re.test(name) || name.length > max) {
      const what = isNs
        ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        : isSvc
          ? "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
          : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
      throw errors.invalid(def.kind, def.group, name, [
        { field: 'metadata.name', message: `Invalid value: "${name}": ${what}` },
      ]);
    }
  }

  /** Semantic validation after conversion to the stored form (events: ValidateEventCreate/legacyValidateEvent). */
  private validate(def: ResourceDef, o: StoredObject, name: string, creating: boolean): void {
    const causes: { field: string; message: string; reason?: string }[] = [];
    const inv = (field: string, value: unknown, why: string) =>
      causes.push({ field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` });
    const req = (field: string) => causes.push({ field, message: 'Required value', reason: 'FieldValueRequired' });
    if (def.storage === 'events') {
      const ns = o.metadata?.namespace ?? '';
      const ioNs = o.involvedObject?.namespace ?? '';
      const rc = def.group ? 'reportingController' : 'reportingComponent';
      if (!o.eventTime) {
        if (ioNs === '' ? ns !== '' && ns !== 'default' : ns !== ioNs) {
          inv('involvedObject.namespace', ioNs, 'does not match event.namespace');
        }
      } else {
        if (ioNs === '' && ns !== 'default' && ns !== 'kube-system') {
          inv('involvedObject.namespace', ioNs, 'does not match event.namespace');
        }
        if (!o.reportingComponent) req(rc);
        if (!o.reportingInstance) req('reportingInstance');
        else if (String(o.reportingInstance).length > 128)
          inv('reportingInstance', '', 'can have at most 128 characters');
        if (!o.action) req('action');
        if (!o.reason) req('reason');
      }
      if (creating && def.group === 'events.k8s.io') {
        if (!o.eventTime) req('eventTime');
        if (o.type !== 'Normal' && o.type !== 'Warning') inv('type', '', `has invalid value: ${o.type ?? ''}`);
        if (o.firstTimestamp) inv('deprecatedFirstTimestamp', '', 'needs to be unset');
        if (o.lastTimestamp) inv('deprecatedLastTimestamp', '', 'needs to be unset');
        if (o.count) inv('deprecatedCount', '', 'needs to be unset');
        if (o.source?.component || o.source?.host) inv('deprecatedSource', '', 'needs to be unset');
        if (o.message && String(o.message).length > 1024) inv('note', '', 'can have at most 1024 characters');
      }
      if (o.series) {
        if ((o.series.count ?? 0) < 2) inv('series.count', '', 'should be at least 2');
        if (!o.series.lastObservedTime) req('series.lastObservedTime');
      }
    }
    if (def.resource === 'leases' && o.spec) {
      const d = o.spec.leaseDurationSeconds;
      if (d !== undefined && d !== null && !(Number(d) > 0))
        inv('spec.leaseDurationSeconds', d, 'must be greater than 0');
      const t = o.spec.leaseTransitions;
      if (t !== undefined && t !== null && Number(t) < 0)
        inv('spec.leaseTransitions', t, 'must be greater than or equal to 0');
    }
    if (causes.length) throw errors.invalid(def.kind, def.group, name, causes);
  }

  private orderMeta(m: StoredObject): StoredObject {
    const order = [
      'name',
      'generateName',
      'namespace',
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'labels',
      'annotations',
      'ownerReferences',
      'finalizers',
    ];
    const out: StoredObject = {};
    for (const k of order) if (m[k] !== undefined && m[k] !== null && m[k] !== '') out[k] = m[k];
    for (const k of Object.keys(m)) if (!(k in out) && !order.includes(k) && k !== 'selfLink') out[k] = m[k];
    return out;
  }

  private makeRec(def: ResourceDef, o: StoredObject, rv: number): Rec {
    const m = o.metadata;
    m.resourceVersion = String(rv);
    o.metadata = this.orderMeta(m);
    const labels = o.metadata.labels && Object.keys(o.metadata.labels).length ? o.metadata.labels : undefined;
    const ns = def.namespaced ? o.metadata.namespace : '';
    return {
      key: keyOf(def, ns, o.metadata.name),
      ns,
      name: o.metadata.name,
      rv,
      json: JSON.stringify(o),
      labels,
      uid: o.metadata.uid,
    };
  }

  private ensureNamespace(def: ResourceDef, ns: string, name: string): void {
    if (!def.namespaced) return;
    const rec = this.store.get('namespaces', ns);
    if (!rec) {
      if (this.ctx.strictNamespaces) throw errors.notFound('namespaces', '', ns);
      return;
    }
    if (rec.json.includes('"deletionTimestamp"')) {
      throw new KubeStatusError(
        statusBody(
          403,
          'Forbidden',
          `${def.group ? `${def.resource}.${def.group}` : def.resource} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
          { name: ns, kind: 'namespaces' },
        ),
      );
    }
  }

  create(route: Route, bodyIn: unknown, query: URLSearchParams, as: Rendering): ApiResult {
    const { def } = route;
    if (route.name) throw errors.methodNotAllowed();
    const body = this.requireBody(bodyIn);
    this.checkTypeMeta(def, body);
    const meta: StoredObject = { ...(body.metadata ?? {}) };
    if (def.namespaced) {
      const ns = route.namespace;
      if (!ns) throw errors.pathNotFound();
      if (meta.namespace && meta.namespace !== ns) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = ns;
    } else delete meta.namespace;
    if (meta.resourceVersion) throw errors.internal('resourceVersion should not be set on objects to be created');
    if (!meta.name) {
      if (!meta.generateName) {
        throw errors.invalid(def.kind, def.group, '', [
          {
            field: 'metadata.name',
            message: 'Required value: name or generateName is required',
            reason: 'FieldValueRequired',
          },
        ]);
      }
      let n = '';
      do {
        let suffix = '';
        for (let k = 0; k < 5; k++) suffix += GEN_CHARS[Math.floor(Math.random() * GEN_CHARS.length)];
        n = `${meta.generateName}${suffix}`;
      } while (this.store.get(def.storage, keyOf(def, meta.namespace ?? '', n)));
      meta.name = n;
    }
    this.validateName(def, meta.name);
    this.ensureNamespace(def, meta.namespace ?? '', meta.name);
    return this.insert(def, { ...body, metadata: meta }, query, as, 201);
  }

  private insert(
    def: ResourceDef,
    body: StoredObject,
    query: URLSearchParams,
    as: Rendering,
    status: number,
  ): ApiResult {
    const meta = body.metadata;
    const key = keyOf(def, meta.namespace ?? '', meta.name);
    if (this.store.get(def.storage, key)) throw errors.alreadyExists(def.resource, def.group, meta.name);
    const o = toStored(def, { ...body, metadata: { ...meta } });
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = nowTime(this.ctx.now());
    delete o.metadata.deletionTimestamp;
    delete o.metadata.resourceVersion;
    if (def.group === 'apps' || def.group === 'batch') o.metadata.generation = 1;
    if (def.resource === 'namespaces') {
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': meta.name };
      o.spec = { finalizers: ['kubernetes'], ...(o.spec ?? {}) };
      o.status = { phase: 'Active', ...(o.status ?? {}) };
    }
    this.validate(def, o, meta.name, true);
    if (query.get('dryRun') === 'All') {
      const rec = this.makeRec(def, o, 0);
      return { status, json: objectJson(def, rec.json, as) };
    }
    const rec = this.makeRec(def, o, this.store.nextRv());
    this.store.put(def.storage, rec);
    return { status, json: objectJson(def, rec.json, as) };
  }

  update(route: Route, bodyIn: unknown, query: URLSearchParams, as: Rendering): ApiResult {
    const { def } = route;
    const body = this.requireBody(bodyIn);
    this.checkTypeMeta(def, body);
    const meta: StoredObject = { ...(body.metadata ?? {}) };
    if ((meta.name ?? '') !== route.name) {
      throw errors.badRequest(
        `the name of the object (${meta.name ?? ''}) does not match the name on the URL (${route.name})`,
      );
    }
    if (def.namespaced) {
      if (meta.namespace && meta.namespace !== route.namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = route.namespace;
    } else delete meta.namespace;
    const existing = this.store.get(def.storage, keyOf(def, route.namespace, route.name));
    if (!existing) {
      if (!def.allowCreateOnUpdate) throw errors.notFound(def.resource, def.group, route.name);
      if (meta.uid) {
        throw errors.conflict(
          def.resource,
          def.group,
          route.name,
          `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: `,
        );
      }
      this.validateName(def, route.name);
      this.ensureNamespace(def, route.namespace, route.name);
      delete meta.resourceVersion;
      return this.insert(def, { ...body, metadata: meta }, query, as, 201);
    }
    if (!meta.resourceVersion) {
      if (!def.allowUnconditionalUpdate) {
        throw errors.invalid(def.kind, def.group, route.name, [
          { field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' },
        ]);
      }
    } else if (parseRv(String(meta.resourceVersion)) !== existing.rv) {
      throw errors.conflict(
        def.resource,
        def.group,
        route.name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    if (meta.uid && meta.uid !== existing.uid) {
      throw errors.conflict(
        def.resource,
        def.group,
        route.name,
        `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${existing.uid}`,
      );
    }
    return this.replace(def, existing, { ...body, metadata: meta }, query, as);
  }

  /** Writes a new version of an existing object; a write that changes nothing keeps the RV and emits no event. */
  private replace(
    def: ResourceDef,
    existing: Rec,
    body: StoredObject,
    query: URLSearchParams,
    as: Rendering,
  ): ApiResult {
    const old = JSON.parse(existing.json) as StoredObject;
    const o = toStored(def, { ...body, metadata: { ...body.metadata } });
    o.metadata.uid = old.metadata.uid;
    o.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.generation !== undefined) {
      const specChanged = JSON.stringify(o.spec) !== JSON.stringify(old.spec);
      o.metadata.generation = old.metadata.generation + (specChanged ? 1 : 0);
    }
    this.validate(def, o, existing.name, false);
    const same = this.makeRec(def, structuredClone(o), existing.rv);
    if (same.json === existing.json || query.get('dryRun') === 'All') {
      return { status: 200, json: objectJson(def, same.json, as) };
    }
    const rec = this.makeRec(def, o, this.store.nextRv());
    this.store.put(def.storage, rec);
    return { status: 200, json: objectJson(def, rec.json, as) };
  }

  patch(route: Route, patchBody: unknown, contentType: string, query: URLSearchParams, as: Rendering): ApiResult {
    const { def } = route;
    const ct = contentType.split(';')[0]!.trim();
    if (
      ct !== 'application/merge-patch+json' &&
      ct !== 'application/strategic-merge-patch+json' &&
      ct !== 'application/json-patch+json'
    ) {
      throw errors.unsupportedMediaType(ct);
    }
    const existing = this.store.get(def.storage, keyOf(def, route.namespace, route.name));
    if (!existing) throw errors.notFound(def.resource, def.group, route.name);
    const current = { kind: def.kind, apiVersion: apiVersionOf(def), ...fromStored(def, JSON.parse(existing.json)) };
    const patched = (
      ct === 'application/json-patch+json'
        ? jsonPatch(current, patchBody)
        : ct === 'application/strategic-merge-patch+json'
          ? strategicMergePatch(current, patchBody)
          : mergePatch(current, patchBody)
    ) as StoredObject;
    if (typeof patched !== 'object' || patched === null) throw errors.badRequest('patch produced a non-object');
    const meta = { ...(patched.metadata ?? {}) };
    if (meta.name !== route.name) {
      throw errors.badRequest(
        `the name of the object (${meta.name ?? ''}) does not match the name on the URL (${route.name})`,
      );
    }
    if (def.namespaced && meta.namespace !== route.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.resourceVersion && String(meta.resourceVersion) !== String(existing.rv)) {
      throw errors.conflict(
        def.resource,
        def.group,
        route.name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    if (meta.uid && meta.uid !== existing.uid) {
      throw errors.conflict(
        def.resource,
        def.group,
        route.name,
        `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${existing.uid}`,
      );
    }
    this.checkTypeMeta(def, patched);
    return this.replace(def, existing, { ...patched, metadata: meta }, query, as);
  }

  delete(route: Route, bodyIn: unknown, query: URLSearchParams, as: Rendering): ApiResult {
    const { def } = route;
    const existing = this.store.get(def.storage, keyOf(def, route.namespace, route.name));
    if (!existing) throw errors.notFound(def.resource, def.group, route.name);
    const opts = (typeof bodyIn === 'object' && bodyIn !== null ? bodyIn : {}) as StoredObject;
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.uid) {
      throw errors.conflict(
        def.resource,
        def.group,
        route.name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.uid}`,
      );
    }
    if (pre.resourceVersion && String(pre.resourceVersion) !== String(existing.rv)) {
      throw errors.conflict(
        def.resource,
        def.group,
        route.name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.rv}`,
      );
    }
    if (query.get('dryRun') === 'All') return this.deleteResult(def, existing, as);
    if (def.resource === 'namespaces') return this.deleteNamespace(def, existing, as);
    const rv = this.store.nextRv();
    const o = JSON.parse(existing.json);
    o.metadata.resourceVersion = String(rv);
    const tomb: Rec = { ...existing, rv, json: JSON.stringify(o) };
    this.store.remove(def.storage, tomb);
    return this.deleteResult(def, tomb, as);
  }

  /**
   * Namespace deletion as the namespace controller does it: the namespace turns Terminating (the response),
   * then, right after, every object in it is deleted (each at its own RV) and finally the namespace itself.
   */
  private deleteNamespace(def: ResourceDef, existing: Rec, as: Rendering): ApiResult {
    const ns = existing.name;
    const o = JSON.parse(existing.json) as StoredObject;
    if (!o.metadata.deletionTimestamp) {
      o.metadata.deletionTimestamp = nowTime(this.ctx.now());
      o.status = { ...(o.status ?? {}), phase: 'Terminating' };
      const rec = this.makeRec(def, o, this.store.nextRv());
      this.store.put(def.storage, rec);
      setImmediate(() => {
        for (const storage of this.store.storages()) {
          if (storage === 'namespaces' || storage === 'nodes') continue;
          for (const r of this.store.snapshotAt(storage, `${ns}/`, this.store.rv)) {
            this.store.remove(storage, stampRv(r, this.store.nextRv()));
          }
        }
        const cur = this.store.get('namespaces', ns);
        if (cur) this.store.remove('namespaces', stampRv(cur, this.store.nextRv()));
      });
      return { status: 200, json: objectJson(def, rec.json, as) };
    }
    return { status: 200, json: objectJson(def, existing.json, as) };
  }

  private deleteResult(def: ResourceDef, tomb: Rec, as: Rendering): ApiResult {
    // Pods answer with the object (graceful deletion); the generic registry answers with a Success Status.
    if (def.resource === 'pods') return { status: 200, json: objectJson(def, tomb.json, as) };
    const details: Record<string, unknown> = { name: tomb.name };
    if (def.group) details.group = def.group;
    details.kind = def.resource;
    details.uid = tomb.uid;
    return {
      status: 200,
      json: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }),
    };
  }

  deleteCollection(route: Route, query: URLSearchParams, as: Rendering): ApiResult {
    const { def } = route;
    const sel = this.selectors(def, query);
    const prefix = def.namespaced && route.namespace ? `${route.namespace}/` : '';
    const items: string[] = [];
    for (const rec of this.store.snapshotAt(def.storage, prefix, this.store.rv)) {
      if (!ResourceApi.matches(rec, sel)) continue;
      const rv = this.store.nextRv();
      const o = JSON.parse(rec.json);
      o.metadata.resourceVersion = String(rv);
      const tomb: Rec = { ...rec, rv, json: JSON.stringify(o) };
      this.store.remove(def.storage, tomb);
      items.push(itemJson(def, tomb.json, as));
    }
    const kind = as === 'partial' ? 'PartialObjectMetadataList' : `${def.kind}List`;
    const apiVersion = as === 'partial' ? 'meta.k8s.io/v1' : apiVersionOf(def);
    return {
      status: 200,
      json: `{"kind":"${kind}","apiVersion":"${apiVersion}","metadata":{"resourceVersion":"${this.store.rv}"},"items":[${items.join(',')}]}`,
    };
  }
}

function lowerBound(a: Rec[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmp(a[mid]!.key, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
