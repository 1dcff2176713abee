// The Markdown config table each README carries, generated from the spec so the two cannot drift.
import { allowedValues, typeName } from './describe.ts';
import type { ConfigSpec } from './spec.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return text === '' ? '' : `\`${text}\``;
}

/** Renders `| Env var | YAML key | Type | Default | Allowed values | Description |` for the spec. */
export function renderConfigTable(spec: ConfigSpec): string {
  const lines = [
    '| Env var | YAML key | Type | Default | Allowed values | Description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const key of spec.compiled) {
    const d = key.definition;
    const def = d.default !== undefined ? code(String(d.default)) : d.required ? '(required)' : '(unset)';
    lines.push(
      `| ${[code(key.env), code(key.yamlPath), typeName(d.schema), def, allowedValues(key), d.description].map(cell).join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
