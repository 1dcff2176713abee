// Lightweight kubeconfig and in-cluster loading.
//
// Why not always client-node's KubeConfig: importing @kubernetes/client-node loads its whole generated API
// (config.js imports gen/index.js), ~90 MB of RSS before the first request, which alone breaks the watcher's
// 150 MB budget. The common cases are read here directly (the in-cluster service account, and kubeconfig users
// with token, tokenFile or client certificates), following client-node's rules (A1, A2); anything else (exec
// plugins, auth-provider, basic auth, several merged KUBECONFIG files) falls back to client-node's KubeConfig,
// loaded only then.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { KubeConfigError } from './errors.ts';

/** What a request needs: the server, TLS material and auth headers (re-evaluated per request for rotation). */
export interface KubeAuth {
  readonly kind: 'kec-auth';
  readonly server: string;
  readonly skipTLSVerify: boolean;
  /** Where it came from (for logs): `in-cluster`, `kubeconfig <path>`, or `client-node`. */
  readonly source: string;
  tls(): Promise<TlsOptions>;
  headers(): Promise<Record<string, string>>;
}

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface LoadKubeConfigOptions {
  /** Path to a kubeconfig file; when unset: $KUBECONFIG, ~/.kube/config, then in-cluster (client-node's order). */
  kubeconfigPath?: string;
  /** Force the in-cluster service-account config. */
  inCluster?: boolean;
  /** Context name to use instead of the current context. */
  context?: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_REREAD_MS = 60_000; // client-node file_auth.ts re-reads token files every 60 s

/** Reads a token file, caching it for 60 s (projected tokens rotate on disk). */
function tokenFileReader(file: string): () => string {
  let cached = '';
  let readAt = 0;
  return () => {
    const now = Date.now();
    if (!cached || now - readAt > TOKEN_REREAD_MS) {
      cached = readFileSync(file, 'utf8').trim();
      readAt = now;
    }
    return cached;
  };
}

export function inClusterAuth(env: Record<string, string | undefined> = process.env, dir = SA_DIR): KubeAuth {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new KubeConfigError('not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset');
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const caFile = path.join(dir, 'ca.crt');
  const token = tokenFileReader(path.join(dir, 'token'));
  const ca = existsSync(caFile) ? readFileSync(caFile) : undefined;
  return {
    kind: 'kec-auth',
    server: `${scheme}://${h}:${port}`,
    skipTLSVerify: false,
    source: 'in-cluster',
    tls: async () => (ca ? { ca } : {}),
    headers: async () => ({ Authorization: `Bearer ${token()}` }),
  };
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

function bufferFrom(dir: string, file: unknown, data: unknown): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(path.isAbsolute(file) ? file : path.join(dir, file));
  return undefined;
}

/** The kubeconfig file client-node would read, or undefined for in-cluster. 'multi' for a merged KUBECONFIG. */
function pickKubeconfig(opts: LoadKubeConfigOptions, env: Record<string, string | undefined>): string | undefined {
  if (opts.kubeconfigPath) return opts.kubeconfigPath;
  const kc = env.KUBECONFIG;
  if (kc) {
    const files = kc.split(path.delimiter).filter((f) => f && existsSync(f));
    if (files.length > 1) return 'multi';
    if (files.length === 1) return files[0];
  }
  const home = path.join(os.homedir(), '.kube', 'config');
  if (existsSync(home)) return home;
  return undefined;
}

/** Loads auth like client-node's loadFromDefault, without importing client-node unless it is needed. */
export function loadKubeAuth(
  opts: LoadKubeConfigOptions = {},
  env: Record<string, string | undefined> = process.env,
): KubeAuth | KubeConfig {
  if (opts.inCluster) return inClusterAuth(env);
  const file = pickKubeconfig(opts, env);
  if (file === undefined) {
    if (existsSync(path.join(SA_DIR, 'token'))) return inClusterAuth(env);
    throw new KubeConfigError('no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not in a cluster');
  }
  if (file === 'multi') return clientNodeConfig(opts);
  let doc: {
    clusters?: Named<Record<string, unknown>>[];
    users?: Named<Record<string, unknown>>[];
    contexts?: Named<Record<string, unknown>>[];
    'current-context'?: string;
  };
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new KubeConfigError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
  }
  const ctxName = opts.context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new KubeConfigError(`kubeconfig ${file}: no context ${JSON.stringify(ctxName)}`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') {
    throw new KubeConfigError(`kubeconfig ${file}: no cluster ${JSON.stringify(ctx.cluster)} with a server`);
  }
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec || user['auth-provider'] || user.username || cluster['proxy-url']) return clientNodeConfig(opts);
  const dir = path.dirname(path.resolve(file));
  const skip = cluster['insecure-skip-tls-verify'] === true;
  const tls: TlsOptions = {};
  const ca = bufferFrom(dir, cluster['certificate-authority'], cluster['certificate-authority-data']);
  if (ca) tls.ca = ca;
  const cert = bufferFrom(dir, user['client-certificate'], user['client-certificate-data']);
  if (cert) tls.cert = cert;
  const key = bufferFrom(dir, user['client-key'], user['client-key-data']);
  if (key) tls.key = key;
  if (skip) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  const tokenFile = typeof user.tokenFile === 'string' ? user.tokenFile : undefined;
  const readToken = tokenFile
    ? tokenFileReader(path.isAbsolute(tokenFile) ? tokenFile : path.join(dir, tokenFile))
    : undefined;
  const staticToken = typeof user.token === 'string' ? user.token : undefined;
  const impersonate = typeof user.as === 'string' ? user.as : undefined;
  return {
    kind: 'kec-auth',
    server: cluster.server,
    skipTLSVerify: skip,
    source: `kubeconfig ${file}`,
    tls: async () => tls,
    headers: async () => {
      const h: Record<string, string> = {};
      const t = readToken ? readToken() : staticToken;
      if (t) h.Authorization = `Bearer ${t}`;
      if (impersonate) h['Impersonate-User'] = impersonate;
      return h;
    },
  };
}

/** client-node's KubeConfig, loaded on demand (synchronously: require of its ESM build). */
export function clientNodeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const require = createRequire(import.meta.url);
  const { KubeConfig: KC } = require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
  const kc = new KC();
  try {
    if (opts.inCluster) kc.loadFromCluster();
    else if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromDefault();
    if (opts.context) kc.setCurrentContext(opts.context);
  } catch (err) {
    throw new KubeConfigError(`cannot load kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError('kubeconfig has no current cluster');
  return kc;
}

/** Wraps a client-node KubeConfig: TLS material and headers from applyToHTTPSOptions per request. */
export function authFromKubeConfig(kc: KubeConfig): KubeAuth {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError('kubeconfig has no current cluster');
  const apply = async () => {
    const o: { headers: Record<string, string> } & Record<string, unknown> = { headers: {} };
    await kc.applyToHTTPSOptions(o as never);
    return o;
  };
  return {
    kind: 'kec-auth',
    server: cluster.server,
    skipTLSVerify: cluster.skipTLSVerify === true,
    source: 'client-node',
    tls: async () => {
      const o = await apply();
      const t: TlsOptions = {};
      for (const k of ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'] as const) {
        if (o[k] !== undefined) (t as Record<string, unknown>)[k] = o[k];
      }
      return t;
    },
    headers: async () => {
      const o = await apply();
      const h = { ...o.headers };
      if (typeof o.auth === 'string') h.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      return h;
    },
  };
}
