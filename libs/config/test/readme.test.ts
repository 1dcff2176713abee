import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigTable, sharedConfigSpec } from '../src/index.ts';

test('config - README shared-keys table matches renderConfigTable', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- config-table:shared -->\n([\s\S]*?)<!-- \/config-table -->/.exec(readme);
  assert.ok(block, 'README has a config-table:shared block');
  assert.equal(block[1], renderConfigTable(sharedConfigSpec));
});
