// Credentials and TLS against real servers on loopback: nats-server (users, NKey, token, TLS with a CA made here
// by openssl, mutual TLS), redis-server (requirepass, an ACL user, TLS with client certificates), and the HTTPS
// metrics endpoint. Right credentials connect; wrong ones are refused with an error that names the dependency and
// never the secret; a client configured for TLS never talks plaintext.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Bus, connectBus, type NatsSecurity } from '@kec/bus';
import { CacheStore, isRedisAuthError, type RedisSecurity, redisConnection } from '@kec/cache';
import { loadConfig, redactConfig, sharedConfigSpec } from '@kec/config';
import { startTelemetry } from '@kec/telemetry';
import { createUser } from '@nats-io/nkeys';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Proc, waitFor } from '../src/harness.ts';
import { freePort, reachable } from '../src/infra.ts';
import { makeNatsJwtAuth } from '../src/nats-jwt.ts';
import { makePki, type Pki } from '../src/pki.ts';

const silent = pino({ level: 'silent' });
const PASSWORD = 'n4ts-S3cret-pw';
const TOKEN = 't0ken-S3cret-value';
const REDIS_PASSWORD = 'r3dis-S3cret-pw';
const ACL_PASSWORD = 'acl-S3cret-pw';
const SECRETS = [PASSWORD, TOKEN, REDIS_PASSWORD, ACL_PASSWORD, 'wrong-S3cret'];

let pki: Pki;
let dir: string;
const procs: Proc[] = [];

async function startServer(name: string, cmd: string, args: string[], port: number): Promise<Proc> {
  const p = new Proc(name, cmd, args, process.env, dir);
  procs.push(p);
  await waitFor(
    `${name} on ${port}`,
    () => {
      if (!p.alive) throw new Error(`${name} exited: ${p.output.slice(-2000)}`);
      return reachable(port);
    },
    20_000,
    50,
  );
  return p;
}

function assertNoSecret(text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `a secret leaked into: ${text}`);
}

/** The whole error chain as text (message, cause messages, stack), which is what a log line would carry. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e !== undefined && e !== null && i < 6; i++) {
    parts.push(String((e as Error).message), String((e as Error).stack ?? ''));
    e = (e as Error).cause;
  }
  return parts.join('\n');
}

async function refused(what: RegExp, f: () => Promise<unknown>): Promise<string> {
  let caught: unknown;
  try {
    const r = await f();
    if (r && typeof (r as Bus).close === 'function') await (r as Bus).close();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, 'the connection should have been refused');
  const text = errorText(caught);
  assert.match((caught as Error).message, what);
  assertNoSecret(text);
  return (caught as Error).message;
}

let natsTlsPort = 0;
let natsTokenPort = 0;
let natsJwtPort = 0;
const jwtAuth = makeNatsJwtAuth();
let nkeySeed = '';
let redisPort = 0;
let redisTlsPort = 0;

before(async () => {
  pki = makePki();
  dir = mkdtempSync(join(tmpdir(), 'kec-sec-'));
  const nkey = createUser();
  nkeySeed = new TextDecoder().decode(nkey.getSeed());
  natsTlsPort = await freePort();
  natsTokenPort = await freePort();
  natsJwtPort = await freePort();
  writeFileSync(
    join(dir, 'nats-jwt.conf'),
    `listen: 127.0.0.1:${natsJwtPort}
jetstream { store_dir: "${join(dir, 'js-jwt')}", max_memory_store: 64MB, max_file_store: 256MB }
${jwtAuth.serverConfig}`,
  );
  writeFileSync(
    join(dir, 'nats-tls.conf'),
    `listen: 127.0.0.1:${natsTlsPort}
jetstream { store_dir: "${join(dir, 'js-tls')}", max_memory_store: 64MB, max_file_store: 256MB }
tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.caCert}", timeout: 5 }
authorization {
  users: [
    { user: alice, password: "${PASSWORD}" }
    { nkey: ${nkey.getPublicKey()} }
  ]
}
`,
  );
  writeFileSync(
    join(dir, 'nats-token.conf'),
    `listen: 127.0.0.1:${natsTokenPort}
jetstream { store_dir: "${join(dir, 'js-token')}", max_memory_store: 64MB, max_file_store: 256MB }
authorization { token: "${TOKEN}" }
`,
  );
  redisPort = await freePort();
  redisTlsPort = await freePort();
  writeFileSync(
    join(dir, 'redis.conf'),
    `bind 127.0.0.1
port ${redisPort}
tls-port ${redisTlsPort}
tls-cert-file ${pki.serverCert}
tls-key-file ${pki.serverKey}
tls-ca-cert-file ${pki.caCert}
tls-auth-clients yes
save ""
appendonly no
dir ${dir}
requirepass ${REDIS_PASSWORD}
user bob on >${ACL_PASSWORD} ~* &* +@all
`,
  );
  await Promise.all([
    startServer('nats-tls', '/usr/sbin/nats-server', ['-c', join(dir, 'nats-tls.conf')], natsTlsPort),
    startServer('nats-token', '/usr/sbin/nats-server', ['-c', join(dir, 'nats-token.conf')], natsTokenPort),
    startServer('nats-jwt', '/usr/sbin/nats-server', ['-c', join(dir, 'nats-jwt.conf')], natsJwtPort),
    startServer('redis', 'redis-server', [join(dir, 'redis.conf')], redisPort),
  ]);
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM', 10_000)));
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

describe('nats', () => {
  const connectTls = (security: NatsSecurity, url = `tls://127.0.0.1:${natsTlsPort}`) =>
    connectBus({ url, name: 'kec-security-test', logger: silent, security, timeoutMs: 3000 });
  const ca = () => ({ tlsCaFile: pki.caCert });

  test('nats - user/password over TLS with the test CA connects and JetStream answers', async () => {
    const bus = await connectTls({ ...ca(), user: 'alice', password: PASSWORD });
    try {
      assert.ok((await bus.jsm.getAccountInfo()).limits);
    } finally {
      await bus.close();
    }
  });

  test('nats - user:password in the URL is parsed and passed explicitly; a wrong one is refused without the secret', async () => {
    const bus = await connectTls(ca(), `nats://alice:${PASSWORD}@127.0.0.1:${natsTlsPort}`);
    await bus.close();
    const msg = await refused(/^NATS: cannot connect to nats:\/\/127\.0\.0\.1:\d+: .*(Authorization|auth)/i, () =>
      connectTls(ca(), `nats://alice:wrong-S3cret@127.0.0.1:${natsTlsPort}`),
    );
    assert.ok(!msg.includes('alice:'), msg);
  });

  test('nats - wrong password refused: the error names NATS and not the secret', async () => {
    await refused(/^NATS: .*Authorization Violation/i, () =>
      connectTls({ ...ca(), user: 'alice', password: 'wrong-S3cret' }),
    );
  });

  test('nats - NKey seed connects; an unknown NKey is refused', async () => {
    const bus = await connectTls({ ...ca(), nkeySeed });
    await bus.close();
    const stranger = new TextDecoder().decode(createUser().getSeed());
    await refused(/^NATS: /, () => connectTls({ ...ca(), nkeySeed: stranger }));
  });

  test('nats - mutual TLS: the client certificate is presented', async () => {
    const bus = await connectTls({
      ...ca(),
      tlsCertFile: pki.clientCert,
      tlsKeyFile: pki.clientKey,
      user: 'alice',
      password: PASSWORD,
    });
    await bus.close();
  });

  test('nats - a server certificate from another CA is refused', async () => {
    await refused(/^NATS: /, () => connectTls({ tlsCaFile: pki.otherCaCert, user: 'alice', password: PASSWORD }));
  });

  test('nats - token connects; a wrong token is refused without the token', async () => {
    const url = `nats://127.0.0.1:${natsTokenPort}`;
    const bus = await connectBus({ url, name: 't', logger: silent, security: { token: TOKEN }, timeoutMs: 3000 });
    await bus.close();
    await refused(/^NATS: .*Authorization Violation/i, () =>
      connectBus({ url, name: 't', logger: silent, security: { token: 'wrong-S3cret' }, timeoutMs: 3000 }),
    );
  });

  test('nats - a creds file (user JWT + seed) connects with JetStream; an untrusted account is refused', async () => {
    const url = `nats://127.0.0.1:${natsJwtPort}`;
    const bus = await connectBus({
      url,
      name: 't',
      logger: silent,
      security: { creds: jwtAuth.creds },
      timeoutMs: 3000,
    });
    try {
      assert.ok((await bus.jsm.getAccountInfo()).limits);
    } finally {
      await bus.close();
    }
    await refused(/^NATS: /, () =>
      connectBus({ url, name: 't', logger: silent, security: { creds: jwtAuth.strangerCreds }, timeoutMs: 3000 }),
    );
  });

  test('nats - TLS configured (tls:// or a CA) never falls back to plaintext', async () => {
    await refused(/^NATS: .*tls/i, () =>
      connectBus({
        url: `tls://127.0.0.1:${natsTokenPort}`,
        name: 't',
        logger: silent,
        security: { token: TOKEN },
        timeoutMs: 3000,
      }),
    );
    await refused(/^NATS: .*tls/i, () =>
      connectBus({
        url: `nats://127.0.0.1:${natsTokenPort}`,
        name: 't',
        logger: silent,
        security: { token: TOKEN, tlsCaFile: pki.caCert },
        timeoutMs: 3000,
      }),
    );
  });
});

describe('redis', () => {
  /** PING on a fresh connection; rejects with the first error the client emitted (the server's refusal). */
  const ping = async (url: string, security: RedisSecurity): Promise<string> => {
    const conn = redisConnection(url, security);
    const r = new Redis(conn.url, {
      ...conn.options,
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    let first: unknown;
    r.on('error', (err: unknown) => {
      first ??= err;
    });
    try {
      await r.connect();
      return await r.ping();
    } catch (err) {
      throw first ?? err;
    } finally {
      r.disconnect();
    }
  };
  const tls = () => ({ tlsCaFile: pki.caCert, tlsCertFile: pki.clientCert, tlsKeyFile: pki.clientKey });

  test('redis - requirepass: the right password answers, a wrong one is an auth error without the secret', async () => {
    assert.equal(await ping(`redis://127.0.0.1:${redisPort}`, { password: REDIS_PASSWORD }), 'PONG');
    assert.equal(await ping(`redis://:${REDIS_PASSWORD}@127.0.0.1:${redisPort}`, {}), 'PONG');
    const err = await ping(`redis://127.0.0.1:${redisPort}`, { password: 'wrong-S3cret' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isRedisAuthError(err), String(err));
    assertNoSecret(errorText(err));
  });

  test('redis - ACL user over TLS with a client certificate', async () => {
    assert.equal(
      await ping(`rediss://127.0.0.1:${redisTlsPort}`, { ...tls(), user: 'bob', password: ACL_PASSWORD }),
      'PONG',
    );
    const err = await ping(`rediss://127.0.0.1:${redisTlsPort}`, {
      ...tls(),
      user: 'bob',
      password: 'wrong-S3cret',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isRedisAuthError(err), String(err));
    assertNoSecret(errorText(err));
  });

  test('redis - TLS configured never talks plaintext: a CA against the plaintext port fails', async () => {
    await assert.rejects(ping(`redis://127.0.0.1:${redisPort}`, { ...tls(), password: REDIS_PASSWORD }));
    await assert.rejects(
      ping(`rediss://127.0.0.1:${redisTlsPort}`, { tlsCaFile: pki.otherCaCert, password: REDIS_PASSWORD }),
    );
  });

  test('redis - CacheStore connects with the shared security keys and reports refused credentials once', async () => {
    const good = await CacheStore.connect({
      url: `rediss://127.0.0.1:${redisTlsPort}`,
      security: { ...tls(), user: 'bob', password: ACL_PASSWORD },
      cluster: 'c',
      prefix: `kec:sec:${process.pid}:`,
    });
    try {
      assert.equal(good.available, true);
    } finally {
      await good.close();
    }
    const lines: string[] = [];
    const logger = {
      info: () => {},
      warn: (o: object, m?: string) => lines.push(`${m} ${JSON.stringify(o)}`),
      error: (o: object, m?: string) => lines.push(`${m} ${JSON.stringify(o)}`),
    };
    const bad = await CacheStore.connect({
      url: `redis://127.0.0.1:${redisPort}`,
      security: { password: 'wrong-S3cret' },
      cluster: 'c',
      connectWaitMs: 500,
      logger,
    });
    try {
      assert.equal(bad.available, false);
      await waitFor('the refusal logged', () => lines.length > 0, 5000, 20);
      assert.match(lines[0]!, /^redis refused the credentials .*WRONGPASS/);
      assertNoSecret(lines.join('\n'));
    } finally {
      await bad.close();
    }
  });
});

describe('config and metrics', () => {
  test('config - secrets from *_FILE keys, masked by redactConfig', () => {
    const f = join(dir, 'nats-password');
    writeFileSync(f, `${PASSWORD}\n`);
    const env = {
      KEC_NATS_PASSWORD_FILE: f,
      KEC_NATS_USER: 'alice',
      KEC_REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:6379`,
    };
    const cfg = loadConfig(sharedConfigSpec, { env });
    assert.equal(cfg.natsPassword, PASSWORD);
    const shown = JSON.stringify(redactConfig(sharedConfigSpec, cfg));
    assertNoSecret(shown);
    assert.match(shown, /"natsPassword":"\*\*\*"/);
  });

  test('metrics - KEC_METRICS_HOST and TLS: HTTPS on the chosen address only', async () => {
    const t = await startTelemetry({
      service: 'sec-test',
      port: 0,
      host: '127.0.0.1',
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey },
      logger: silent,
    });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: t.port, path: '/healthz', ca: readFileSync(pki.caCert) },
          (res) => {
            let b = '';
            res.on('data', (d: Buffer) => {
              b += d.toString();
            });
            res.on('end', () => resolve(b));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.match(body, /"status":"ok"/);
      const plain = await fetch(`http://127.0.0.1:${t.port}/healthz`).then(
        () => 'answered',
        () => 'refused',
      );
      assert.equal(plain, 'refused');
    } finally {
      await t.close();
    }
  });
});
