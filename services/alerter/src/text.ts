// Durations (`30s`, `5m`, `4h`), annotation templates (`{{ labels.namespace }}`) and stable ids. Pure functions.
import { createHash } from 'node:crypto';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s` -> 30000. Throws on anything else (schemas check the syntax before this is called). */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`bad duration ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** The roots a template may name. */
export const TEMPLATE_ROOTS = ['labels', 'incident', 'event', 'pattern', 'counts', 'externalURL', 'rule'] as const;

const PLACEHOLDER = /\{\{\s*([a-zA-Z_][\w]*(?:\.[\w-]+)*)\s*\}\}/g;

/** Problems of a template text: unbalanced braces, unknown roots. Empty when it is fine. */
export function checkTemplate(text: string): string[] {
  const problems: string[] = [];
  const stripped = text.replace(PLACEHOLDER, (_all, path: string) => {
    const root = path.split('.')[0] as string;
    if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
      problems.push(`unknown template value {{ ${path} }} (known roots: ${TEMPLATE_ROOTS.join(', ')})`);
    }
    return '';
  });
  if (stripped.includes('{{') || stripped.includes('}}')) {
    problems.push('unbalanced or malformed {{ }} (a placeholder is {{ root.path }}, e.g. {{ labels.namespace }})');
  }
  return problems;
}

/** Replaces each `{{ a.b.c }}` by the value at that path of `data` (missing: empty; objects: JSON). */
export function renderTemplate(text: string, data: Readonly<Record<string, unknown>>): string {
  if (!text.includes('{{')) return text;
  return text.replace(PLACEHOLDER, (_all, path: string) => {
    let v: unknown = data;
    for (const p of path.split('.')) {
      if (v === null || typeof v !== 'object') return '';
      v = (v as Record<string, unknown>)[p];
    }
    if (v === undefined || v === null) return '';
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/** A stable short id of the parts: 16 hex digits of sha256 (a KV key token and an alert identity). */
export function stableId(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/** Labels as a canonical string `{a="x", b="y"}` (sorted), as Alertmanager writes a group key. */
export function labelString(labels: Readonly<Record<string, string>>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}
