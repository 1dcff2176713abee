// Loading rule files: YAML -> TypeBox validation -> compiled regexes, with file:line, rule id and JSON path on every
// problem.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { RuleFileError, type RuleProblem } from './errors.ts';
import { CATEGORIES, type RuleFile, RuleFileValidator, type RuleSpec, SEVERITIES } from './schema.ts';

const ENUMS: Record<string, readonly string[]> = {
  severity: SEVERITIES,
  category: CATEGORIES,
  incident: ['open', 'join', 'none'],
  apiVersion: ['kec.rules/v1'],
};

/** A rule ready to match. */
export interface CompiledRule {
  spec: RuleSpec;
  /** File the rule came from (last override wins). */
  source: string;
  priority: number;
  reason: Set<string> | undefined;
  type: Set<string> | undefined;
  kind: Set<string> | undefined;
  component: Set<string> | undefined;
  message: RegExp | undefined;
  labels: [string, string][] | undefined;
  extract: RegExp[];
}

export interface LoadedFile {
  file: string;
  version: string;
  rules: CompiledRule[];
}

const set = (v: string | string[] | undefined) => (v === undefined ? undefined : new Set(Array.isArray(v) ? v : [v]));

function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: string): number | undefined {
  const parts = path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let last: Node | undefined = doc.contents ?? undefined;
  for (const p of parts) {
    if (isMap(node)) node = node.get(p, true);
    else if (isSeq(node)) node = node.get(Number(p), true);
    else break;
    if (node && typeof node === 'object' && 'range' in (node as object)) last = node as Node;
    else break;
  }
  const off = last?.range?.[0];
  return off === undefined ? undefined : lc.linePos(off).line;
}

/** Parses and validates one rule file's text. Returns the compiled rules or throws RuleFileError with every problem. */
export function parseRuleFile(text: string, file: string): LoadedFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: RuleProblem[] = [];
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined);
    problems.push({ file, line, ruleId: undefined, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (problems.length) throw new RuleFileError(problems);
  const value = doc.toJS() as unknown;
  const ruleIdAt = (path: string): string | undefined => {
    const m = /^\/rules\/(\d+)/.exec(path);
    if (!m) return undefined;
    const r = (value as { rules?: { id?: unknown }[] })?.rules?.[Number(m[1])];
    return typeof r?.id === 'string' ? r.id : undefined;
  };
  if (!RuleFileValidator.Check(value)) {
    const byPath = new Map<string, string[]>();
    for (const err of RuleFileValidator.Errors(value) as { instancePath?: string; message?: string }[]) {
      const path = err.instancePath ?? '';
      const list = byPath.get(path) ?? [];
      if (list.length === 0) byPath.set(path, list);
      if (!list.includes(err.message ?? 'invalid')) list.push(err.message ?? 'invalid');
    }
    for (const [path, messages] of byPath) {
      const allowed = ENUMS[path.split('/').at(-1) ?? ''];
      const message =
        allowed && messages.some((m) => /anyOf|constant/.test(m))
          ? `must be one of ${allowed.join(', ')}`
          : messages.join('; ');
      problems.push({ file, line: lineOf(doc, lc, path), ruleId: ruleIdAt(path), path, message });
    }
    throw new RuleFileError(problems);
  }
  const rf = value as RuleFile;
  const ids = new Map<string, number>();
  const rules: CompiledRule[] = [];
  rf.rules.forEach((spec, i) => {
    const at = (p: string) => `/rules/${i}${p}`;
    const prob = (p: string, message: string) =>
      problems.push({ file, line: lineOf(doc, lc, at(p)), ruleId: spec.id, path: at(p), message });
    if (ids.has(spec.id)) prob('/id', `duplicate rule id (first at /rules/${ids.get(spec.id)})`);
    ids.set(spec.id, i);
    const regex = (src: string, p: string): RegExp | undefined => {
      try {
        return new RegExp(src);
      } catch (err) {
        prob(p, `bad regex: ${(err as Error).message}`);
        return undefined;
      }
    };
    const message = spec.match.message === undefined ? undefined : regex(spec.match.message, '/match/message');
    const extract: RegExp[] = [];
    (spec.extract ?? []).forEach((src, j) => {
      const r = regex(src, `/extract/${j}`);
      if (r && !/\(\?<[A-Za-z]/.test(src)) prob(`/extract/${j}`, 'extract regex has no named group (?<name>...)');
      if (r) extract.push(r);
    });
    if (Object.keys(spec.match).length === 0) prob('/match', 'match is empty: the rule would match every event');
    rules.push({
      spec,
      source: file,
      priority: spec.priority ?? 0,
      reason: set(spec.match.reason),
      type: set(spec.match.type),
      kind: set(spec.match.kind),
      component: set(spec.match.component),
      message,
      labels: spec.match.labels ? Object.entries(spec.match.labels) : undefined,
      extract,
    });
  });
  if (problems.length) throw new RuleFileError(problems);
  return { file, version: rf.version, rules };
}

export function loadRuleFile(path: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RuleFileError(
      [
        {
          file: path,
          line: undefined,
          ruleId: undefined,
          path: '',
          message: `cannot read: ${(cause as Error).message}`,
        },
      ],
      { cause },
    );
  }
  return parseRuleFile(text, path);
}

/** Path of the shipped default rules. */
export const DEFAULT_RULES_PATH = fileURLToPath(new URL('../rules/default.yaml', import.meta.url));
