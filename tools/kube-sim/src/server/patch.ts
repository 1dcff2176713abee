// PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (common merge keys, see README), JSON patch (RFC 6902).
import { errors } from './errors.ts';
import type { StoredObject } from './resources.ts';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch;
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k.startsWith('$retainKeys')) continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// patchMergeKey of the list fields kec's fixtures and recorders touch (k8s.io/api struct tags).
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  ephemeralContainerStatuses: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  taints: 'key',
  addresses: 'type',
  images: 'names',
};
// Primitive lists with patchStrategy "merge" (set union).
const MERGE_PRIMITIVE = new Set(['finalizers']);

/**
 * Strategic merge patch for the common cases: maps merge, `null` deletes, lists with a known patchMergeKey
 * merge by that key (`$patch: delete` removes an element), `finalizers` unions, other lists replace.
 * `$patch: replace` on a map replaces it; `$setElementOrder`/`$retainKeys` directives are ignored.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    const key = MERGE_KEYS[k];
    if (Array.isArray(v) && Array.isArray(cur) && key) {
      const merged = [...cur];
      for (const el of v) {
        if (!isObj(el) || !(key in el)) {
          merged.push(el);
          continue;
        }
        const idx = merged.findIndex((m) => isObj(m) && JSON.stringify(m[key]) === JSON.stringify(el[key]));
        if (el.$patch === 'delete') {
          if (idx >= 0) merged.splice(idx, 1);
        } else if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], el);
        else merged.push(strategicMergePatch(undefined, el));
      }
      out[k] = merged;
    } else if (Array.isArray(v) && Array.isArray(cur) && MERGE_PRIMITIVE.has(k)) {
      out[k] = [...new Set([...cur, ...v])];
    } else {
      const r = strategicMergePatch(cur, v);
      if (r === undefined) delete out[k];
      else out[k] = r;
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$deleteFromPrimitiveList/') || !Array.isArray(v)) continue;
    const field = k.slice('$deleteFromPrimitiveList/'.length);
    if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x));
  }
  return out;
}

function unescapePtr(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePtr(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/'))
    throw errors.badRequest(
      `the server rejected our request due to an error in our request: invalid JSON pointer ${p}`,
    );
  return p.slice(1).split('/').map(unescapePtr);
}

function getAt(doc: unknown, path: string[]): unknown {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObj(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, path: string[]): { parent: unknown; last: string } {
  const parent = getAt(doc, path.slice(0, -1));
  if (parent === undefined || (typeof parent !== 'object' && parent !== null)) {
    throw errors.internal(`jsonpatch: doc is missing path: "/${path.join('/')}": missing value`);
  }
  return { parent, last: path[path.length - 1]! };
}

function addAt(doc: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const idx = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx > parent.length)
      throw errors.internal('jsonpatch: add index out of bounds');
    parent.splice(idx, 0, value);
  } else (parent as Record<string, unknown>)[last] = value;
  return doc;
}

function removeAt(doc: unknown, path: string[]): unknown {
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const idx = Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length)
      throw errors.internal('jsonpatch: remove index out of bounds');
    parent.splice(idx, 1);
  } else {
    if (!Object.hasOwn(parent as object, last))
      throw errors.internal(`jsonpatch: doc is missing key: /${path.join('/')}`);
    delete (parent as Record<string, unknown>)[last];
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw errors.badRequest(
      'the server rejected our request due to an error in our request: json patch must be an array',
    );
  let doc = structuredClone(target);
  for (const op of ops as StoredObject[]) {
    const path = parsePtr(String(op.path ?? ''));
    switch (op.op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(op.value));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        doc = removeAt(doc, path);
        doc = addAt(doc, path, structuredClone(op.value));
        break;
      case 'move': {
        const from = parsePtr(String(op.from ?? ''));
        const v = getAt(doc, from);
        doc = removeAt(doc, from);
        doc = addAt(doc, path, v);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, structuredClone(getAt(doc, parsePtr(String(op.from ?? '')))));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op.value)) {
          throw errors.internal(`testing value /${path.join('/')} failed: test failed`);
        }
        break;
      default:
        throw errors.badRequest(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}
