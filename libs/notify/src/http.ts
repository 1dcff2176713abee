// One HTTP attempt and the classification of its outcome: 2xx = delivered (unless the notifier reads a failure in
// the body), 408/429/5xx and network errors = retry later (honouring Retry-After), any other status = permanent.
import { DeliveryError } from './errors.ts';

export interface HttpRequest {
  url: string;
  method?: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Milliseconds asked for by a Retry-After header (delta-seconds or an HTTP date); undefined when absent or bad. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

const BODY_MAX = 512;

/** True for statuses worth retrying: 408 (timeout), 425, 429 (too many requests) and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Sends one request. Resolves with the answer when the status is 2xx; rejects with DeliveryError otherwise.
 * `describe` names the target in messages without secrets (the URL may carry a token).
 */
export async function send(
  req: HttpRequest,
  opts: { timeoutMs: number; describe: string; fetch?: FetchLike; signal?: AbortSignal },
): Promise<HttpAnswer> {
  const doFetch = opts.fetch ?? fetch;
  const signals = [AbortSignal.timeout(opts.timeoutMs)];
  if (opts.signal) signals.push(opts.signal);
  let res: Response;
  try {
    res = await doFetch(req.url, {
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.any(signals),
      redirect: 'manual',
    });
  } catch (cause) {
    const why =
      cause instanceof Error && cause.name === 'TimeoutError'
        ? `timed out after ${opts.timeoutMs} ms`
        : cause instanceof Error
          ? ((cause.cause as Error | undefined)?.message ?? cause.message)
          : String(cause);
    throw new DeliveryError(`${opts.describe}: request failed: ${why}`, { cause, retryable: true });
  }
  let body = '';
  try {
    body = await res.text();
  } catch {
    // a body cut short does not change the status
  }
  if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, body };
  const retryable = isRetryableStatus(res.status);
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  const snippet = body.length > BODY_MAX ? `${body.slice(0, BODY_MAX - 1)}…` : body;
  throw new DeliveryError(`${opts.describe}: HTTP ${res.status}${snippet ? `: ${snippet.replace(/\s+/g, ' ')}` : ''}`, {
    retryable,
    status: res.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    responseBody: snippet,
  });
}
