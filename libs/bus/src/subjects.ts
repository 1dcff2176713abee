// The subject grammar of kec. Pure functions, no I/O.
//
// A NATS subject is tokens joined by `.`; a token may not be empty and may not hold `.`, `*`, `>` or
// whitespace. Kubernetes names can hold `.` (and event reasons anything), so every value placed in a
// subject goes through `token()`: a reversible percent-encoding of exactly the characters NATS forbids,
// plus `%` itself and control characters. The empty string becomes `_` (cluster-scoped objects have
// namespace ''), and the one-character value `_` is written `%5F` so that `untoken(token(x)) === x`
// for every string x. Any other `_` is left alone (Kubernetes names never hold `_`, readable reasons may).
import { SubjectError } from './errors.ts';

export const DEFAULT_ROOT = 'kec';
/** The token of the empty string; used as the namespace of cluster-scoped objects. */
export const EMPTY_TOKEN = '_';

// Characters encoded by token(): `%`, `.`, `*`, `>`, whitespace (incl. Unicode spaces), C0 controls, DEL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be encoded
const ENCODE = /[%.*>\s\u0000-\u001f\u007f]/gu;
const HEX = /^[0-9A-Fa-f]{2}$/;
const encoder = new TextEncoder();

function encodeChar(ch: string): string {
  let out = '';
  for (const b of encoder.encode(ch)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** Encodes one value as one NATS subject token (reversible with `untoken`). */
export function token(value: string): string {
  if (value === '') return EMPTY_TOKEN;
  if (value === EMPTY_TOKEN) return '%5F';
  return value.replace(ENCODE, encodeChar);
}

/** Decodes a token made by `token`. Throws SubjectError for text that `token` cannot have produced. */
export function untoken(tok: string): string {
  if (tok === EMPTY_TOKEN) return '';
  if (tok === '' || /[.*>\s]/u.test(tok)) throw new SubjectError(`not a valid subject token: ${JSON.stringify(tok)}`);
  if (!tok.includes('%')) return tok;
  for (let i = tok.indexOf('%'); i !== -1; i = tok.indexOf('%', i + 1)) {
    if (!HEX.test(tok.slice(i + 1, i + 3)))
      throw new SubjectError(`bad percent escape in token ${JSON.stringify(tok)}`);
  }
  try {
    return decodeURIComponent(tok);
  } catch (cause) {
    throw new SubjectError(`token ${JSON.stringify(tok)} does not decode to UTF-8`, { cause });
  }
}

/** Throws unless `root` is one or more literal tokens joined by `.` (e.g. `kec`, `t1234`, `kec.prod`). */
export function validateRoot(root: string): string {
  const parts = root.split('.');
  for (const p of parts) {
    if (p === '' || /[*>\s%]/u.test(p)) throw new SubjectError(`invalid subject root ${JSON.stringify(root)}`);
  }
  return root;
}

/** The kinds of subject kec publishes; each is the second part of `<root>.<kind>.…` and has its own stream. */
export const SUBJECT_KINDS = ['raw', 'enriched', 'events', 'incidents', 'patterns', 'gaps', 'dlq'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** Builders of kec subjects under one root. Every argument is a raw value; builders encode it with `token()`. */
export interface Subjects {
  readonly root: string;
  /** `<root>.raw.<cluster>.<ns>.<kind>`: watcher output. */
  raw(cluster: string, namespace: string, kind: string): string;
  /** `<root>.enriched.<cluster>.<ns>.<kind>`: enricher output. */
  enriched(cluster: string, namespace: string, kind: string): string;
  /** `<root>.events.<cluster>.<ns>.<kind>.<type>.<reason>`: classified events (public contract). */
  events(cluster: string, namespace: string, kind: string, type: string, reason: string): string;
  /** `<root>.incidents.<cluster>.<ns>`: incident updates (public contract). */
  incidents(cluster: string, namespace: string): string;
  /** `<root>.patterns.<cluster>.<ns>`: storms and first-seen patterns. */
  patterns(cluster: string, namespace: string): string;
  /** `<root>.gaps.<cluster>`: gap records (a window in which events may have been missed). */
  gaps(cluster: string): string;
  /** `<root>.dlq.<stage>`: dead letters of a stage (e.g. `enricher`). */
  dlq(stage: string): string;
  /** `<root>.<kind>.>`: every subject of a kind (a stream's subject filter). */
  all(kind: SubjectKind): string;
  /**
   * A filter for a consumer or subscription: `filter('events', 'prod', undefined, 'Pod')` is
   * `<root>.events.prod.*.Pod.>`: undefined tokens become `*`, missing trailing ones `>`.
   */
  filter(kind: SubjectKind, ...tokens: Array<string | undefined>): string;
  /** Splits a subject of this root into its kind and decoded tokens; undefined when it is not one of ours. */
  parse(subject: string): ParsedSubject | undefined;
}

export interface ParsedSubject {
  kind: SubjectKind;
  /** Decoded values after the kind, in order (e.g. [cluster, namespace, kind] for raw). */
  tokens: string[];
}

const ARITY: Record<SubjectKind, number> = {
  raw: 3,
  enriched: 3,
  events: 5,
  incidents: 2,
  patterns: 2,
  gaps: 1,
  dlq: 1,
};

/** Subject builders for `root` (default `kec`). */
export function subjects(root: string = DEFAULT_ROOT): Subjects {
  validateRoot(root);
  const build = (kind: SubjectKind, values: string[]): string => {
    let s = root + '.' + kind;
    for (const v of values) s += '.' + token(v);
    return s;
  };
  const rootDepth = root.split('.').length;
  return {
    root,
    raw: (c, ns, k) => build('raw', [c, ns, k]),
    enriched: (c, ns, k) => build('enriched', [c, ns, k]),
    events: (c, ns, k, type, reason) => build('events', [c, ns, k, type, reason]),
    incidents: (c, ns) => build('incidents', [c, ns]),
    patterns: (c, ns) => build('patterns', [c, ns]),
    gaps: (c) => build('gaps', [c]),
    dlq: (stage) => build('dlq', [stage]),
    all: (kind) => root + '.' + kind + '.>',
    filter(kind, ...tokens) {
      if (tokens.length > ARITY[kind]) {
        throw new SubjectError(`${kind} subjects have ${ARITY[kind]} tokens, got ${tokens.length}`);
      }
      let s = root + '.' + kind;
      for (const t of tokens) s += '.' + (t === undefined ? '*' : token(t));
      return tokens.length < ARITY[kind] ? s + '.>' : s;
    },
    parse(subject) {
      const parts = subject.split('.');
      if (parts.length <= rootDepth || parts.slice(0, rootDepth).join('.') !== root) return undefined;
      const kind = parts[rootDepth] as SubjectKind;
      if (!SUBJECT_KINDS.includes(kind)) return undefined;
      const rest = parts.slice(rootDepth + 1);
      if (rest.length !== ARITY[kind]) return undefined;
      try {
        return { kind, tokens: rest.map(untoken) };
      } catch {
        return undefined;
      }
    },
  };
}
