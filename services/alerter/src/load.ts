// Loading `kec.alerts/v1` files: YAML -> TypeBox validation -> compiled rules, route tree, inhibition rules and
// receivers. Every problem names the file, the line, the rule (or receiver) and the JSON path; all problems of a file
// are reported at once. The shipped defaults load first; a user rule with the same id replaces the default one.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { receiverConfigProblems } from '@kec/notify';
import type { Validator } from 'typebox/compile';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import { AlertsFileError, type AlertsProblem, MatcherError } from './errors.ts';
import { parseMatcher } from './matchers.ts';
import { type CompiledRoute, compileRoute, DEFAULT_ROUTE_TIMING } from './route.ts';
import {
  type AlertRule,
  type AlertsFile,
  AlertsFileValidator,
  type EventRule,
  type InhibitRuleSpec,
  type Matcher,
  type ReceiverRef,
  type RouteSpec,
  RULE_SOURCES,
  RULE_VALIDATORS,
  SEVERITIES,
} from './schema.ts';
import { checkTemplate, durationMs } from './text.ts';

export const DEFAULT_ALERTS_PATH = fileURLToPath(new URL('../rules/default.yaml', import.meta.url));

/** A rule ready to match, with its regexes compiled and durations in ms. */
export interface CompiledAlertRule {
  spec: AlertRule;
  source: string;
  alertname: string;
  message: RegExp | undefined;
  windowMs: number;
  quietMs: number;
}

export interface CompiledInhibit {
  source: Matcher[];
  target: Matcher[];
  equal: string[];
}

export interface AlertsConfig {
  files: string[];
  rules: CompiledAlertRule[];
  /** undefined when no file defines a route: alerts are published on KEC_ALERTS only. */
  route: CompiledRoute | undefined;
  inhibit: CompiledInhibit[];
  receivers: Map<string, ReceiverRef>;
}

interface Parsed {
  file: string;
  doc: Document;
  lc: LineCounter;
  value: AlertsFile | undefined;
}

function lineAt(p: Parsed, path: string): number | undefined {
  const parts: (string | number)[] = path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  // The deepest node of the path that exists (a missing key points at its parent).
  for (let n = parts.length; n >= 0; n--) {
    const node = n === 0 ? p.doc.contents : p.doc.getIn(parts.slice(0, n), true);
    if (isNode(node) && node.range) return p.lc.linePos(node.range[0]).line;
  }
  return undefined;
}

function ownerAt(value: unknown, path: string): string | undefined {
  const m = /^\/(rules|receivers)\/(\d+)/.exec(path);
  if (m) {
    const item = (value as Record<string, { id?: unknown; name?: unknown }[]> | undefined)?.[m[1] as string]?.[
      Number(m[2])
    ];
    const id = m[1] === 'rules' ? item?.id : item?.name;
    if (typeof id === 'string') return m[1] === 'rules' ? `rule ${id}` : `receiver ${id}`;
  }
  if (path.startsWith('/route')) return 'route';
  if (path.startsWith('/inhibit_rules')) return 'inhibit_rules';
  return undefined;
}

function parseText(text: string, file: string, problems: AlertsProblem[]): Parsed {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const p: Parsed = { file, doc, lc, value: undefined };
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined);
    problems.push({ file, line, ruleId: undefined, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (doc.errors.length) return p;
  const value = doc.toJS() as unknown;
  const errors: { path: string; message: string }[] = [];
  const collect = (v: Validator, x: unknown, prefix: string) => {
    for (const err of v.Errors(x) as { instancePath?: string; message?: string }[]) {
      errors.push({ path: prefix + (err.instancePath ?? ''), message: err.message ?? 'invalid' });
    }
  };
  if (!AlertsFileValidator.Check(value)) collect(AlertsFileValidator, value, '');
  const rules = (value as { rules?: unknown })?.rules;
  if (Array.isArray(rules)) {
    rules.forEach((r, i) => {
      const src = (r as { source?: unknown } | null)?.source;
      const v = RULE_VALIDATORS[src as keyof typeof RULE_VALIDATORS];
      if (v && !v.Check(r)) collect(v, r, `/rules/${i}`);
    });
  }
  if (errors.length) {
    const byPath = new Map<string, string[]>();
    for (const e of errors) {
      const list = byPath.get(e.path) ?? [];
      if (list.length === 0) byPath.set(e.path, list);
      const msg = e.message.replace('schema is false', 'unknown key');
      if (!list.includes(msg)) list.push(msg);
    }
    for (const [path, messages] of byPath) {
      // "must not have additional properties" on the parent repeats the child's "unknown key".
      if (
        [...byPath.keys()].some((k) => k.startsWith(`${path}/`)) &&
        messages.every((m) => /additional properties|anyOf/.test(m))
      ) {
        continue;
      }
      const last = path.split('/').at(-1) ?? '';
      let message = messages.filter((m) => !/anyOf/.test(m) || messages.length === 1).join('; ');
      if (last === 'severity' && messages.some((m) => /anyOf|constant|const/.test(m))) {
        message = `must be one of ${SEVERITIES.join(', ')}`;
      } else if (last === 'source' && /^\/rules\/\d+\/source$/.test(path)) {
        message = `must be one of ${RULE_SOURCES.join(', ')}`;
      }
      problems.push({ file, line: lineAt(p, path), ruleId: ownerAt(value, path), path, message });
    }
    return p;
  }
  p.value = value as AlertsFile;
  return p;
}

function compileRule(
  spec: AlertRule,
  i: number,
  p: Parsed,
  prob: (path: string, message: string, owner?: string) => void,
): CompiledAlertRule {
  const at = (s: string) => `/rules/${i}${s}`;
  let message: RegExp | undefined;
  let windowMs = 0;
  let quietMs = 15 * 60_000;
  if (spec.source === 'events') {
    const r = spec as EventRule;
    if (r.match?.message !== undefined) {
      try {
        message = new RegExp(r.match.message);
      } catch (err) {
        prob(at('/match/message'), `bad regex: ${(err as Error).message}`);
      }
    }
    windowMs = durationMs(r.threshold.window);
    quietMs = r.threshold.quiet ? durationMs(r.threshold.quiet) : windowMs;
    if (windowMs < 60_000) prob(at('/threshold/window'), 'must be at least 1m (occurrences are counted per minute)');
  } else if (spec.source === 'patterns' && spec.resolveAfter) {
    quietMs = durationMs(spec.resolveAfter);
  }
  for (const [k, v] of Object.entries(spec.annotations ?? {})) {
    for (const m of checkTemplate(v)) prob(at(`/annotations/${k}`), m);
  }
  for (const [k, v] of Object.entries(spec.labels ?? {})) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) prob(at(`/labels/${k}`), 'a label name must match [a-zA-Z_][a-zA-Z0-9_]*');
    for (const m of checkTemplate(v)) prob(at(`/labels/${k}`), m);
  }
  void p;
  return { spec, source: p.file, alertname: spec.alertname ?? spec.id, message, windowMs, quietMs };
}

function compileMatchers(
  list: readonly string[],
  path: string,
  prob: (path: string, message: string) => void,
): Matcher[] {
  const out: Matcher[] = [];
  list.forEach((s, j) => {
    try {
      out.push(parseMatcher(s));
    } catch (err) {
      if (err instanceof MatcherError) prob(`${path}/${j}`, err.message);
      else throw err;
    }
  });
  return out;
}

/**
 * Loads alerts files: the defaults (unless `defaults: false`), then each file in order. Rules merge by id (later
 * wins); at most one file may define `route`; receivers are unique by name; inhibition rules add up. Throws
 * AlertsFileError with every problem.
 */
export function loadAlertsConfig(
  files: readonly string[],
  opts: { defaults?: boolean; texts?: Record<string, string> } = {},
): AlertsConfig {
  const all = [...(opts.defaults === false ? [] : [DEFAULT_ALERTS_PATH]), ...files];
  const problems: AlertsProblem[] = [];
  const parsed: Parsed[] = [];
  for (const file of all) {
    let text = opts.texts?.[file];
    if (text === undefined) {
      try {
        text = readFileSync(file, 'utf8');
      } catch (cause) {
        problems.push({
          file,
          line: undefined,
          ruleId: undefined,
          path: '',
          message: `cannot read: ${(cause as Error).message}`,
        });
        continue;
      }
    }
    parsed.push(parseText(text, file, problems));
  }
  const rules = new Map<string, CompiledAlertRule>();
  const receivers = new Map<string, ReceiverRef>();
  const receiverAt = new Map<string, { p: Parsed; i: number }>();
  const inhibit: CompiledInhibit[] = [];
  let route: { spec: RouteSpec; p: Parsed } | undefined;
  for (const p of parsed) {
    const v = p.value;
    if (!v) continue;
    const prob = (path: string, message: string, owner?: string) =>
      problems.push({ file: p.file, line: lineAt(p, path), ruleId: owner ?? ownerAt(v, path), path, message });
    const ids = new Map<string, number>();
    (v.rules ?? []).forEach((spec, i) => {
      if (ids.has(spec.id)) prob(`/rules/${i}/id`, `duplicate rule id (first at /rules/${ids.get(spec.id)})`);
      ids.set(spec.id, i);
      const c = compileRule(spec, i, p, prob);
      rules.delete(spec.id); // a later definition replaces, and takes the later position
      if (!spec.disabled) rules.set(spec.id, c);
    });
    (v.receivers ?? []).forEach((r, i) => {
      if (receivers.has(r.name)) {
        prob(`/receivers/${i}/name`, `duplicate receiver name (also in ${receiverAt.get(r.name)?.p.file})`);
        return;
      }
      receivers.set(r.name, r);
      receiverAt.set(r.name, { p, i });
      for (const q of receiverConfigProblems(r)) prob(`/receivers/${i}${q.path === '/' ? '' : q.path}`, q.message);
    });
    (v.inhibit_rules ?? []).forEach((r: InhibitRuleSpec, i) => {
      inhibit.push({
        source: compileMatchers(r.source_matchers, `/inhibit_rules/${i}/source_matchers`, prob),
        target: compileMatchers(r.target_matchers, `/inhibit_rules/${i}/target_matchers`, prob),
        equal: r.equal ?? [],
      });
    });
    if (v.route) {
      if (route) prob('/route', `a route is already defined in ${route.p.file}; define it in one file only`);
      else route = { spec: v.route, p };
    }
  }
  let compiled: CompiledRoute | undefined;
  if (route) {
    const { spec, p } = route;
    const prob = (path: string, message: string) =>
      problems.push({ file: p.file, line: lineAt(p, path), ruleId: 'route', path, message });
    if (!spec.receiver) prob('/route/receiver', 'the top-level route needs a receiver (the default)');
    const walk = (r: RouteSpec, path: string) => {
      if (r.receiver !== undefined && !receivers.has(r.receiver)) {
        prob(
          `${path}/receiver`,
          `unknown receiver ${JSON.stringify(r.receiver)} (defined: ${[...receivers.keys()].join(', ') || 'none'})`,
        );
      }
      compileMatchers(r.matchers ?? [], `${path}/matchers`, prob);
      for (const [j, c] of (r.routes ?? []).entries()) walk(c, `${path}/routes/${j}`);
    };
    walk(spec, '/route');
    if (problems.length === 0) compiled = compileRoute(spec, DEFAULT_ROUTE_TIMING);
  }
  if (problems.length) throw new AlertsFileError(problems);
  return { files: all, rules: [...rules.values()], route: compiled, inhibit, receivers };
}

export interface AlertsCheckResult {
  ok: boolean;
  lines: string[];
}

/** What `kec alerts check` prints: each file with the defaults, its counts, or every problem. */
export function checkAlertsFiles(files: readonly string[], opts: { defaults?: boolean } = {}): AlertsCheckResult {
  const lines: string[] = [];
  let ok = true;
  try {
    const cfg = loadAlertsConfig(files, opts);
    const own = (f: string) => cfg.rules.filter((r) => r.source === f).length;
    for (const f of files) lines.push(`${f}: ok (${own(f)} rules)`);
    lines.push(
      `with the defaults: ${cfg.rules.length} rules, ${cfg.receivers.size} receivers, ${cfg.inhibit.length} inhibition rules, ` +
        (cfg.route ? 'a route tree' : 'no route (alerts go to KEC_ALERTS only)'),
    );
  } catch (err) {
    if (!(err instanceof AlertsFileError)) throw err;
    ok = false;
    lines.push(...err.message.split('\n'));
  }
  return { ok, lines };
}
