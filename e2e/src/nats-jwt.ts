// NATS decentralized auth for tests: an operator, one account with JetStream and one user, as signed JWTs (the
// nats-server v2 claim format), plus the user's `.creds` file and the server config lines that trust them.
import { createHash } from 'node:crypto';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

/** A signed JWT: `header.claims.signature`, ed25519 over the first two parts by the issuer's NKey. */
function sign(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = {
    jti: '',
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  claims['jti'] = createHash('sha256').update(JSON.stringify(claims)).digest('base64url').toUpperCase();
  const body = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(issuer.sign(new TextEncoder().encode(body)))}`;
}

export interface NatsJwtAuth {
  /** Lines for the nats-server config: the operator, a memory resolver and the preloaded account. */
  serverConfig: string;
  /** The user's credentials file contents (JWT + seed). */
  creds: string;
  /** Credentials of a user of an account the server does not trust. */
  strangerCreds: string;
}

function credsFile(jwt: string, user: KeyPair): string {
  const seed = new TextDecoder().decode(user.getSeed());
  return `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
}

export function makeNatsJwtAuth(): NatsJwtAuth {
  const operator = createOperator();
  const account = createAccount();
  const user = createUser();
  const opJwt = sign(operator, operator.getPublicKey(), 'kec-test-operator', { type: 'operator' });
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const accJwt = sign(operator, account.getPublicKey(), 'kec-test-account', {
    type: 'account',
    limits: { ...unlimited, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    default_permissions: { pub: {}, sub: {} },
  });
  const userClaims = { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 };
  const userJwt = sign(account, user.getPublicKey(), 'kec-test-user', userClaims);
  // JetStream needs a system account for its internal subscriptions.
  const system = createAccount();
  const sysJwt = sign(operator, system.getPublicKey(), 'SYS', {
    type: 'account',
    limits: unlimited,
    default_permissions: { pub: {}, sub: {} },
  });
  const otherAccount = createAccount();
  const stranger = createUser();
  const strangerJwt = sign(otherAccount, stranger.getPublicKey(), 'stranger', userClaims);
  return {
    serverConfig: [
      `operator: "${opJwt}"`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: { ${account.getPublicKey()}: "${accJwt}", ${system.getPublicKey()}: "${sysJwt}" }`,
      '',
    ].join('\n'),
    creds: credsFile(userJwt, user),
    strangerCreds: credsFile(strangerJwt, stranger),
  };
}
