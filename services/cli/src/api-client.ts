// The history commands' client of services/api: where the server is (`--server`, `KEC_API_URL`, `server:` in
// ~/.kec/config), the bearer token (`KEC_API_TOKEN`, `token:` in ~/.kec/config; never a flag, so it stays out of
// shell history and `ps`), JSON GETs with the API's Kubernetes-style Status errors turned into one line, and the
// Server-Sent Events stream of /api/v1/watch.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Status } from '@kec/api';
import { parse as yamlParse } from 'yaml';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** A failure the user must see as one line; `usage` ones exit 2, the others 1. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

export interface ApiTarget {
  /** Base URL without the trailing slash, e.g. `http://127.0.0.1:8080`. */
  server: string;
  token?: string | undefined;
}

interface KecConfigFile {
  server?: string;
  token?: string;
}

/** `~/.kec/config` (YAML: `server:` and `token:`); a missing file is empty, a bad one is an error. */
export function readKecConfig(path: string): KecConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, 2);
  }
  let doc: unknown;
  try {
    doc = yamlParse(text);
  } catch (err) {
    throw new CliError(`${path}: not YAML: ${(err as Error).message.split('\n')[0]}`, 2);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CliError(`${path}: expected keys server and token`, 2);
  const o = doc as Record<string, unknown>;
  const str = (k: string) => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new CliError(`${path}: ${k} must be a string`, 2);
    return v;
  };
  const server = str('server');
  const token = str('token');
  return { ...(server ? { server } : {}), ...(token ? { token } : {}) };
}

/** Flag, then env, then ~/.kec/config (or KEC_CLI_CONFIG_DIR/config), then the default. */
export function resolveTarget(flagServer: string | undefined, env: Record<string, string | undefined>): ApiTarget {
  const file = join(env['KEC_CLI_CONFIG_DIR'] || join(env['HOME'] || homedir(), '.kec'), 'config');
  const cfg = readKecConfig(file);
  const server = (flagServer || env['KEC_API_URL'] || cfg.server || DEFAULT_API_URL).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`invalid server URL "${server}" (expected http(s)://host:port)`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server URL "${server}" (expected http(s)://host:port)`, 2);
  }
  return { server, token: env['KEC_API_TOKEN'] || cfg.token || undefined };
}

/** Query string of the defined, non-empty values. */
export function queryString(q: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

function isStatus(x: unknown): x is Status {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Status';
}

function unreachable(target: ApiTarget, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(`cannot reach the kec API at ${target.server} (${why}); set --server or KEC_API_URL`, 1, {
    cause: err,
  });
}

async function failure(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  let msg = isStatus(body) ? body.message : text.trim().split('\n')[0] || res.statusText;
  if (res.status === 401) msg += ' (set KEC_API_TOKEN or token: in ~/.kec/config)';
  return new CliError(`${msg} (HTTP ${res.status})`);
}

/** GET `path` (with query) as JSON; Status errors and unreachable servers become a one-line CliError. */
export async function getJson<T>(target: ApiTarget, path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.server}${path}`, {
      headers: {
        accept: 'application/json',
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      },
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    throw unreachable(target, err);
  }
  if (!res.ok) throw await failure(res);
  try {
    return (await res.json()) as T;
  } catch (err) {
    throw new CliError(`the API at ${target.server} answered ${path} with something other than JSON`, 1, {
      cause: err,
    });
  }
}

export interface SseFrame {
  event: string;
  data: string;
}

/** Splits a Server-Sent Events byte stream into frames (`event:` + `data:` lines; comments dropped). */
export async function* sseFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buf = '';
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      if (line === '') {
        if (data.length) yield { event, data: data.join('\n') };
        event = 'message';
        data = [];
      } else if (line.startsWith(':')) {
        // comment (keepalive)
      } else {
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    }
  }
}

/** Opens GET /api/v1/watch (SSE) and yields its frames until the server ends it or `signal` aborts. */
export async function* watch(target: ApiTarget, query: string, signal: AbortSignal): AsyncGenerator<SseFrame> {
  let res: Response;
  try {
    res = await fetch(`${target.server}/api/v1/watch${query}`, {
      headers: {
        accept: 'text/event-stream',
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      },
      signal,
    });
  } catch (err) {
    if (signal.aborted) return;
    throw unreachable(target, err);
  }
  if (!res.ok) throw await failure(res);
  if (!res.body) throw new CliError('the watch stream has no body');
  try {
    yield* sseFrames(res.body as unknown as AsyncIterable<Uint8Array>);
  } catch (err) {
    if (signal.aborted) return;
    throw new CliError(`the watch stream broke: ${(err as Error).message}`, 1, { cause: err });
  }
}
