// WATCH as an async iterator of raw frames. One JSON document per line (apiserver json.Encoder, L5); objects are
// JSON.parse output, so MicroTime and Time strings are kept exactly as the server sent them.
import { apiError, type KubeClient } from './client.ts';
import { KubeConnectionError } from './errors.ts';

export type WatchFrameType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchFrame {
  type: WatchFrameType;
  object: Record<string, unknown> & { metadata?: { resourceVersion?: string; uid?: string } };
}

export interface WatchOptions {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server-side timeout: the server ends the stream cleanly after this many seconds. */
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
  /** Client-side: fail with KubeConnectionError when no byte arrives for this long (dead TCP). Default off. */
  idleTimeoutMs?: number;
}

/**
 * Opens a watch and yields its frames until the server closes the stream (clean EOF ends the iterator).
 * Non-200 answers reject with KubeApiError (e.g. HTTP 410); network failures with KubeConnectionError.
 * ERROR frames are yielded as they are; the caller decides (see ListWatcher).
 */
export async function* watch(client: KubeClient, path: string, opts: WatchOptions = {}): AsyncGenerator<WatchFrame> {
  const ac = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
  const { res } = await client.open('GET', path, {
    query: {
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: opts.timeoutSeconds,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    },
    signal,
  });
  const code = res.statusCode ?? 0;
  if (code !== 200) {
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) chunks.push(c as Buffer);
    } catch {
      // body lost: the status code is enough
    }
    throw apiError(code, Buffer.concat(chunks).toString('utf8'), `WATCH ${path}`);
  }
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (!opts.idleTimeoutMs) return;
    if (idle) idle.refresh();
    else
      idle = setTimeout(() => {
        res.destroy(new KubeConnectionError(`WATCH ${path}: no data for ${opts.idleTimeoutMs} ms`));
      }, opts.idleTimeoutMs);
  };
  arm();
  let rest: Buffer | undefined;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      arm();
      let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        if (nl > start) {
          const line = buf.toString('utf8', start, nl).trim();
          if (line) yield parseFrame(line, path);
        }
        start = nl + 1;
      }
      rest = start < buf.length ? buf.subarray(start) : undefined;
      buf = Buffer.alloc(0);
    }
  } catch (err) {
    if (err instanceof KubeConnectionError) throw err;
    throw new KubeConnectionError(`WATCH ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    if (idle) clearTimeout(idle);
    ac.abort();
    res.destroy();
  }
  const tail = rest?.toString('utf8').trim();
  if (tail) yield parseFrame(tail, path);
}

function parseFrame(line: string, path: string): WatchFrame {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new KubeConnectionError(`WATCH ${path}: unparsable frame: ${line.slice(0, 200)}`, { cause: err });
  }
  const f = v as WatchFrame;
  if (!f || typeof f.type !== 'string' || typeof f.object !== 'object' || f.object === null) {
    throw new KubeConnectionError(`WATCH ${path}: malformed frame: ${line.slice(0, 200)}`);
  }
  return f;
}
