import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServers, securityOptions } from '../src/index.ts';

test('security - URL credentials are lifted out of the server list, which is safe to log', () => {
  const p = parseServers('nats://al%40ice:p%3Ass@n1:4222, tls://n2,n3:5222');
  assert.deepEqual(p.servers, ['n1:4222', 'n2:4222', 'n3:5222']);
  assert.equal(p.display, 'nats://n1:4222,tls://n2:4222,nats://n3:5222');
  assert.equal(p.user, 'al@ice');
  assert.equal(p.password, 'p:ss');
  assert.equal(p.tls, true);
});

test('security - TLS is demanded by tls://, a CA or a client certificate, and not otherwise', () => {
  assert.equal(securityOptions(parseServers('nats://a:4222')).tls, undefined);
  assert.deepEqual(securityOptions(parseServers('tls://a:4222')).tls, {});
  assert.deepEqual(securityOptions(parseServers('nats://a:4222'), { tlsCaFile: '/ca.pem' }).tls, { caFile: '/ca.pem' });
  assert.throws(
    () => securityOptions(parseServers('nats://a'), { tlsCertFile: '/c.pem' }),
    /NATS: .*KEC_NATS_TLS_KEY_FILE/,
  );
});

test('security - an unparsable URL is reported by position, never echoed', () => {
  assert.throws(
    () => parseServers('nats://a:4222,nats://u:s3cret@[bad'),
    (err: Error) => /#2/.test(err.message) && !err.message.includes('s3cret'),
  );
});
