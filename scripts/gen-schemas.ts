// Generates the published JSON Schema files (schemas/*.json) from the TypeBox sources of every public payload.
//   node scripts/gen-schemas.ts          write them
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlertPayloadSchema } from '@kec/alerter';
import { EventsPayloadSchema, IncidentPayloadSchema, PatternPayloadSchema } from '@kec/correlator';
import { GapRecordSchema } from '@kec/model';

export const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

/** file name -> JSON Schema (draft 2020-12) of each public payload. */
export function publishedSchemas(): Record<string, object> {
  const sources: [string, string, object][] = [
    ['kec.events.v1.json', 'kec.events/v1', EventsPayloadSchema],
    ['kec.incident.v1.json', 'kec.incident/v1', IncidentPayloadSchema],
    ['kec.pattern.v1.json', 'kec.pattern/v1', PatternPayloadSchema],
    ['kec.gap.v1.json', 'kec.gap/v1', GapRecordSchema],
    ['kec.alert.v1.json', 'kec.alert/v1', AlertPayloadSchema],
  ];
  const out: Record<string, object> = {};
  for (const [file, id, schema] of sources) {
    // JSON round trip: TypeBox schemas are JSON Schema; this drops symbols and undefined
    const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
    out[file] = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...plain, $id: id, title: id };
  }
  return out;
}

export const render = (schema: object): string => `${JSON.stringify(schema, null, 2)}\n`;

// Writes schemas/; services/correlator/test/schemas.test.ts fails when the committed files differ from this.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, schema] of Object.entries(publishedSchemas()))
    writeFileSync(join(SCHEMAS_DIR, file), render(schema));
}
