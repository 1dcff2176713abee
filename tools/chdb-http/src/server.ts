// The HTTP side: the subset of ClickHouse's HTTP interface that @clickhouse/client uses (ping, query, command,
// exec, insert), answered from one embedded chdb engine. Each request is read whole, run as one statement, and
// answered whole (as ClickHouse does with wait_end_of_query=1), so an error is always a proper error response.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { EMBEDDED_SERVER_SETTINGS } from '@kec/store/settings';
import { Engine } from './engine.ts';
import { ChdbHttpError, exceptionBody, fromEngineError, httpStatusFor } from './errors.ts';
import { bindParams } from './params.ts';
import { prepareStatement, type Setting } from './sql.ts';

export interface ChdbHttpOptions {
  /** The chdb data directory (created when missing). One process owns it. */
  dataDir: string;
  /** Listen address (default 127.0.0.1: loopback only). */
  host?: string;
  /** Listen port (default 0: a free port). */
  port?: number;
  /** Largest request body accepted, after decompression (default 256 MiB). */
  maxBodyBytes?: number;
  /**
   * Server settings of the engine (`clickhouse local` command-line form, given when it starts), over kec's bounds
   * of the embedded engine (EMBEDDED_SERVER_SETTINGS of @kec/store: memory limit, cache sizes).
   */
  engineSettings?: Readonly<Record<string, string | number>>;
}

export interface ChdbHttp {
  /** `http://host:port`, for `createClient({ url })` / KEC_CLICKHOUSE_URL. */
  url: string;
  host: string;
  port: number;
  dataDir: string;
  /** Stops accepting, lets running requests finish, closes the chdb session. Idempotent. */
  close(): Promise<void>;
}

/** URL parameters that are the HTTP interface's own, not settings (ClickHouse's HTTPHandler reserved names). */
const HTTP_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'close_session',
  'compress',
  'decompress',
  'user',
  'password',
  'quota_key',
  'stacktrace',
  'buffer_size',
  'wait_end_of_query',
  'client_protocol_version',
  'role',
]);
/** Settings that only shape the HTTP exchange: honoured here (compression) or moot (results are always buffered). */
const HTTP_SETTINGS = new Set([
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'http_wait_end_of_query',
  'add_http_cors_header',
  'http_write_exception_in_output_format',
  'cancel_http_readonly_queries_on_client_close',
  'http_native_compression_disable_checksumming_on_decompress',
]);

type Encoding = 'gzip' | 'deflate' | 'br' | 'zstd';

const compressors: Record<Encoding, (b: Buffer, level: number) => Promise<Buffer>> = {
  gzip: (b, level) => promisify(zlib.gzip)(b, { level }),
  deflate: (b, level) => promisify(zlib.deflate)(b, { level }),
  br: (b) => promisify(zlib.brotliCompress)(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }),
  zstd: (b) => promisify(zlib.zstdCompress)(b),
};
const decompressors: Record<Encoding, (b: Buffer, max: number) => Promise<Buffer>> = {
  gzip: (b, max) => promisify(zlib.gunzip)(b, { maxOutputLength: max }),
  deflate: (b, max) => promisify(zlib.inflate)(b, { maxOutputLength: max }),
  br: (b, max) => promisify(zlib.brotliDecompress)(b, { maxOutputLength: max }),
  zstd: (b, max) => promisify(zlib.zstdDecompress)(b, { maxOutputLength: max }),
};

const truthy = (v: string | null | undefined) => v === '1' || v === 'true';

function contentType(format: string | undefined): string {
  const f = (format ?? '').toLowerCase();
  if (f.startsWith('json') || f === 'ndjson' || f === 'jsonl') return 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f.includes('withnames') ? 'present' : 'absent'}`;
  if (/^(native|rowbinary|parquet|arrow|orc|avro|protobuf|capnproto|msgpack|bsoneachrow|npy)/.test(f)) {
    return 'application/octet-stream';
  }
  return 'text/plain; charset=UTF-8';
}

function responseEncoding(req: IncomingMessage, url: URL, engine: Engine): Encoding | undefined {
  const param = url.searchParams.get('enable_http_compression');
  if (!(param === null ? engine.httpCompressionByDefault : truthy(param))) return undefined;
  const accept = String(req.headers['accept-encoding'] ?? '').toLowerCase();
  return (['gzip', 'deflate', 'br', 'zstd'] as const).find((e) => accept.includes(e));
}

function summary(r: { rowsRead: number; bytesRead: number; elapsed: number } | undefined, resultBytes: number) {
  return JSON.stringify({
    read_rows: String(r?.rowsRead ?? 0),
    read_bytes: String(r?.bytesRead ?? 0),
    written_rows: '0',
    written_bytes: '0',
    total_rows_to_read: '0',
    result_rows: '0',
    result_bytes: String(resultBytes),
    elapsed_ns: String(Math.round((r?.elapsed ?? 0) * 1e9)),
  });
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= max) chunks.push(chunk); // past the limit: keep reading (the connection stays usable), keep nothing
  }
  if (size > max) throw ChdbHttpError.of('QUERY_IS_TOO_LARGE', `Request body is larger than ${max} bytes`);
  return Buffer.concat(chunks);
}

async function decodeBody(req: IncomingMessage, raw: Buffer, max: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding === '' || encoding === 'identity' || raw.length === 0) return raw;
  const name: Encoding | undefined =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? 'gzip'
      : encoding === 'deflate' || encoding === 'br' || encoding === 'zstd'
        ? encoding
        : undefined;
  if (!name) throw ChdbHttpError.of('BAD_ARGUMENTS', `Unknown compression method '${encoding}'`);
  try {
    return await decompressors[name](raw, max);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw ChdbHttpError.of('QUERY_IS_TOO_LARGE', `Request body is larger than ${max} bytes`, { cause: err });
    }
    throw ChdbHttpError.of(
      'CANNOT_DECOMPRESS',
      `Cannot decompress the ${name} request body: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(b: Buffer): string {
  try {
    return utf8.decode(b);
  } catch (err) {
    throw ChdbHttpError.of(
      'NOT_IMPLEMENTED',
      'The request is not valid UTF-8: chdb-http passes statements and insert data to chdb as text, so binary data is not served',
      { cause: err },
    );
  }
}

interface Request {
  text: string;
  params: Map<string, string>;
  settings: Setting[];
  database: string;
  defaultFormat: string | undefined;
  readonly: boolean;
}

/** Reads a request the way ClickHouse's HTTPHandler does: URL `query` + '\n' + body, or multipart form fields. */
async function readRequest(req: IncomingMessage, url: URL, maxBody: number): Promise<Request> {
  const method = req.method ?? 'GET';
  if (method === 'POST' && req.headers['content-length'] === undefined && !req.headers['transfer-encoding']) {
    throw ChdbHttpError.of(
      'HTTP_LENGTH_REQUIRED',
      'The Transfer-Encoding is not chunked and there is no Content-Length header for POST request',
    );
  }
  const body = await decodeBody(req, await readBody(req, maxBody), maxBody);
  const params = new Map<string, string>();
  const settings = new Map<string, string>();
  let database = String(req.headers['x-clickhouse-database'] ?? '');
  let defaultFormat = String(req.headers['x-clickhouse-format'] ?? '');
  for (const [key, value] of url.searchParams) {
    if (key === 'database') database ||= value;
    else if (key === 'default_format') defaultFormat ||= value;
    else if (key.startsWith('param_')) {
      if (!params.has(key.slice(6))) params.set(key.slice(6), value);
    } else if (key === '' || HTTP_PARAMS.has(key) || HTTP_SETTINGS.has(key)) {
      // the HTTP interface's own
    } else settings.set(key, value);
  }
  if (url.searchParams.get('session_id')) {
    throw ChdbHttpError.of(
      'NOT_IMPLEMENTED',
      'HTTP sessions (session_id) are not served: every request runs on its own, as without session_id',
    );
  }
  if (truthy(url.searchParams.get('compress')) || truthy(url.searchParams.get('decompress'))) {
    throw ChdbHttpError.of(
      'NOT_IMPLEMENTED',
      "ClickHouse's native compression (compress=1, decompress=1) is not served",
    );
  }
  let sql = url.searchParams.get('query') ?? '';
  const contentTypeHeader = String(req.headers['content-type'] ?? '');
  if (contentTypeHeader.startsWith('multipart/form-data')) {
    // Query parameters too long for the URL (use_multipart_params): form fields `query` and `param_<name>`.
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': contentTypeHeader } }).formData();
    } catch (err) {
      throw ChdbHttpError.of('BAD_ARGUMENTS', `Cannot parse the multipart/form-data body: ${(err as Error).message}`, {
        cause: err,
      });
    }
    for (const [key, value] of form) {
      if (typeof value !== 'string') {
        throw ChdbHttpError.of('NOT_IMPLEMENTED', `External data (the file part ${key}) is not served`);
      }
      if (key === 'query') sql += value;
      else if (key.startsWith('param_') && !params.has(key.slice(6))) params.set(key.slice(6), value);
    }
  } else {
    const b = text(body);
    sql = sql === '' ? b : `${sql}\n${b}`;
  }
  const readonly = method === 'GET' || method === 'HEAD';
  if (readonly && (settings.get('readonly') ?? '0') === '0') {
    // ClickHouse runs a GET request with readonly = 2.
    settings.delete('readonly');
    settings.set('readonly', '2');
  }
  return {
    text: sql,
    params,
    settings: [...settings].map(([name, value]) => ({ name, value })),
    database: database || 'default',
    defaultFormat: defaultFormat || undefined,
    readonly,
  };
}

/** Starts the server on a chdb data directory. Rejects when the directory is held by another process. */
export async function startChdbHttp(opts: ChdbHttpOptions): Promise<ChdbHttp> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  const engine = await Engine.open(opts.dataDir, { ...EMBEDDED_SERVER_SETTINGS, ...opts.engineSettings });
  const handlers = new Set<Promise<void>>();
  let closing = false;

  async function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
    encoding: Encoding | undefined,
    level: number,
  ): Promise<void> {
    let out = body;
    if (encoding) {
      out = await compressors[encoding](body, level);
      headers['Content-Encoding'] = encoding;
    }
    headers['Content-Length'] = String(out.length);
    if (closing) headers['Connection'] = 'close';
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : out);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const plain = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
      req.resume();
      return plain(200, 'Ok.\n');
    }
    if (url.pathname !== '/') {
      req.resume();
      return plain(404, `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n`);
    }
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'GET, HEAD, POST');
      return plain(405, `Method ${method} is not allowed\n`);
    }
    if (method !== 'POST' && !url.searchParams.has('query')) {
      req.resume();
      return plain(200, 'Ok.\n');
    }
    const queryId =
      url.searchParams.get('query_id') || String(req.headers['x-clickhouse-query-id'] ?? '') || randomUUID();
    const encoding = responseEncoding(req, url, engine);
    const level = Number(url.searchParams.get('http_zlib_compression_level') ?? 3) || 3;
    const headers: Record<string, string> = {
      'X-ClickHouse-Server-Display-Name': 'chdb-http',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': engine.timezone,
    };
    try {
      const r = await readRequest(req, url, maxBody);
      if (closing) throw ChdbHttpError.of('NETWORK_ERROR', 'chdb-http is shutting down');
      const p = prepareStatement(r.text, {
        settings: r.settings,
        defaultFormat: r.defaultFormat,
        readonly: r.readonly,
      });
      const result =
        p.action === 'skip'
          ? undefined
          : await engine.run(
              r.database,
              p.sql,
              r.params.size > 0 ? bindParams(r.params, p.paramTypes) : undefined,
              p.outputFormat ?? 'TabSeparated',
            );
      const body = result?.bytes ?? Buffer.alloc(0);
      headers['Content-Type'] = contentType(p.outputFormat);
      if (p.outputFormat) headers['X-ClickHouse-Format'] = p.outputFormat;
      headers['X-ClickHouse-Summary'] = summary(result, body.length);
      await send(req, res, 200, headers, body, encoding, level);
    } catch (err) {
      const e = err instanceof ChdbHttpError ? err : fromEngineError(err);
      headers['Content-Type'] = 'text/plain; charset=UTF-8';
      headers['X-ClickHouse-Exception-Code'] = String(e.code);
      await send(
        req,
        res,
        httpStatusFor(e.code),
        headers,
        Buffer.from(exceptionBody(e, engine.version)),
        encoding,
        level,
      );
    }
  }

  const server = createServer((req, res) => {
    const p = handle(req, res).catch((err: unknown) => {
      // Only a failure to write the response lands here (the client went away); nothing left to answer.
      res.destroy(err as Error);
    });
    handlers.add(p);
    void p.finally(() => handlers.delete(p));
  });
  // ClickHouse's default keep_alive_timeout is 10 s; the client's idle socket TTL must stay below it.
  server.keepAliveTimeout = 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    while (handlers.size > 0) await Promise.allSettled([...handlers]);
    server.closeAllConnections();
    await stopped;
    await engine.close();
  }
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    dataDir: engine.dataDir,
    close() {
      closed ??= shutdown();
      return closed;
    },
  };
}
