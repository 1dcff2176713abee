// `kec config`: the resolved configuration, with where each value came from and secrets masked.
import { type ConfigSpec, maskUrlSecrets, type ResolvedEntry, resolveConfig } from '@kec/config';

export interface ConfigSection {
  /** undefined for the shared keys. */
  section: string | undefined;
  entries: ResolvedEntry[];
}

export function resolveSections(
  specs: readonly ConfigSpec[],
  env: Record<string, string | undefined>,
  file: string | undefined,
): ConfigSection[] {
  return specs.map((spec) => ({ section: spec.section, entries: resolveConfig(spec, { env, file }) }));
}

function display(entry: ResolvedEntry): unknown {
  if (entry.value === undefined) return undefined;
  if (entry.key.definition.secret) return '***';
  return typeof entry.value === 'string' ? maskUrlSecrets(entry.value) : entry.value;
}

function scalar(v: unknown): string {
  if (v === undefined) return '~';
  if (typeof v === 'string')
    return /^[\w./:@,*+-]+$/.test(v) && !/^(true|false|null|~|[\d.+-]+)$/i.test(v) ? v : JSON.stringify(v);
  return String(v);
}

/** YAML that could be pasted into a config file, each line commented with its env var and source. */
export function renderYaml(sections: readonly ConfigSection[], file: string | undefined): string {
  const out = [`# kec config: env var > config file (${file ?? 'none'}) > default; URL passwords and secrets masked`];
  for (const { section, entries } of sections) {
    const indent = section === undefined ? '' : '  ';
    if (section !== undefined) out.push(`${section}:`);
    const rows = entries.map((e) => [`${indent}${e.key.name}: ${scalar(display(e))}`, `# ${e.key.env} (${e.source})`]);
    const width = Math.max(...rows.map(([l]) => l!.length));
    for (const [line, comment] of rows) out.push(`${line!.padEnd(width)}  ${comment}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderJson(sections: readonly ConfigSection[]): string {
  const obj: Record<string, unknown> = {};
  for (const { section, entries } of sections) {
    const target: Record<string, unknown> = section === undefined ? obj : {};
    for (const e of entries) target[e.key.name] = display(e) ?? null;
    if (section !== undefined) obj[section] = target;
  }
  return `${JSON.stringify(obj, null, 2)}\n`;
}
