// A thin HTTP client for the Kubernetes API. Auth and TLS come from the kubeconfig or the in-cluster service
// account (kubeconfig.ts; client-node's KubeConfig and its applyToHTTPSOptions for exec/auth-provider users or when
// given one); requests and watch streams are our own over node:http/https so that bodies stay raw JSON (MicroTime
// strings intact, no ObjectSerializer) and a watch is a plain byte stream we read line by line.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeConfigError, KubeConnectionError } from './errors.ts';
import { authFromKubeConfig, type KubeAuth, type LoadKubeConfigOptions, loadKubeAuth } from './kubeconfig.ts';

export type { LoadKubeConfigOptions } from './kubeconfig.ts';

/** Either a client-node KubeConfig or kec's lightweight auth (see kubeconfig.ts). */
export type KubeConfigLike = KubeConfig | KubeAuth;

/** Loads the config like client-node's loadFromDefault (kubeconfig, then in-cluster). */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfigLike {
  return loadKubeAuth(opts);
}

function isKubeAuth(c: KubeConfigLike): c is KubeAuth {
  return (c as KubeAuth).kind === 'kec-auth';
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Abort the request if no response (headers and body) within this many ms. Default 30 s. */
  timeoutMs?: number;
}

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
}

export function buildPath(path: string, query: Query | undefined): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

/** Reads a Status body into a KubeApiError. */
export function apiError(code: number, text: string, what: string): KubeApiError {
  let status: unknown = text;
  let message = text.slice(0, 300);
  let reason: string | undefined;
  try {
    const parsed = JSON.parse(text) as { message?: string; reason?: string };
    status = parsed;
    if (typeof parsed.message === 'string') message = parsed.message;
    if (typeof parsed.reason === 'string') reason = parsed.reason;
  } catch {
    // not JSON: keep the raw text
  }
  return new KubeApiError(`${what}: HTTP ${code}: ${message}`, { code, reason, status });
}

export class KubeClient {
  /** What the client was built from (pass it to `new KubeClient()` for another client to the same cluster). */
  readonly kubeConfig: KubeConfigLike;
  readonly server: URL;
  readonly #auth: KubeAuth;
  readonly #agent: http.Agent;
  readonly #mod: typeof http | typeof https;

  constructor(config: KubeConfigLike) {
    this.kubeConfig = config;
    this.#auth = isKubeAuth(config) ? config : authFromKubeConfig(config);
    this.server = new URL(this.#auth.server);
    const isHttps = this.server.protocol === 'https:';
    if (!isHttps && !this.#auth.skipTLSVerify && this.#auth.source !== 'in-cluster') {
      // Same rule as client-node: plain HTTP only when the kubeconfig explicitly skips TLS verification.
      throw new KubeConfigError('HTTP protocol is not allowed when insecure-skip-tls-verify is not set');
    }
    this.#mod = isHttps ? https : http;
    // One keep-alive agent for all requests; TLS material is applied per request.
    this.#agent = isHttps
      ? new https.Agent({ keepAlive: true, maxSockets: 64 })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  static fromKubeConfig(kc: KubeConfigLike): KubeClient {
    return new KubeClient(kc);
  }

  /** Loads kubeconfig/in-cluster config (client-node's order) and builds a client. */
  static load(opts: LoadKubeConfigOptions = {}): KubeClient {
    return new KubeClient(loadKubeConfig(opts));
  }

  /** Where the credentials came from: `in-cluster`, `kubeconfig <path>` or `client-node`. */
  get authSource(): string {
    return this.#auth.source;
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  async #options(method: string, path: string): Promise<https.RequestOptions> {
    // Headers are re-evaluated per request so rotated tokens are picked up.
    const [tls, headers] = await Promise.all([this.#auth.tls(), this.#auth.headers()]);
    const base = this.server.pathname.replace(/\/$/, '');
    return {
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ''),
      port: this.server.port || (this.server.protocol === 'https:' ? 443 : 80),
      method,
      path: base + path,
      agent: this.#agent,
      headers: { Accept: 'application/json', ...headers },
      ...tls,
    };
  }

  /**
   * Starts a request and resolves with the response (headers received). The caller owns the body.
   * Rejects with KubeConnectionError on network errors.
   */
  async open(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; signal?: AbortSignal; headers?: Record<string, string> } = {},
  ): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    const o = await this.#options(method, buildPath(path, opts.query));
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      const ct = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      o.headers = { ...(o.headers as Record<string, string>), 'Content-Type': ct, ...opts.headers };
    } else if (opts.headers) {
      o.headers = { ...(o.headers as Record<string, string>), ...opts.headers };
    }
    opts.signal?.throwIfAborted();
    return await new Promise((resolve, reject) => {
      const req = this.#mod.request(o);
      const onAbort = (): void => {
        req.destroy(new KubeConnectionError(`${method} ${path}: aborted`, { cause: opts.signal?.reason }));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.once('response', (res) => {
        opts.signal?.removeEventListener('abort', onAbort);
        // Re-arm abort for the body phase: destroying the response ends any pending read.
        if (opts.signal) {
          const onAbortBody = (): void => {
            res.destroy(new KubeConnectionError(`${method} ${path}: aborted`, { cause: opts.signal?.reason }));
          };
          if (opts.signal.aborted) onAbortBody();
          else {
            opts.signal.addEventListener('abort', onAbortBody, { once: true });
            res.once('close', () => opts.signal?.removeEventListener('abort', onAbortBody));
          }
        }
        resolve({ res, req });
      });
      req.once('error', (err) => {
        opts.signal?.removeEventListener('abort', onAbort);
        reject(
          err instanceof KubeConnectionError
            ? err
            : new KubeConnectionError(`${method} ${path}: ${err.message}`, { cause: err }),
        );
      });
      if (payload !== undefined) req.end(payload);
      else req.end();
    });
  }

  /** A JSON request. Non-2xx responses reject with KubeApiError; network errors with KubeConnectionError. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<JsonResponse<T>> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const { res } = await this.open(method, path, { query: opts.query, body: opts.body, signal });
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      throw err instanceof KubeConnectionError
        ? err
        : new KubeConnectionError(`${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw apiError(code, text, `${method} ${path}`);
    try {
      return { status: code, body: (text ? JSON.parse(text) : undefined) as T };
    } catch (err) {
      throw new KubeConnectionError(`${method} ${path}: invalid JSON body`, { cause: err });
    }
  }
}
