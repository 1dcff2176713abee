// Kubernetes label selectors (`app=web,tier!=db,env in (a,b),!canary,team`) parsed into requirements, evaluated
// on a label map (for /watch) or turned into parameter-bound SQL on a Map column (for the store).
import { BadRequestError } from './errors.ts';

export type SelectorOp = 'exists' | 'notexists' | '=' | '!=' | 'in' | 'notin';
export interface Requirement {
  key: string;
  op: SelectorOp;
  values: string[];
}

const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

function checkKey(key: string, selector: string): string {
  const slash = key.indexOf('/');
  const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if ((prefix !== undefined && !PREFIX.test(prefix)) || !NAME.test(name)) {
    throw new BadRequestError(`labelSelector "${selector}": invalid label key "${key}"`, { field: 'labelSelector' });
  }
  return key;
}

function checkValue(v: string, selector: string): string {
  if (v !== '' && !NAME.test(v)) {
    throw new BadRequestError(`labelSelector "${selector}": invalid label value "${v}"`, { field: 'labelSelector' });
  }
  return v;
}

/** Splits at top-level commas (not inside `( )`). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Parses a selector; throws BadRequestError (field labelSelector) with the offending part. */
export function parseSelector(selector: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const raw of splitTop(selector)) {
    const part = raw.trim();
    if (part === '')
      throw new BadRequestError(`labelSelector "${selector}": empty requirement`, { field: 'labelSelector' });
    const not = /^!\s*([^\s=!(),]+)$/.exec(part);
    const eq = not ? null : /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(part);
    const set = not || eq ? null : /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    const exists = not || eq || set ? null : /^([^\s=!(),]+)$/.exec(part);
    if (not) {
      reqs.push({ key: checkKey(not[1] as string, selector), op: 'notexists', values: [] });
    } else if (eq) {
      const op = eq[2] === '!=' ? '!=' : '=';
      reqs.push({ key: checkKey(eq[1] as string, selector), op, values: [checkValue(eq[3] as string, selector)] });
    } else if (set) {
      if ((set[3] as string).trim() === '') {
        throw new BadRequestError(`labelSelector "${selector}": "${part}" needs at least one value`, {
          field: 'labelSelector',
        });
      }
      const values = (set[3] as string).split(',').map((v) => checkValue(v.trim(), selector));
      reqs.push({ key: checkKey(set[1] as string, selector), op: set[2] as 'in' | 'notin', values });
    } else if (exists) {
      reqs.push({ key: checkKey(exists[1] as string, selector), op: 'exists', values: [] });
    } else {
      throw new BadRequestError(`labelSelector "${selector}": cannot parse "${part}"`, { field: 'labelSelector' });
    }
  }
  return reqs;
}

/** Kubernetes semantics: `!=` and `notin` also match objects without the key. */
export function matchesSelector(reqs: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v as string);
      case 'notin':
        return !has || !r.values.includes(v as string);
    }
    return false;
  });
}

/**
 * SQL conditions on a `Map(String, String)` expression, every key and value a bound parameter named
 * `<prefix><i>k` / `<prefix><i>v`.
 */
export function selectorSql(
  reqs: readonly Requirement[],
  column: string,
  params: Record<string, string | string[]>,
  prefix = 'ls',
): string[] {
  return reqs.map((r, i) => {
    const k = `${prefix}${i}k`;
    const v = `${prefix}${i}v`;
    params[k] = r.key;
    const has = `mapContains(${column}, {${k}:String})`;
    const val = `${column}[{${k}:String}]`;
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return `NOT ${has}`;
      case '=':
        params[v] = r.values[0] as string;
        return `(${has} AND ${val} = {${v}:String})`;
      case '!=':
        params[v] = r.values[0] as string;
        return `NOT (${has} AND ${val} = {${v}:String})`;
      case 'in':
        params[v] = r.values;
        return `(${has} AND has({${v}:Array(String)}, ${val}))`;
      case 'notin':
        params[v] = r.values;
        return `NOT (${has} AND has({${v}:Array(String)}, ${val}))`;
    }
    return 'false';
  });
}
