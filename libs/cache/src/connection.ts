// Redis connection security shared by every kec Redis client (the enricher cache, the correlator state):
// ACL user/password and TLS with a custom CA and client certificate. Secrets go to ioredis as options, never in logs.
import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import { CacheConfigError } from './errors.ts';

/** Credentials and TLS of a Redis connection (the KEC_REDIS_* keys of the shared config). */
export interface RedisSecurity {
  user?: string | undefined;
  password?: string | undefined;
  /** PEM CA bundle file; set: TLS is required and the server certificate is checked against it. */
  tlsCaFile?: string | undefined;
  /** PEM client certificate and key files (mutual TLS). */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
}

/** The shared-config fields `redisSecurity` reads (structurally: @kec/cache does not depend on @kec/config). */
export interface RedisSecurityConfig {
  redisUser?: string | undefined;
  redisPassword?: string | undefined;
  redisTlsCaFile?: string | undefined;
  redisTlsCertFile?: string | undefined;
  redisTlsKeyFile?: string | undefined;
}

export function redisSecurity(c: RedisSecurityConfig): RedisSecurity {
  return {
    user: c.redisUser,
    password: c.redisPassword,
    tlsCaFile: c.redisTlsCaFile,
    tlsCertFile: c.redisTlsCertFile,
    tlsKeyFile: c.redisTlsKeyFile,
  };
}

/** `host:port` of a Redis URL, for messages (never the credentials). */
export function redisTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port === '' ? '6379' : u.port}`;
  } catch {
    return 'redis (unparsable URL)';
  }
}

/**
 * The URL and options for `new Redis(url, options)`: explicit credentials replace those of the URL (ioredis would
 * otherwise prefer the URL's), and TLS is on for a `rediss://` URL, a CA or a client certificate. Throws
 * CacheConfigError when a TLS file cannot be read.
 */
export function redisConnection(url: string, sec: RedisSecurity = {}): { url: string; options: RedisOptions } {
  const options: RedisOptions = {};
  let target = url;
  if (sec.user !== undefined || sec.password !== undefined) {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    target = u.toString();
    if (sec.user !== undefined) options.username = sec.user;
    if (sec.password !== undefined) options.password = sec.password;
  }
  if (sec.tlsCertFile !== undefined && sec.tlsKeyFile === undefined) {
    throw new CacheConfigError('redis: a TLS client certificate needs its key (KEC_REDIS_TLS_KEY_FILE)');
  }
  const wantTls = url.startsWith('rediss://') || sec.tlsCaFile !== undefined || sec.tlsCertFile !== undefined;
  if (wantTls) {
    const read = (path: string | undefined): Buffer | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (cause) {
        throw new CacheConfigError(`redis: cannot read the TLS file ${path}`, { cause });
      }
    };
    const ca = read(sec.tlsCaFile);
    const cert = read(sec.tlsCertFile);
    const key = read(sec.tlsKeyFile);
    options.tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
  return { url: target, options };
}

/** True for the errors Redis answers to bad credentials (WRONGPASS, NOAUTH, NOPERM). */
export function isRedisAuthError(err: unknown): boolean {
  return /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test((err as Error)?.message ?? '');
}
