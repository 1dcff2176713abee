// Credentials and TLS of the NATS connection: the shared config keys become nats.js connect options.
// Secrets are passed to the client explicitly and never appear in a server list, a log line or an error.
import {
  type Authenticator,
  credsAuthenticator,
  type NodeConnectionOptions,
  nkeyAuthenticator,
  type TlsOptions,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from '@nats-io/transport-node';
import { BusConnectError } from './errors.ts';

/** How the connection authenticates and encrypts (the KEC_NATS_* keys of the shared config). */
export interface NatsSecurity {
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  /** A user NKey seed (`SU...`). */
  nkeySeed?: string | undefined;
  /** The contents of a `.creds` file (user JWT + seed). */
  creds?: string | undefined;
  /** PEM CA bundle file; set: TLS is required and the server certificate is checked against it. */
  tlsCaFile?: string | undefined;
  /** PEM client certificate and key files (mutual TLS); set: TLS is required. */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
}

/** The shared-config fields `natsSecurity` reads (structurally: @kec/bus does not depend on @kec/config). */
export interface NatsSecurityConfig {
  natsUser?: string | undefined;
  natsPassword?: string | undefined;
  natsToken?: string | undefined;
  natsNkeySeed?: string | undefined;
  natsCreds?: string | undefined;
  natsTlsCaFile?: string | undefined;
  natsTlsCertFile?: string | undefined;
  natsTlsKeyFile?: string | undefined;
}

/** The NatsSecurity of the shared config: `connectBus({ url, security: natsSecurity(ctx.shared), ... })`. */
export function natsSecurity(c: NatsSecurityConfig): NatsSecurity {
  return {
    user: c.natsUser,
    password: c.natsPassword,
    token: c.natsToken,
    nkeySeed: c.natsNkeySeed,
    creds: c.natsCreds,
    tlsCaFile: c.natsTlsCaFile,
    tlsCertFile: c.natsTlsCertFile,
    tlsKeyFile: c.natsTlsKeyFile,
  };
}

export interface ParsedServers {
  /** `host:port` of every URL, credentials removed: safe to log. */
  servers: string[];
  /** What the URLs say to display: the servers with their scheme, no credentials. */
  display: string;
  /** A user and password found in a URL (the client ignores them there, so they are passed explicitly). */
  user?: string;
  password?: string;
  /** A `tls://` URL: the connection must be encrypted. */
  tls: boolean;
}

/** Splits `nats://u:p@a:4222,tls://b:4222` into servers without credentials, the credentials and the TLS demand. */
export function parseServers(url: string): ParsedServers {
  const out: ParsedServers = { servers: [], display: '', tls: false };
  const shown: string[] = [];
  for (const raw of url.split(',')) {
    const text = raw.trim();
    if (text === '') continue;
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `nats://${text}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch (cause) {
      // The URL may hold a password: say which entry (by position) is wrong, not what it is.
      throw new BusConnectError(`NATS: server URL #${shown.length + 1} of KEC_NATS_URL does not parse`, { cause });
    }
    const scheme = u.protocol.replace(/:$/, '');
    if (scheme === 'tls') out.tls = true;
    if (u.username !== '' && out.user === undefined) {
      out.user = decodeURIComponent(u.username);
      if (u.password !== '') out.password = decodeURIComponent(u.password);
    }
    const port = u.port === '' ? '4222' : u.port;
    out.servers.push(`${u.hostname}:${port}`);
    shown.push(`${scheme}://${u.hostname}:${port}`);
  }
  out.display = shown.join(',');
  return out;
}

/**
 * The auth and TLS part of the nats.js connect options. Several mechanisms may be configured at once (the server
 * picks what it accepts); TLS is demanded by a `tls://` URL, a CA or a client certificate, and then the client
 * refuses a server that does not offer it (no plaintext fallback).
 */
export function securityOptions(parsed: ParsedServers, sec: NatsSecurity = {}): Partial<NodeConnectionOptions> {
  const authenticators: Authenticator[] = [];
  const user = sec.user ?? parsed.user;
  const password = sec.user !== undefined ? sec.password : (sec.password ?? parsed.password);
  if (user !== undefined) authenticators.push(usernamePasswordAuthenticator(user, password));
  if (sec.token !== undefined) authenticators.push(tokenAuthenticator(sec.token));
  if (sec.nkeySeed !== undefined) {
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(sec.nkeySeed.trim())));
  }
  if (sec.creds !== undefined) authenticators.push(credsAuthenticator(new TextEncoder().encode(sec.creds)));
  const opts: Partial<NodeConnectionOptions> = {};
  if (authenticators.length > 0) opts.authenticator = authenticators;
  if (sec.tlsCertFile !== undefined && sec.tlsKeyFile === undefined) {
    throw new BusConnectError('NATS: a TLS client certificate needs its key (KEC_NATS_TLS_KEY_FILE)');
  }
  const wantTls = parsed.tls || sec.tlsCaFile !== undefined || sec.tlsCertFile !== undefined;
  if (wantTls) {
    const tls: TlsOptions = {};
    if (sec.tlsCaFile !== undefined) tls.caFile = sec.tlsCaFile;
    if (sec.tlsCertFile !== undefined) tls.certFile = sec.tlsCertFile;
    if (sec.tlsKeyFile !== undefined) tls.keyFile = sec.tlsKeyFile;
    opts.tls = tls;
  }
  return opts;
}

/** Removes every configured secret from a text (belt and braces for error messages from the client). */
export function scrubSecrets(text: string, parsed: ParsedServers, sec: NatsSecurity = {}): string {
  let out = text;
  for (const s of [parsed.password, sec.password, sec.token, sec.nkeySeed]) {
    if (s !== undefined && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}
