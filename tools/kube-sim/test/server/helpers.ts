// Shared helpers for the kube-sim server tests: raw HTTP calls and a raw watch stream reader.
import http from 'node:http';
import type { KubeSim } from '../../src/index.ts';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies
  json: any;
}

export function request(
  sim: KubeSim,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const u = new URL(path, sim.url);
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      u,
      {
        method,
        headers: {
          authorization: `Bearer ${sim.token}`,
          ...(data !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) }
            : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RawWatch {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Raw lines as received (each a complete JSON document). */
  lines: string[];
  // biome-ignore lint/suspicious/noExplicitAny: watch frames
  frames: any[];
  ended: boolean;
  error: Error | undefined;
  /** Raw body bytes, to check framing. */
  raw: string;
  waitFrames(n: number, timeoutMs?: number): Promise<void>;
  waitEnd(timeoutMs?: number): Promise<void>;
  close(): void;
}

export function watch(sim: KubeSim, path: string, headers: Record<string, string> = {}): Promise<RawWatch> {
  const u = new URL(path, sim.url);
  return new Promise((resolve, reject) => {
    const req = http.request(u, { headers: { authorization: `Bearer ${sim.token}`, ...headers } }, (res) => {
      const w: RawWatch = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        lines: [],
        frames: [],
        ended: false,
        error: undefined,
        raw: '',
        waitFrames: (n, t = 5000) => waitFor(() => w.frames.length >= n, t, `${n} frames (have ${w.frames.length})`),
        waitEnd: (t = 5000) => waitFor(() => w.ended || w.error !== undefined, t, 'end of watch'),
        close: () => req.destroy(),
      };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        w.raw += c;
        buf += c;
        let i = buf.indexOf('\n');
        while (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          w.lines.push(line);
          w.frames.push(JSON.parse(line));
          i = buf.indexOf('\n');
        }
      });
      res.on('end', () => {
        w.ended = true;
      });
      res.on('error', (e) => {
        w.error = e;
      });
      res.on('aborted', () => {
        w.error = new Error('aborted');
      });
      resolve(w);
    });
    req.on('error', reject);
    req.end();
  });
}

let n = 0;
export function rand(prefix: string): string {
  n += 1;
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}${n}`;
}

export function coreEvent(ns: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name, namespace: ns },
    involvedObject: { kind: 'Pod', namespace: ns, name: name.split('.')[0], apiVersion: 'v1' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2026-05-01T12:00:00Z',
    lastTimestamp: '2026-05-01T12:00:00Z',
    count: 1,
    type: 'Warning',
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
    ...extra,
  };
}
