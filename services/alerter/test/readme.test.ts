// The README's config table is the one renderConfigTable derives from the spec, so the two cannot drift.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigTable } from '@kec/config';
import { alerterConfig } from '../src/index.ts';

test('readme - the config table matches renderConfigTable(alerterConfig)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- config-table:alerter -->\n([\s\S]*?)<!-- \/config-table -->/.exec(readme);
  assert.ok(block, 'README has a config-table:alerter block');
  assert.equal(block[1], renderConfigTable(alerterConfig));
});
