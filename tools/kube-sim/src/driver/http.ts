// A small Kubernetes API client for the driver: one keep-alive agent, JSON in and out, the content types real
// recorders send. It is deliberately not @kubernetes/client-node: the driver plays the control plane (kubelet,
// controllers), which talk through client-go's REST client, and it must push thousands of writes per second.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parse as parseYaml } from 'yaml';
import { KubeApiError } from './errors.ts';

export interface KubeTarget {
  /** e.g. http://127.0.0.1:6443 */
  url: string;
  token?: string;
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

export const CONTENT_JSON = 'application/json';
export const CONTENT_MERGE_PATCH = 'application/merge-patch+json';
export const CONTENT_STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export class KubeClient {
  readonly url: URL;
  readonly #token: string | undefined;
  readonly #agent: http.Agent;
  readonly #mod: typeof http | typeof https;
  requests = 0;

  constructor(target: KubeTarget, opts: { maxSockets?: number } = {}) {
    this.url = new URL(target.url);
    this.#token = target.token;
    const https_ = this.url.protocol === 'https:';
    this.#mod = https_ ? https : http;
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, keepAliveMsecs: 10_000 };
    this.#agent = https_ ? new https.Agent({ ...agentOpts, rejectUnauthorized: false }) : new http.Agent(agentOpts);
  }

  /** Reads server and bearer token from a kubeconfig file (current context). */
  static fromKubeconfig(path: string, opts: { maxSockets?: number } = {}): KubeClient {
    const kc = parseYaml(readFileSync(path, 'utf8')) as {
      'current-context'?: string;
      contexts?: { name: string; context: { cluster: string; user: string } }[];
      clusters?: { name: string; cluster: { server: string } }[];
      users?: { name: string; user: { token?: string } }[];
    };
    const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
    const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? kc.clusters?.[0];
    const user = kc.users?.find((u) => u.name === ctx?.context.user) ?? kc.users?.[0];
    if (!cluster) throw new KubeApiError(`kubeconfig ${path} has no cluster`, { status: 0, retryable: false });
    return new KubeClient({ url: cluster.cluster.server, token: user?.user.token }, opts);
  }

  /** Sends one request; the body may be a pre-serialised string. Never throws on HTTP status; throws on I/O errors. */
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = CONTENT_JSON,
    raw = false,
  ): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (this.#token) headers['Authorization'] = `Bearer ${this.#token}`;
    if (payload !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    this.requests++;
    return new Promise((resolve, reject) => {
      const req = this.#mod.request(
        {
          agent: this.#agent,
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path: this.url.pathname.replace(/\/$/, '') + path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            const status = res.statusCode ?? 0;
            // raw: a successful answer stays text (the event writers only need metadata.uid from it).
            if (!(raw && status < 300) && text.length > 0 && (text[0] === '{' || text[0] === '[')) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolve({ status, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.end(payload);
      else req.end();
    });
  }

  /** Like request, but throws KubeApiError on a non-2xx answer. */
  async must(method: string, path: string, body?: unknown, contentType = CONTENT_JSON): Promise<unknown> {
    const res = await this.request(method, path, body, contentType);
    if (res.status < 200 || res.status >= 300) {
      throw new KubeApiError(`${method} ${path}: HTTP ${res.status} ${statusMessage(res.body)}`, {
        status: res.status,
        retryable: res.status === 429 || res.status >= 500,
      });
    }
    return res.body;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export function statusMessage(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body.slice(0, 200) : '';
}
