// Watch streams: framing (L5), resourceVersion semantics (L3), selector transitions (L6), history expiry (L9),
// bookmarks (L12) and server-side deadlines (L13).
import type { ServerResponse } from 'node:http';
import { ResourceApi, type Route } from './api.ts';
import { errors, statusBody } from './errors.ts';
import { objectJson, type Rendering } from './render.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import type { FieldSelector, LabelSelector } from './selectors.ts';
import { type Change, type Rec, type Store, stampRv, type WatchSink } from './store.ts';
import { eventTable } from './table.ts';

export interface WatchOptions {
  store: Store;
  route: Route;
  query: URLSearchParams;
  as: Rendering;
  res: ServerResponse;
  minRequestTimeoutSeconds: number;
  bookmarkIntervalSeconds: number;
  /** Fault: answer with 200 + ERROR 410 + EOF. */
  forceExpired?: boolean;
  /** Fault: a watch from a compacted RV ends with a clean EOF instead of ERROR 410 (k/k PR #137307). */
  staleSilently?: boolean;
  onClose(w: Watcher): void;
}

const MAX_BUFFERED = 256 * 1024 * 1024;

function watchOptionsInvalid(field: string, message: string) {
  return errors.invalid('ListOptions', 'meta.k8s.io', '', [{ field, message, reason: 'FieldValueForbidden' }]);
}

/** Validates watch options before the 200 is sent (422 per L3). */
export function validateWatchQuery(query: URLSearchParams): void {
  const sie = query.get('sendInitialEvents');
  const rvMatch = query.get('resourceVersionMatch');
  const bookmarks = query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1';
  if (sie !== null) {
    if (rvMatch !== 'NotOlderThan') {
      throw watchOptionsInvalid(
        'resourceVersionMatch',
        'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      );
    }
    if (!bookmarks)
      throw watchOptionsInvalid(
        'allowWatchBookmarks',
        'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true',
      );
  } else if (rvMatch) {
    throw watchOptionsInvalid(
      'resourceVersionMatch',
      'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    );
  }
  const rv = query.get('resourceVersion');
  if (rv && !/^\d+$/.test(rv))
    throw errors.badRequest(`invalid resource version: strconv.ParseUint: parsing "${rv}": invalid syntax`);
}

export class Watcher implements WatchSink {
  readonly storage: string;
  private readonly def: ResourceDef;
  private readonly prefix: string;
  private readonly sel: { labels?: LabelSelector; fields?: FieldSelector };
  private readonly as: Rendering;
  private readonly res: ServerResponse;
  private readonly store: Store;
  private readonly bookmarks: boolean;
  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly onCloseCb: (w: Watcher) => void;
  private from = 0;

  constructor(o: WatchOptions, sel: { labels?: LabelSelector; fields?: FieldSelector }) {
    this.def = o.route.def;
    this.storage = o.route.def.storage;
    this.prefix = o.route.def.namespaced && o.route.namespace ? `${o.route.namespace}/` : '';
    this.sel = sel;
    this.as = o.as;
    this.res = o.res;
    this.store = o.store;
    this.onCloseCb = o.onClose;
    this.bookmarks = o.query.get('allowWatchBookmarks') === 'true' || o.query.get('allowWatchBookmarks') === '1';
  }

  /** Sends headers, the initial state or history, then registers for live changes (all synchronously: no gaps). */
  start(o: WatchOptions): void {
    const res = this.res;
    res.writeHead(200, {
      'Content-Type':
        o.as === 'partial' ? 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' : 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    res.on('close', () => this.close(false));
    const q = o.query;
    const rvParam = q.get('resourceVersion') ?? '';
    const sie = q.get('sendInitialEvents');
    const sendInitial = sie === 'true' || sie === '1' || (sie === null && (rvParam === '' || rvParam === '0'));
    const stale = rvParam !== '' && rvParam !== '0' && !sendInitial && this.store.isTooOld(Number(rvParam));
    if (stale && !o.forceExpired && o.staleSilently) {
      this.close(true);
      return;
    }
    if (o.forceExpired || stale) {
      const requested = Number(rvParam || this.store.rv);
      this.writeFrame(
        JSON.stringify({
          type: 'ERROR',
          object: statusBody(410, 'Expired', `too old resource version: ${requested} (${this.store.compactedRv})`),
        }),
      );
      this.close(true);
      return;
    }
    let from: number;
    if (sendInitial) {
      // Synthetic ADDED for the current state ("0" may be served from any point; the simulator uses the latest).
      from = this.store.rv;
      for (const rec of this.store.snapshotAt(this.storage, this.prefix, from)) {
        if (ResourceApi.matches(rec, this.sel)) this.writeFrame(this.frame('ADDED', rec));
      }
      if (sie === 'true' || sie === '1') this.bookmark(from, true);
    } else {
      // sendInitialEvents=false with RV unset or "0" starts from the latest revision.
      from = rvParam === '' || rvParam === '0' ? this.store.rv : Number(rvParam);
      this.from = from;
      for (const c of this.store.changesSince(from)) {
        if (c.storage !== this.storage) continue;
        this.onChange(c);
        c.frames = undefined;
      }
    }
    this.from = from;
    this.store.addSink(this);
    const timeoutParam = q.get('timeoutSeconds');
    const timeoutMs = timeoutParam
      ? Number(timeoutParam) * 1000
      : o.minRequestTimeoutSeconds * 1000 * (1 + Math.random());
    this.timers.push(setTimeout(() => this.close(true), timeoutMs));
    // cache_watcher.go nextBookmarkTime: cached kinds also get a bookmark about 2 s before the deadline.
    if (this.bookmarks && this.def.cached && timeoutMs > 2000) {
      this.timers.push(setTimeout(() => this.bookmark(this.store.rv, false), timeoutMs - 2000));
    }
    // Cached kinds get a bookmark about every 60 s when asked; events (served from etcd) never get periodic ones.
    if (this.bookmarks && this.def.cached && o.bookmarkIntervalSeconds > 0) {
      const t = setInterval(() => this.bookmark(this.store.rv, false), o.bookmarkIntervalSeconds * 1000);
      this.timers.push(t);
    }
  }

  private frame(type: string, rec: Rec): string {
    if (this.as === 'table') {
      const table = eventTable([rec.json], { resourceVersion: String(rec.rv) }, this.store.opts.clock.now());
      return `{"type":"${type}","object":${table}}`;
    }
    return `{"type":"${type}","object":${objectJson(this.def, rec.json, this.as)}}`;
  }

  private cachedFrame(c: Change, type: string, rec: Rec): string {
    const k = `${this.def.group}/${this.def.resource}|${this.as}|${type}|${rec === c.obj ? 'o' : 'p'}`;
    if (!c.frames) c.frames = new Map();
    let f = c.frames.get(k);
    if (!f) {
      f = this.frame(type, rec);
      c.frames.set(k, f);
    }
    return f;
  }

  onChange(c: Change): void {
    if (this.closed || c.rv <= this.from || (this.prefix && !c.key.startsWith(this.prefix))) return;
    const prevMatch = c.prev !== undefined && ResourceApi.matches(c.prev, this.sel);
    if (c.type === 'DELETED') {
      if (prevMatch) this.writeFrame(this.cachedFrame(c, 'DELETED', c.obj));
      return;
    }
    const newMatch = ResourceApi.matches(c.obj, this.sel);
    if (newMatch) this.writeFrame(this.cachedFrame(c, prevMatch ? 'MODIFIED' : 'ADDED', c.obj));
    else if (prevMatch) {
      // L6: leaving the selector is a DELETED carrying the previous object at the new resourceVersion.
      const k = `${this.def.group}/${this.def.resource}|${this.as}|LEFT`;
      if (!c.frames) c.frames = new Map();
      let f = c.frames.get(k);
      if (!f) {
        f = this.frame('DELETED', stampRv(c.prev!, c.rv));
        c.frames.set(k, f);
      }
      this.writeFrame(f);
    }
  }

  bookmark(rv: number, initialEnd: boolean): void {
    if (!this.bookmarks || this.closed) return;
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    const object =
      this.as === 'partial'
        ? { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata }
        : { kind: this.def.kind, apiVersion: apiVersionOf(this.def), metadata, ...this.def.bookmarkExtra };
    this.writeFrame(JSON.stringify({ type: 'BOOKMARK', object }));
  }

  private writeFrame(f: string): void {
    if (this.closed) return;
    this.res.write(`${f}\n`);
    if (this.res.writableLength > MAX_BUFFERED) this.close(true); // the apiserver drops unresponsive watchers
  }

  /** Ends the stream; `clean` ends the chunked body (EOF), otherwise the socket is already gone. */
  close(clean: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.store.removeSink(this);
    if (clean && !this.res.writableEnded) this.res.end();
    this.onCloseCb(this);
  }

  /** Destroys the underlying socket (connection reset). */
  destroy(): void {
    this.res.socket?.destroy();
    this.close(false);
  }
}
