// The Markdown config table each README carries, generated from the spec so the two cannot drift.
import { allowedValues, typeName } from './describe.ts';
import type { ConfigSpec } from './spec.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return text === '' ? '' : `\`${text}\``;
}

/**
 * Renders `| Env var | YAML key | Type | Default | Allowed values | Description |` for the spec, with columns padded
 * the way Biome formats Markdown tables, so a pasted table survives `biome check --write` unchanged.
 */
export function renderConfigTable(spec: ConfigSpec): string {
  const header = ['Env var', 'YAML key', 'Type', 'Default', 'Allowed values', 'Description'];
  const rows = spec.compiled.map((key) => {
    const d = key.definition;
    const def = d.default !== undefined ? code(String(d.default)) : d.required ? '(required)' : '(unset)';
    return [code(key.env), code(key.yamlPath), typeName(d.schema), def, allowedValues(key), d.description].map(cell);
  });
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const lines = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  return `${lines.join('\n')}\n`;
}
