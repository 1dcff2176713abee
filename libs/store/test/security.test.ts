import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clickhouseConnection } from '../src/security.ts';

test('security - explicit ClickHouse credentials replace those of the URL', () => {
  const c = clickhouseConnection('http://old:pw@ch:8123', { user: 'kec', password: 's3cret' });
  assert.equal(c.url, 'http://ch:8123/');
  assert.equal(c.username, 'kec');
  assert.equal(c.password, 's3cret');
  assert.deepEqual(clickhouseConnection('http://u:p@ch:8123'), { url: 'http://u:p@ch:8123' });
});

test('security - a CA file gives the client its ca_cert; it needs an https URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kec-ch-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'PEM');
  const c = clickhouseConnection('https://ch:8443', { tlsCaFile: join(dir, 'ca.pem') });
  assert.equal(c.tls?.ca_cert.toString(), 'PEM');
  assert.throws(() => clickhouseConnection('http://ch:8123', { tlsCaFile: join(dir, 'ca.pem') }), /not https/);
  assert.throws(() => clickhouseConnection('https://ch:8443', { tlsCaFile: join(dir, 'nope.pem') }), /cannot read/);
});
