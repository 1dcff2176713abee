// The published JSON Schema files (schemas/) equal what the TypeBox sources give.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { publishedSchemas, render, SCHEMAS_DIR } from '../../../scripts/gen-schemas.ts';

test('schemas - the committed files under schemas/ equal the generated ones (node scripts/gen-schemas.ts)', () => {
  const want = publishedSchemas();
  assert.deepEqual(Object.keys(want).sort(), [
    'kec.alert.v1.json',
    'kec.events.v1.json',
    'kec.gap.v1.json',
    'kec.incident.v1.json',
    'kec.pattern.v1.json',
  ]);
  for (const [file, schema] of Object.entries(want)) {
    assert.equal(readFileSync(join(SCHEMAS_DIR, file), 'utf8'), render(schema), `${file} is stale`);
  }
});
