// The HTTP(S) front: authentication (A2), RBAC deny rules (A3), discovery, fault injection, admin API and stats.
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { parseRoute, type ResourceApi, type Route, renderingFromAccept, verbOf } from './api.ts';
import { errors, KubeStatusError, statusBody } from './errors.ts';
import type { Rendering } from './render.ts';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  groupVersions,
  openApiV3GroupVersion,
  openApiV3Root,
  type Verb,
} from './resources.ts';
import type { Store } from './store.ts';
import { wantsTable } from './table.ts';
import { validateWatchQuery, Watcher } from './watch.ts';

const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
];

export interface DenyRule {
  /** Verbs denied (get, list, watch, create, update, patch, delete, deletecollection); all when absent. */
  verbs?: string[];
  /** API groups ('' = core); all when absent. */
  groups?: string[];
  resources?: string[];
  /** Namespaces; all when absent. '' matches cluster-scope requests. */
  namespaces?: string[];
  users?: string[];
}

export interface TokenInfo {
  user: string;
  /** ms since epoch on the simulator clock; undefined = never expires. */
  expiresAt?: number;
}

export interface FaultState {
  latencyMs: number;
  failFraction: number;
  failStatus: number;
  retryAfterSeconds: number;
  failNextWatches: number;
  failNextWatchesMode: 'error' | 'http';
  /** End every new watch right after its initial frames (the B3 "server closes each watch at once" case). */
  closeWatchesOnStart: boolean;
  /** A watch from a compacted RV gets 200 and a clean EOF with no ERROR 410 (the silent gap of k/k PR #137307). */
  staleWatchesCloseSilently: boolean;
}

export interface RequestLogEntry {
  at: number;
  verb: string;
  resource: string;
  path: string;
  query: string;
}

const REQUEST_LOG_MAX = 2000;

export interface ServerDeps {
  store: Store;
  api: ResourceApi;
  now(): number;
  setClockOffset(ms: number): void;
  minRequestTimeoutSeconds: number;
  bookmarkIntervalSeconds: number;
  onTokenRotated(token: string): void;
  expireEventsNow(all: boolean): number;
  stats(): unknown;
  gitVersion: string;
}

export class SimServer {
  readonly server: http.Server;
  readonly tokens = new Map<string, TokenInfo>();
  deny: DenyRule[] = [];
  readonly faults: FaultState = {
    latencyMs: 0,
    failFraction: 0,
    failStatus: 500,
    retryAfterSeconds: 1,
    failNextWatches: 0,
    failNextWatchesMode: 'error',
    closeWatchesOnStart: false,
    staleWatchesCloseSilently: false,
  };
  /** The last REQUEST_LOG_MAX API requests (not admin ones), oldest first. */
  readonly requestLog: RequestLogEntry[] = [];
  readonly counts = new Map<string, number>();
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly deps: ServerDeps;
  defaultUser: string;
  /** When set, requests without credentials authenticate as this user (kubectl sends no token over plain HTTP). */
  anonymousUser: string | undefined;

  constructor(deps: ServerDeps, user: string, tls?: { key: string; cert: string }) {
    this.deps = deps;
    this.defaultUser = user;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err) => this.sendError(res, err));
    };
    this.server = tls
      ? https.createServer({ key: tls.key, cert: tls.cert, noDelay: true, requestTimeout: 0 }, handler)
      : http.createServer({ noDelay: true, requestTimeout: 0 }, handler);
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 70_000;
    this.server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // --- faults ----------------------------------------------------------------------------------------------

  closeWatches(): void {
    for (const w of [...this.watchers]) w.close(true);
  }

  resetConnections(): void {
    for (const w of [...this.watchers]) w.destroy();
    for (const s of [...this.sockets]) s.destroy();
  }

  resetFaults(): void {
    Object.assign(this.faults, {
      latencyMs: 0,
      failFraction: 0,
      failStatus: 500,
      failNextWatches: 0,
      closeWatchesOnStart: false,
      staleWatchesCloseSilently: false,
    });
    this.deny = [];
  }

  newToken(user = this.defaultUser): string {
    const t = randomBytes(24).toString('hex');
    this.tokens.set(t, { user });
    return t;
  }

  expireTokens(): void {
    const now = this.deps.now();
    for (const info of this.tokens.values()) info.expiresAt = Math.min(info.expiresAt ?? now, now);
  }

  // --- request handling ------------------------------------------------------------------------------------

  private send(res: ServerResponse, status: number, json: string, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
      ...headers,
    });
    res.end(json);
  }

  private sendError(res: ServerResponse, err: unknown): void {
    if (err instanceof KubeStatusError) {
      this.send(res, err.code, JSON.stringify(err.status), err.headers);
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    this.send(res, 500, JSON.stringify(statusBody(500, 'InternalError', `Internal error occurred: ${msg}`)));
  }

  private count(verb: string, resource: string): void {
    const k = `${verb} ${resource}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  private authenticate(req: IncomingMessage, publicPath: boolean): string {
    const h = req.headers.authorization;
    if (!h) {
      if (this.anonymousUser) return this.anonymousUser;
      if (publicPath) return 'system:anonymous';
      throw errors.unauthorized();
    }
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const info = m ? this.tokens.get(m[1]!.trim()) : undefined;
    if (!info || (info.expiresAt !== undefined && info.expiresAt <= this.deps.now())) throw errors.unauthorized();
    return info.user;
  }

  private authorize(user: string, verb: Verb, route: Route): void {
    const { def } = route;
    for (const r of this.deny) {
      if (r.verbs && !r.verbs.includes(verb)) continue;
      if (r.groups && !r.groups.includes(def.group)) continue;
      if (r.resources && !r.resources.includes(def.resource)) continue;
      if (r.namespaces && !r.namespaces.includes(route.namespace)) continue;
      if (r.users && !r.users.includes(user)) continue;
      throw errors.forbidden(user, verb, def.resource, def.group, route.namespace);
    }
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length === 0) return undefined;
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw errors.badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path.startsWith('/_sim/')) {
      await this.admin(req, res, url);
      return;
    }
    const f = this.faults;
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.failFraction > 0 && Math.random() < f.failFraction) {
      req.resume();
      const err =
        f.failStatus === 429 ? errors.tooManyRequests(f.retryAfterSeconds) : errors.internal('injected failure');
      if (f.failStatus !== 429 && f.failStatus !== 500) {
        this.send(res, f.failStatus, JSON.stringify(statusBody(f.failStatus, 'InternalError', 'injected failure')));
        return;
      }
      throw err;
    }
    const publicPath = ['/version', '/healthz', '/livez', '/readyz'].includes(path) || path.startsWith('/version/');
    const user = this.authenticate(req, publicPath);
    if (req.method === 'GET') {
      const doc = this.discovery(path, req);
      if (doc !== undefined) {
        this.count('get', path);
        if (typeof doc === 'string') {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(doc);
        } else this.send(res, 200, JSON.stringify(doc));
        return;
      }
    }
    const route = parseRoute(path);
    if (!route) {
      req.resume();
      throw errors.pathNotFound();
    }
    const q = url.searchParams;
    const verb = verbOf(req.method ?? 'GET', route, q);
    if (!verb) {
      req.resume();
      throw errors.methodNotAllowed();
    }
    const resName = route.def.group ? `${route.def.resource}.${route.def.group}` : route.def.resource;
    this.count(verb, resName);
    this.requestLog.push({ at: this.deps.now(), verb, resource: resName, path, query: url.search });
    if (this.requestLog.length > REQUEST_LOG_MAX) this.requestLog.splice(0, this.requestLog.length - REQUEST_LOG_MAX);
    this.authorize(user, verb, route);
    const as =
      (verb === 'get' || verb === 'list' || verb === 'watch') && wantsTable(req.headers.accept, route.def)
        ? 'table'
        : renderingFromAccept(req.headers.accept);
    const api = this.deps.api;
    if (verb === 'watch') {
      req.resume();
      if (f.failNextWatches > 0) {
        f.failNextWatches--;
        if (f.failNextWatchesMode === 'http') throw errors.gone('too old resource version');
        this.startWatch(route, q, as, res, true);
        return;
      }
      validateWatchQuery(q);
      if (route.name) {
        // Watching one object (deprecated /watch/.../name form) is a watch filtered on metadata.name.
        const fs = q.get('fieldSelector');
        q.set('fieldSelector', `${fs ? `${fs},` : ''}metadata.name=${route.name}`);
      }
      const sel = api.selectors(route.def, q);
      this.startWatch(route, q, as, res, false, sel);
      return;
    }
    if (verb === 'patch') {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!PATCH_TYPES.includes(ct)) {
        req.resume();
        throw errors.unsupportedMediaType(ct);
      }
    }
    const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') ? await this.readBody(req) : undefined;
    let out: { status: number; json: string };
    switch (verb) {
      case 'get':
        out = api.get(route, as);
        break;
      case 'list':
        out = api.list(route, q, as);
        break;
      case 'create':
        out = api.create(route, body, q, as);
        break;
      case 'update':
        out = api.update(route, body, q, as);
        break;
      case 'patch':
        out = api.patch(route, body, req.headers['content-type'] ?? '', q, as);
        break;
      case 'delete':
        out = api.delete(route, body, q, as);
        break;
      case 'deletecollection':
        out = api.deleteCollection(route, q, as);
        break;
    }
    const partial = /^\{"kind":"(PartialObjectMetadata(List)?|Table)"/.exec(out.json);
    const ct = partial ? `application/json;as=${partial[1]};g=meta.k8s.io;v=v1` : 'application/json';
    this.send(res, out.status, out.json, { 'Content-Type': ct });
  }

  private startWatch(
    route: Route,
    query: URLSearchParams,
    as: Rendering,
    res: ServerResponse,
    forceExpired: boolean,
    sel: ReturnType<ResourceApi['selectors']> = {},
  ): void {
    const opts = {
      store: this.deps.store,
      route,
      query,
      as,
      res,
      minRequestTimeoutSeconds: this.deps.minRequestTimeoutSeconds,
      bookmarkIntervalSeconds: this.deps.bookmarkIntervalSeconds,
      forceExpired,
      staleSilently: this.faults.staleWatchesCloseSilently,
      onClose: (w: Watcher) => this.watchers.delete(w),
    };
    const w = new Watcher(opts, sel);
    this.watchers.add(w);
    w.start(opts);
    if (this.faults.closeWatchesOnStart) w.close(true);
  }

  private discovery(path: string, req: IncomingMessage): unknown | string | undefined {
    const p = path.replace(/\/+$/, '') || '/';
    if (p === '/healthz' || p === '/livez' || p === '/readyz') return 'ok';
    if (p === '/version') {
      return {
        major: '1',
        minor: '34',
        gitVersion: this.deps.gitVersion,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.24.0',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
    }
    if (p === '/api') {
      const host = req.headers.host ?? '127.0.0.1';
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
      };
    }
    if (p === '/api/v1') return apiResourceList('', 'v1');
    if (p === '/apis') return apiGroupList();
    if (p === '/openapi/v3') return openApiV3Root();
    if (p.startsWith('/openapi/v3/')) return openApiV3GroupVersion(p.slice('/openapi/v3/'.length));
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    if (m) {
      if (!m[2]) return apiGroup(m[1]!);
      if (groupVersions().some((g) => g.group === m[1] && g.version === m[2])) return apiResourceList(m[1]!, m[2]!);
    }
    return undefined;
  }

  // --- admin API -------------------------------------------------------------------------------------------

  private async admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const q = url.searchParams;
    const body = (await this.readBody(req).catch(() => undefined)) as Record<string, unknown> | undefined;
    const arg = (name: string): string | undefined => {
      const v = body?.[name] ?? q.get(name);
      return v === undefined || v === null ? undefined : String(v);
    };
    const ok = (extra: Record<string, unknown> = {}) => this.send(res, 200, JSON.stringify({ ok: true, ...extra }));
    const action = url.pathname.slice('/_sim/'.length);
    if (req.method === 'GET' && action === 'stats') {
      this.send(res, 200, JSON.stringify(this.deps.stats()));
      return;
    }
    if (req.method !== 'POST') throw errors.methodNotAllowed();
    switch (action) {
      case 'close-watches':
        this.closeWatches();
        return ok();
      case 'compact-silently':
        this.deps.store.compactAll();
        this.closeWatches();
        return ok({ compactedResourceVersion: String(this.deps.store.compactedRv) });
      case 'fail-next-watches':
        this.faults.failNextWatches = Number(arg('n') ?? 1);
        this.faults.failNextWatchesMode = arg('mode') === 'http' ? 'http' : 'error';
        return ok();
      case 'reset-connections':
        // Answer first, then cut every connection (including this one once the answer is flushed).
        res.on('finish', () => this.resetConnections());
        return ok();
      case 'latency':
        this.faults.latencyMs = Number(arg('ms') ?? 0);
        return ok();
      case 'fail-fraction':
        this.faults.failFraction = Number(arg('fraction') ?? 0);
        this.faults.failStatus = Number(arg('status') ?? 500);
        this.faults.retryAfterSeconds = Number(arg('retryAfterSeconds') ?? 1);
        return ok();
      case 'expire-tokens':
        this.expireTokens();
        return ok();
      case 'rotate-token': {
        const t = this.newToken();
        this.deps.onTokenRotated(t);
        return ok({ token: t });
      }
      case 'clock':
        this.deps.setClockOffset(Number(arg('offsetMs') ?? 0));
        return ok({ now: new Date(this.deps.now()).toISOString() });
      case 'expire-events':
        return ok({ deleted: this.deps.expireEventsNow(arg('all') === 'true') });
      case 'deny':
        this.deny = Array.isArray(body?.rules) ? (body.rules as DenyRule[]) : [];
        return ok();
      case 'reset-faults':
        this.resetFaults();
        return ok();
      case 'close-watches-on-start':
        this.faults.closeWatchesOnStart = arg('on') !== 'false';
        return ok();
      case 'stale-watches-close-silently':
        this.faults.staleWatchesCloseSilently = arg('on') !== 'false';
        return ok();
      default:
        throw errors.pathNotFound();
    }
  }
}
