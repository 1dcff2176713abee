// Alertmanager's matchers (classic syntax): `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.
// Regexes are anchored at both ends; a missing label equals the empty string. Pure functions.
import { MatcherError } from './errors.ts';
import type { Matcher } from './schema.ts';

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s,{}]*))\s*$/;

/** Parses one matcher string; throws MatcherError with the reason. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m)
    throw new MatcherError(
      `bad matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"re" or name!~"re"`,
    );
  const op = m[2] as string;
  const value = m[3] === undefined ? (m[4] ?? '') : m[3].replace(/\\(.)/g, '$1');
  const matcher: Matcher = { name: m[1] as string, value, isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
  if (matcher.isRegex) compiled(matcher);
  return matcher;
}

/** Parses `{a="x", b=~"y"}` or `a="x", b=~"y"` (a list of matchers, ANDed). */
export function parseMatchers(text: string): Matcher[] {
  const inner = text.trim().replace(/^\{/, '').replace(/\}$/, '');
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string;
    if (c === '\\' && quoted) {
      cur += c + (inner[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map(parseMatcher);
}

export function formatMatcher(m: Matcher): string {
  const op = (m.isEqual ? '' : '!') + (m.isRegex ? '~' : '=');
  return `${m.name}${op === '~' ? '=~' : op === '!~' ? '!~' : op}${JSON.stringify(m.value)}`;
}

const cache = new Map<string, RegExp>();
function compiled(m: Matcher): RegExp {
  let re = cache.get(m.value);
  if (!re) {
    try {
      re = new RegExp(`^(?:${m.value})$`);
    } catch (err) {
      throw new MatcherError(`bad regex in matcher ${m.name}: ${(err as Error).message}`);
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(m.value, re);
  }
  return re;
}

export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = labels[m.name] ?? '';
  const hit = m.isRegex ? compiled(m).test(v) : v === m.value;
  return m.isEqual ? hit : !hit;
}

/** Every matcher holds (an empty list matches everything). */
export function matchesAll(ms: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of ms) if (!matches(m, labels)) return false;
  return true;
}
