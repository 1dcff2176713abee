// Event recorders that write the way client-go's do.
//
// CoreRecorder follows tools/record (core/v1, used by kubelet and most controllers):
//  - EventCorrelator: optional spam filter (token bucket per source+object, burst 25, 1 token / 300 s), then the
//    EventAggregator (10 events with the same source, object, type and reason but different messages, each within
//    600 s of the previous, turn into "(combined from similar events): <message>" keyed without the message), then
//    eventObserve: a repeat of a known key is a strategic-merge PATCH of {count, lastTimestamp, message} on the
//    existing name; a PATCH answered 404 (event expired) falls back to a create with the same name and count.
//  - names are <involvedObject.name>.<hex(UnixNano)>, namespace is the object's (default for cluster-scoped ones).
// EventsRecorder follows tools/events (events.k8s.io/v1, used by the scheduler): create with eventTime (MicroTime)
// and no series; the first repeat PATCHes series {count: 2, lastObservedTime}; later repeats only bump the cache,
// written by refreshSeries() (30 min heartbeat) and finishSeries() (a series idle for 6 min is written and dropped).

import { type Clock, EventNamer, k8sTime, microTime } from './clock.ts';
import type { ObjectRef, UidMap } from './cluster.ts';
import { type EventApi, type GroundTruthLedger, refObject, type Tag } from './ground-truth.ts';
import { CONTENT_JSON, CONTENT_STRATEGIC_MERGE_PATCH, type KubeClient } from './http.ts';
import type { WriteQueue } from './write-queue.ts';

export interface WriteStats {
  creates: number;
  patches: number;
  /** PATCH answered 404, recreated. */
  recreates: number;
  failed: number;
  /** Occurrences dropped by the spam filter (never written, like client-go). */
  spamDropped: number;
  /** Occurrences aggregated into a "(combined from similar events)" event. */
  combined: number;
  /** Status and object writes (pods, nodes) made by scenarios. */
  objectWrites: number;
  lastError?: string;
}

/** What every recorder writes through: client, write queue, uid resolution, ground truth. */
export class EventSink {
  readonly client: KubeClient;
  readonly queue: WriteQueue;
  readonly uids: UidMap;
  readonly ledger: GroundTruthLedger;
  readonly clock: Clock;
  readonly namer = new EventNamer();
  readonly stats: WriteStats = {
    creates: 0,
    patches: 0,
    recreates: 0,
    failed: 0,
    spamDropped: 0,
    combined: 0,
    objectWrites: 0,
  };
  /** Writes of incident events (not noise) accepted so far; the noise generator fills the rate around them. */
  incidentOccurrences = 0;

  constructor(client: KubeClient, queue: WriteQueue, uids: UidMap, ledger: GroundTruthLedger, clock: Clock) {
    this.client = client;
    this.queue = queue;
    this.uids = uids;
    this.ledger = ledger;
    this.clock = clock;
  }

  #pending = new Map<string, Promise<void>>();

  /** Resolves when an object created by a scenario (by planned uid) exists on the server. */
  ready(plannedUid: string): Promise<void> | undefined {
    return this.#pending.get(plannedUid);
  }

  /**
   * Queues the creation of an object (a new ReplicaSet, Pod, Job, Node...). Its dependents' writes (children, events
   * about it) wait for it, then carry its server uid.
   */
  createObject(collection: string, body: Record<string, unknown>): void {
    const meta = body['metadata'] as { uid: string; name: string };
    const planned = meta.uid;
    const owners = ((meta as { ownerReferences?: { uid: string }[] }).ownerReferences ?? []).map((o) => o.uid);
    let done!: () => void;
    this.#pending.set(planned, new Promise<void>((r) => (done = r)));
    this.queue.submit(
      `${collection}/${meta.name}`,
      async () => {
        try {
          const payload = JSON.stringify(body).replace(UUID_RE, (u) => this.uids.uid(u));
          const res = await this.client.request('POST', collection, payload);
          if (res.status >= 300) {
            this.fail(res.status, `POST ${collection}/${meta.name}`, res.body);
            return;
          }
          this.stats.objectWrites++;
          const created = res.body as {
            metadata?: { uid?: string; resourceVersion?: string };
            status?: { phase?: string };
          };
          if (created.metadata?.uid) this.uids.set(planned, created.metadata.uid, created.metadata.resourceVersion);
          const want = body['status'] as { phase?: string } | undefined;
          if (want && created.status?.phase !== want.phase) {
            const path = `${collection}/${meta.name}`;
            let r = await this.client.request(
              'PATCH',
              `${path}/status`,
              JSON.stringify({ status: want }).replace(UUID_RE, (u) => this.uids.uid(u)),
              'application/merge-patch+json',
            );
            if (r.status === 404 || r.status === 405)
              r = await this.client.request(
                'PATCH',
                path,
                JSON.stringify({ status: want }),
                'application/merge-patch+json',
              );
            if (r.status < 300) this.stats.objectWrites++;
          }
        } finally {
          this.#pending.delete(planned);
          done();
        }
      },
      () => {
        const deps = owners.map((o) => this.ready(o)).filter((p) => p !== undefined);
        return deps.length > 0 ? Promise.all(deps) : undefined;
      },
    );
  }

  /** The reference as sent: server uid; an empty apiVersion is omitted (Go's omitempty, e.g. kubelet's node refs). */
  resolveRef(ref: ObjectRef): ObjectRef {
    const uid = this.uids.uid(ref.uid);
    if (uid === ref.uid && ref.apiVersion !== '') return ref;
    const out: ObjectRef = { ...ref, uid };
    if (out.apiVersion === '') delete (out as { apiVersion?: string }).apiVersion;
    return out;
  }

  fail(status: number, what: string, body: unknown): void {
    this.stats.failed++;
    const msg =
      body && typeof body === 'object' && 'message' in body ? String((body as { message: unknown }).message) : '';
    this.stats.lastError = `${what}: HTTP ${status} ${msg}`.slice(0, 300);
  }

  /**
   * Queues the deletion of an object created by a scenario (by planned uid), after its other queued writes. Events
   * about it recorded from now on wait for the deletion: they reach the server after it, as a controller's events
   * can come after the object is gone.
   */
  deleteObject(path: string, plannedUid: string): void {
    let done!: () => void;
    const deleted = new Promise<void>((r) => (done = r));
    this.#deleting.set(plannedUid, deleted);
    // the path is the key its creation was queued under, so the DELETE runs after the create
    this.queue.submit(path, async () => {
      try {
        const res = await this.client.request('DELETE', path, undefined);
        if (res.status >= 300) this.fail(res.status, `DELETE ${path}`, res.body);
        else this.stats.objectWrites++;
      } finally {
        if (this.#deleting.get(plannedUid) === deleted) this.#deleting.delete(plannedUid);
        done();
      }
    });
  }

  #deleting = new Map<string, Promise<void>>();

  /**
   * What an event recorded now about `plannedUid` waits for before its write: the object's creation (looked up when
   * the write is due) and a deletion queued before the event was recorded (captured now, so that earlier events
   * are not held back by it).
   */
  eventDependency(plannedUid: string): () => Promise<unknown> | undefined {
    const deletion = this.#deleting.get(plannedUid);
    return () => {
      const created = this.ready(plannedUid);
      return created && deletion ? Promise.all([created, deletion]) : (created ?? deletion);
    };
  }

  /** Queues an object write (e.g. a pod status patch), ordered per object path. */
  writeObject(method: string, path: string, body: unknown, contentType = 'application/merge-patch+json'): void {
    // Keyed by the object path, so it runs after a queued create of the same object.
    this.queue.submit(path.replace(/\/status$/, ''), async () => {
      const payload = body === undefined ? undefined : JSON.stringify(body).replace(UUID_RE, (u) => this.uids.uid(u));
      let res = await this.client.request(method, path, payload, contentType);
      if ((res.status === 404 || res.status === 405) && path.endsWith('/status')) {
        res = await this.client.request(method, path.slice(0, -'/status'.length), payload, contentType);
      }
      if (res.status >= 300) this.fail(res.status, `${method} ${path}`, res.body);
      else this.stats.objectWrites++;
    });
  }
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;

export interface CoreRecorderOptions {
  /** EventCorrelator spam filter; off by default (see DRIVER.md). */
  spamFilter?: { burst: number; refillPerSecond: number } | false;
  /** Aggregation: maxEvents similar within maxIntervalSeconds (client-go: 10, 600). */
  aggregateMaxEvents?: number;
  aggregateIntervalSeconds?: number;
}

interface LogEntry {
  count: number;
  firstTimestamp: string;
  name: string;
}

interface CoreEventBody {
  kind: 'Event';
  apiVersion: 'v1';
  metadata: { name: string; namespace: string };
  involvedObject: ObjectRef;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: string;
  eventTime: null;
  reportingComponent: string;
  reportingInstance: string;
}

/** client-go keeps its correlator caches in LRUs of 4096 entries; a forgotten key starts a new event object. */
const LRU_SIZE = 4096;
function lruSet<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > LRU_SIZE) m.delete(m.keys().next().value as string);
}

export const COMBINED_PREFIX = '(combined from similar events): ';

export class CoreRecorder {
  readonly sink: EventSink;
  readonly component: string;
  readonly host: string | undefined;
  readonly #opts: Required<Omit<CoreRecorderOptions, 'spamFilter'>> & { spamFilter: CoreRecorderOptions['spamFilter'] };
  #log = new Map<string, LogEntry>();
  #aggregate = new Map<string, { localKeys: string[]; last: number }>();
  #spam = new Map<string, { tokens: number; at: number }>();

  constructor(sink: EventSink, source: { component: string; host?: string }, opts: CoreRecorderOptions = {}) {
    this.sink = sink;
    this.component = source.component;
    this.host = source.host;
    this.#opts = {
      spamFilter: opts.spamFilter ?? false,
      aggregateMaxEvents: opts.aggregateMaxEvents ?? 10,
      aggregateIntervalSeconds: opts.aggregateIntervalSeconds ?? 600,
    };
  }

  /**
   * Records one occurrence. Returns the name of the event object it went to, or undefined if the spam filter dropped
   * it. Never waits for the write.
   */
  event(ref: ObjectRef, type: string, reason: string, message: string, tag: Tag, detail?: string): string | undefined {
    const now = this.sink.clock.now();
    const r = this.sink.resolveRef(ref);
    if (this.#opts.spamFilter && !this.#allow(r, now)) {
      this.sink.stats.spamDropped++;
      return undefined;
    }
    // EventAggregator
    const aggKey = [
      this.component,
      this.host ?? '',
      r.kind,
      r.namespace ?? '',
      r.name,
      r.uid,
      r.apiVersion,
      type,
      reason,
      this.component,
      this.host ?? '',
    ].join('\u0000');
    let rec = this.#aggregate.get(aggKey);
    if (!rec || now - rec.last > this.#opts.aggregateIntervalSeconds * 1000) rec = { localKeys: [], last: now };
    if (!rec.localKeys.includes(message)) rec.localKeys.push(message);
    rec.last = now;
    lruSet(this.#aggregate, aggKey, rec);
    let key: string;
    let msg = message;
    let combined = false;
    if (rec.localKeys.length < this.#opts.aggregateMaxEvents) {
      key = [
        this.component,
        this.host ?? '',
        r.kind,
        r.namespace ?? '',
        r.name,
        r.fieldPath ?? '',
        r.uid,
        r.apiVersion,
        type,
        reason,
        message,
      ].join('\u0000');
    } else {
      rec.localKeys.shift(); // do not grow the local key set beyond max (PopAny)
      key = aggKey;
      msg = COMBINED_PREFIX + message;
      combined = true;
      this.sink.stats.combined++;
    }
    // eventObserve
    const ts = k8sTime(now);
    const last = this.#log.get(key);
    const entry: LogEntry = last
      ? { count: last.count + 1, firstTimestamp: last.firstTimestamp, name: last.name }
      : { count: 1, firstTimestamp: ts, name: this.sink.namer.name(r.name, now) };
    lruSet(this.#log, key, entry);
    const namespace = r.namespace || 'default';
    this.#observe(entry.name, namespace, type, reason, ref, tag, now, detail);
    // The aggregate copy carries no reportingController/Instance (client-go builds it without them).
    const body: CoreEventBody = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name: entry.name, namespace },
      involvedObject: ref,
      reason,
      message: msg,
      source: this.host ? { component: this.component, host: this.host } : { component: this.component },
      firstTimestamp: entry.firstTimestamp,
      lastTimestamp: ts,
      count: entry.count,
      type,
      eventTime: null,
      reportingComponent: combined ? '' : this.component,
      reportingInstance: combined ? '' : (this.host ?? ''),
    };
    this.#write(body, entry.count > 1 ? { count: entry.count, lastTimestamp: ts, message: msg } : undefined);
    return entry.name;
  }

  /**
   * An event that has been counting since before the run (e.g. a PodDisruptionBudget's NoPods for days): created as
   * the API would hold it now, with its first timestamp in the past and a large count, and primed in the cache so the
   * next occurrences PATCH it. Returns the event name.
   */
  seedHistory(
    ref: ObjectRef,
    type: string,
    reason: string,
    message: string,
    tag: Tag,
    count: number,
    firstMs: number,
  ): string {
    const now = this.sink.clock.now();
    const r = this.sink.resolveRef(ref);
    const key = [
      this.component,
      this.host ?? '',
      r.kind,
      r.namespace ?? '',
      r.name,
      r.fieldPath ?? '',
      r.uid,
      r.apiVersion,
      type,
      reason,
      message,
    ].join('\u0000');
    const entry: LogEntry = { count, firstTimestamp: k8sTime(firstMs), name: this.sink.namer.name(r.name, firstMs) };
    lruSet(this.#log, key, entry);
    const namespace = r.namespace || 'default';
    this.#observe(entry.name, namespace, type, reason, ref, tag, now);
    this.#write(
      {
        kind: 'Event',
        apiVersion: 'v1',
        metadata: { name: entry.name, namespace },
        involvedObject: ref,
        reason,
        message,
        source: this.host ? { component: this.component, host: this.host } : { component: this.component },
        firstTimestamp: entry.firstTimestamp,
        lastTimestamp: k8sTime(now),
        count,
        type,
        eventTime: null,
        reportingComponent: this.component,
        reportingInstance: this.host ?? '',
      },
      undefined,
    );
    return entry.name;
  }

  #observe(
    name: string,
    namespace: string,
    type: string,
    reason: string,
    ref: ObjectRef,
    tag: Tag,
    now: number,
    detail?: string,
  ): void {
    if (tag.incident) this.sink.incidentOccurrences++;
    this.sink.ledger.observe(
      {
        namespace,
        name,
        api: 'core/v1' as EventApi,
        type,
        reason,
        reportingController: this.component,
        object: refObject(ref),
      },
      tag,
      now,
      detail,
    );
  }

  #allow(r: ObjectRef, now: number): boolean {
    const f = this.#opts.spamFilter;
    if (!f) return true;
    const key = [this.component, this.host ?? '', r.kind, r.namespace ?? '', r.name, r.uid, r.apiVersion].join(
      '\u0000',
    );
    const b = this.#spam.get(key) ?? { tokens: f.burst, at: now };
    b.tokens = Math.min(f.burst, b.tokens + ((now - b.at) / 1000) * f.refillPerSecond);
    b.at = now;
    lruSet(this.#spam, key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #write(body: CoreEventBody, patch: { count: number; lastTimestamp: string; message: string } | undefined): void {
    const sink = this.sink;
    const { name, namespace } = body.metadata;
    const collection = `/api/v1/namespaces/${namespace}/events`;
    const planned = body.involvedObject.uid;
    sink.queue.submit(
      `${namespace}/${name}`,
      async () => {
        body.involvedObject = sink.resolveRef(body.involvedObject);
        if (patch) {
          const res = await sink.client.request(
            'PATCH',
            `${collection}/${name}`,
            JSON.stringify(patch),
            CONTENT_STRATEGIC_MERGE_PATCH,
            true,
          );
          if (res.status < 300) {
            sink.stats.patches++;
            sink.ledger.written(namespace, name, uidOf(res.body), patch.count);
            return;
          }
          if (res.status !== 404) {
            sink.fail(res.status, `PATCH event ${namespace}/${name}`, res.body);
            return;
          }
          sink.stats.recreates++;
        }
        const res = await sink.client.request('POST', collection, JSON.stringify(body), CONTENT_JSON, true);
        if (res.status < 300) {
          sink.stats.creates++;
          sink.ledger.written(namespace, name, uidOf(res.body), body.count);
        } else sink.fail(res.status, `POST event ${namespace}/${name}`, res.body);
      },
      sink.eventDependency(planned),
    );
  }
}

/** metadata.uid of a written object, from parsed JSON or (fast path) from the raw response text. */
export function uidOf(body: unknown): string {
  if (typeof body === 'string') {
    const m = body.indexOf('"metadata":{');
    const u = m < 0 ? -1 : body.indexOf('"uid":"', m);
    if (u >= 0) {
      const start = u + 7;
      const end = body.indexOf('"', start);
      if (end > start) return body.slice(start, end);
    }
    try {
      return uidOf(JSON.parse(body));
    } catch {
      return '';
    }
  }
  return (body as { metadata?: { uid?: string } })?.metadata?.uid ?? '';
}

interface SeriesEntry {
  name: string;
  namespace: string;
  eventTime: string;
  eventTimeMs: number;
  series?: { count: number; lastObservedTime: string; lastObservedMs: number };
  /** The series count last written to the server. */
  writtenCount: number;
  /** The created body, for the PATCH 404 -> create fallback. */
  body?: Record<string, unknown>;
}

export const SERIES_REFRESH_MS = 30 * 60_000;
export const SERIES_FINISH_MS = 6 * 60_000;

export class EventsRecorder {
  readonly sink: EventSink;
  readonly reportingController: string;
  readonly reportingInstance: string;
  #cache = new Map<string, SeriesEntry>();

  constructor(sink: EventSink, reportingController: string, reportingInstance: string) {
    this.sink = sink;
    this.reportingController = reportingController;
    this.reportingInstance = reportingInstance;
  }

  /** tools/events Eventf(regarding, related, eventtype, reason, action, note). Returns the event name. */
  eventf(
    regarding: ObjectRef,
    related: ObjectRef | undefined,
    type: string,
    reason: string,
    action: string,
    note: string,
    tag: Tag,
    detail?: string,
  ): string {
    const now = this.sink.clock.now();
    const r = this.sink.resolveRef(regarding);
    const rel = related ? this.sink.resolveRef(related) : undefined;
    const key = [
      action,
      reason,
      this.reportingController,
      r.kind,
      r.namespace ?? '',
      r.name,
      r.uid,
      r.apiVersion,
      r.fieldPath ?? '',
      note,
      rel ? `${rel.kind}/${rel.namespace}/${rel.name}/${rel.uid}` : '',
    ].join('\u0000');
    const namespace = r.namespace || 'default';
    const cached = this.#cache.get(key);
    if (cached) {
      this.#observe(cached.name, namespace, type, reason, regarding, tag, now, detail);
      if (cached.series) {
        cached.series.count++;
        cached.series.lastObservedMs = now;
        cached.series.lastObservedTime = microTime(now);
        return cached.name;
      }
      cached.series = { count: 2, lastObservedTime: microTime(now), lastObservedMs: now };
      this.#patchSeries(cached);
      return cached.name;
    }
    const name = this.sink.namer.name(r.name, now);
    const entry: SeriesEntry = { name, namespace, eventTime: microTime(now), eventTimeMs: now, writtenCount: 0 };
    this.#cache.set(key, entry);
    this.#observe(name, namespace, type, reason, regarding, tag, now, detail);
    const body: Record<string, unknown> = {
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: { name, namespace },
      eventTime: entry.eventTime,
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
      action,
      reason,
      regarding,
      ...(related ? { related } : {}),
      note,
      type,
      deprecatedSource: {},
      deprecatedFirstTimestamp: null,
      deprecatedLastTimestamp: null,
    };
    entry.body = body;
    const sink = this.sink;
    sink.queue.submit(
      `${namespace}/${name}`,
      async () => {
        body['regarding'] = sink.resolveRef(regarding);
        if (related) body['related'] = sink.resolveRef(related);
        const res = await sink.client.request(
          'POST',
          `/apis/events.k8s.io/v1/namespaces/${namespace}/events`,
          JSON.stringify(body),
          CONTENT_JSON,
          true,
        );
        if (res.status < 300) {
          sink.stats.creates++;
          entry.writtenCount = Math.max(entry.writtenCount, 1);
          sink.ledger.written(namespace, name, uidOf(res.body), 1);
        } else sink.fail(res.status, `POST events.k8s.io event ${namespace}/${name}`, res.body);
      },
      sink.eventDependency(regarding.uid),
    );
    return name;
  }

  /** The 30-minute heartbeat: writes every cached series. */
  refreshSeries(): void {
    for (const e of this.#cache.values()) if (e.series) this.#patchSeries(e);
  }

  /** The 6-minute finish: a series idle for 6 min is written and dropped; a singleton older than 6 min is dropped. */
  finishSeries(): void {
    const cutoff = this.sink.clock.now() - SERIES_FINISH_MS;
    for (const [key, e] of this.#cache) {
      if (e.series) {
        if (e.series.lastObservedMs < cutoff) {
          if (e.series.count !== e.writtenCount) this.#patchSeries(e);
          this.#cache.delete(key);
        }
      } else if (e.eventTimeMs < cutoff) this.#cache.delete(key);
    }
  }

  get cached(): number {
    return this.#cache.size;
  }

  #observe(
    name: string,
    namespace: string,
    type: string,
    reason: string,
    ref: ObjectRef,
    tag: Tag,
    now: number,
    detail?: string,
  ): void {
    if (tag.incident) this.sink.incidentOccurrences++;
    this.sink.ledger.observe(
      {
        namespace,
        name,
        api: 'events.k8s.io/v1',
        type,
        reason,
        reportingController: this.reportingController,
        object: refObject(ref),
      },
      tag,
      now,
      detail,
    );
  }

  #patchSeries(e: SeriesEntry): void {
    if (!e.series) return;
    const count = e.series.count;
    const patch = JSON.stringify({ series: { count, lastObservedTime: e.series.lastObservedTime } });
    const sink = this.sink;
    sink.queue.submit(`${e.namespace}/${e.name}`, async () => {
      const path = `/apis/events.k8s.io/v1/namespaces/${e.namespace}/events`;
      const res = await sink.client.request('PATCH', `${path}/${e.name}`, patch, CONTENT_STRATEGIC_MERGE_PATCH, true);
      if (res.status < 300) {
        sink.stats.patches++;
        e.writtenCount = count;
        sink.ledger.written(e.namespace, e.name, uidOf(res.body), count);
        return;
      }
      const body = e.body;
      if (res.status === 404 && body) {
        sink.stats.recreates++;
        const again = { ...body, series: JSON.parse(patch).series };
        const c = await sink.client.request('POST', path, JSON.stringify(again), CONTENT_JSON, true);
        if (c.status < 300) {
          sink.stats.creates++;
          e.writtenCount = count;
          sink.ledger.written(e.namespace, e.name, uidOf(c.body), count);
        } else sink.fail(c.status, `POST events.k8s.io event ${e.namespace}/${e.name}`, c.body);
        return;
      }
      sink.fail(res.status, `PATCH events.k8s.io event ${e.namespace}/${e.name}`, res.body);
    });
  }
}
