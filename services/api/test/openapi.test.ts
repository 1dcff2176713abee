// The committed services/api/openapi.json is the document the API serves at /api/v1/openapi.json.
// Regenerate it with: KEC_UPDATE_OPENAPI=1 node --test services/api/test/openapi.test.ts
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Store } from '@kec/store';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { TokenStore } from '../src/auth.ts';
import { UnavailableError } from '../src/errors.ts';

const FILE = join(import.meta.dirname, '..', 'openapi.json');

test('openapi - the committed openapi.json equals the served document; every route is described', async () => {
  const none = (): Store => {
    throw new UnavailableError('no store in this test');
  };
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    store: none,
    sqlStore: none,
    tokens: TokenStore.load({ env: '', anonymous: false }),
    sqlMaxRows: 10,
    maxBodyBytes: 1024,
    subjectRoot: 'kec',
  });
  const r = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  assert.equal(r.statusCode, 200);
  const doc = r.json() as { openapi: string; paths: Record<string, Record<string, { responses: object }>> };
  await app.close();
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (process.env['KEC_UPDATE_OPENAPI'] === '1') writeFileSync(FILE, text);
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    '/api/v1/events',
    '/api/v1/incidents',
    '/api/v1/incidents/{id}',
    '/api/v1/series',
    '/api/v1/sql',
    '/api/v1/timeline/{kind}/{namespace}/{name}',
    '/api/v1/top',
    '/api/v1/watch',
  ]);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      assert.ok('401' in op.responses && '403' in op.responses, `${method} ${path} documents 401/403`);
    }
  }
  assert.equal(
    readFileSync(FILE, 'utf8'),
    text,
    'services/api/openapi.json is stale: regenerate it (see the top of this test)',
  );
});
