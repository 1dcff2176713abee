// Label selectors (full set syntax) and field selectors (L7), with apimachinery-like error messages.
import { errors } from './errors.ts';
import type { ResourceDef, StoredObject } from './resources.ts';

type LabelOp = 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
interface LabelReq {
  key: string;
  op: LabelOp;
  values: string[];
}
export type LabelSelector = LabelReq[];

const KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelErr(msg: string): never {
  throw errors.badRequest(`unable to parse requirement: ${msg}`);
}

function checkKey(k: string): void {
  if (!KEY_RE.test(k) || k.length > 316)
    labelErr(
      `<nil>: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
}
function checkValue(v: string): void {
  if (v.length > 63 || !VALUE_RE.test(v))
    labelErr(
      `values[0][key]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
}

/** Parses a label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma = AND. */
export function parseLabelSelector(src: string | null | undefined): LabelSelector | undefined {
  if (!src?.trim()) return undefined;
  const reqs: LabelReq[] = [];
  let i = 0;
  const s = src;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const ident = (): string => {
    ws();
    const start = i;
    while (i < s.length && !/[\s,=!()<>]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i <= s.length) {
    ws();
    if (i >= s.length) {
      if (reqs.length === 0 || s.trim().endsWith(',')) labelErr(`found '', expected: identifier`);
      break;
    }
    let neg = false;
    if (s[i] === '!') {
      neg = true;
      i++;
    }
    const key = ident();
    if (!key) labelErr(`found '${s[i] ?? ''}', expected: identifier`);
    checkKey(key);
    ws();
    if (neg) {
      reqs.push({ key, op: '!', values: [] });
    } else if (i >= s.length || s[i] === ',') {
      reqs.push({ key, op: 'exists', values: [] });
    } else if (s.startsWith('==', i) || s.startsWith('!=', i) || s[i] === '=') {
      const op = s.startsWith('!=', i) ? 'notin' : 'in';
      i += s[i] === '=' && s[i + 1] !== '=' ? 1 : 2;
      const v = ident();
      checkValue(v);
      reqs.push({ key, op, values: [v] });
    } else if (s[i] === '>' || s[i] === '<') {
      const op = s[i] === '>' ? 'gt' : 'lt';
      i++;
      const v = ident();
      if (!/^-?\d+$/.test(v)) labelErr(`for 'Gt', 'Lt' operators, the value must be an integer`);
      reqs.push({ key, op, values: [v] });
    } else {
      const word = ident();
      if (word !== 'in' && word !== 'notin') labelErr(`found '${word}', expected: in, notin, =, ==, !=, gt, lt`);
      ws();
      if (s[i] !== '(') labelErr(`found '${s[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        const v = ident();
        checkValue(v);
        values.push(v);
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ')') {
          i++;
          break;
        }
        labelErr(`found '${s[i] ?? ''}', expected: ',', ')' or identifier`);
      }
      reqs.push({ key, op: word, values });
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ',') labelErr(`found '${s[i]}', expected: ',' or 'end of string'`);
    i++;
  }
  return reqs;
}

export function matchLabels(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  for (const r of sel) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const v = has ? labels![r.key]! : undefined;
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v!)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v!)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const t = Number(r.values[0]);
        if (r.op === 'gt' ? !(n > t) : !(n < t)) return false;
        break;
      }
    }
  }
  return true;
}

interface FieldReq {
  get: (o: StoredObject) => string;
  neg: boolean;
  value: string;
}
export type FieldSelector = FieldReq[];

function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const PH = '\uE000'; // stands for an escaped '=' while splitting a term

function unescapeValue(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** Field selectors: `a=b`, `a==b`, `a!=b`, comma = AND; the label must be one the resource's API group supports (L7). */
export function parseFieldSelector(src: string | null | undefined, def: ResourceDef): FieldSelector | undefined {
  if (!src?.trim()) return undefined;
  const reqs: FieldReq[] = [];
  for (const term of splitTerms(src)) {
    const m = /^(.*?)(==|!=|=)(.*)$/s.exec(term.replaceAll('\\=', PH));
    if (!m) throw errors.badRequest(`invalid selector: '${src}'; can't understand '${term}'`);
    const label = m[1]!.replaceAll(PH, '=').trim();
    const value = unescapeValue(m[3]!.replaceAll(PH, '\\='));
    let get: ((o: StoredObject) => string) | undefined;
    if (label === 'metadata.name') get = (o) => String(o.metadata?.name ?? '');
    else if (label === 'metadata.namespace') get = (o) => String(o.metadata?.namespace ?? '');
    else get = def.fields[label];
    if (!get) throw errors.badRequest(`field label not supported: ${label}`);
    reqs.push({ get, neg: m[2] === '!=', value });
  }
  return reqs;
}

export function matchFields(sel: FieldSelector | undefined, obj: StoredObject): boolean {
  if (!sel) return true;
  for (const r of sel) {
    const eq = r.get(obj) === r.value;
    if (eq === r.neg) return false;
  }
  return true;
}
