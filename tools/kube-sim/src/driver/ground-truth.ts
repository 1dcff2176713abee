// Ground truth of a driver run (schema kec.groundtruth/v1): which events form which incident, the root cause, and per
// event object the final count the driver wrote. Built while the run writes; finish() turns it into the JSON document.
import { writeFileSync } from 'node:fs';
import type { ObjectRef } from './cluster.ts';

export const GROUND_TRUTH_SCHEMA = 'kec.groundtruth/v1';

export type EventApi = 'core/v1' | 'events.k8s.io/v1';

export interface Tag {
  /** Incident id, or null for background noise. */
  incident: string | null;
  /** This emission is the incident's root cause. */
  root?: boolean;
}

export const NOISE: Tag = { incident: null };

export interface GtObject {
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
}

export interface GtRootCause {
  reason: string;
  object: GtObject;
  /** The event that carries the cause (absent when the cause is only in an object's status, e.g. OOMKilled). */
  eventName?: string;
  eventUid?: string;
  detail?: string;
}

export interface GtIncident {
  id: string;
  scenario: string;
  title: string;
  namespace?: string;
  startedAt: string;
  endedAt: string;
  rootCause: GtRootCause;
  /** Event object names (namespace/name) that belong to this incident. */
  events: string[];
  eventUids: string[];
  affectedObjects: GtObject[];
}

export interface GtEvent {
  uid: string;
  name: string;
  namespace: string;
  api: EventApi;
  type: string;
  reason: string;
  reportingController: string;
  involvedObject: GtObject;
  /** The last count written to this object: core `count`, events.k8s.io `series.count` (1 without a series). */
  count: number;
  /** Occurrences the recorder observed for this event name (can exceed count while a series is unflushed). */
  occurrences: number;
  incident: string | null;
  /** Another object with the same name replaced this one (PATCH 404 -> create, after TTL expiry). */
  replaced?: boolean;
}

export interface GroundTruth {
  schema: typeof GROUND_TRUTH_SCHEMA;
  seed: string;
  server: string;
  scenarios: string[];
  /** Virtual time span of the run. */
  startedAt: string;
  endedAt: string;
  wallStartedAt: string;
  wallEndedAt: string;
  incidents: GtIncident[];
  /** Keyed by event uid. */
  events: Record<string, GtEvent>;
  /** Uids of events that belong to no incident. */
  noise: string[];
  totals: { eventObjects: number; incidents: number; noiseEvents: number; occurrencesWritten: number };
}

interface NameEntry {
  key: string;
  namespace: string;
  name: string;
  api: EventApi;
  type: string;
  reason: string;
  reportingController: string;
  object: GtObject;
  incident: string | null;
  occurrences: number;
  uids: string[];
  counts: Map<string, number>;
}

interface IncidentEntry {
  id: string;
  scenario: string;
  title: string;
  namespace?: string;
  startedMs: number;
  endedMs: number;
  root?: { key?: string; reason: string; object: GtObject; detail?: string };
  eventKeys: Set<string>;
  affected: Map<string, GtObject>;
}

export function refObject(ref: ObjectRef): GtObject {
  const o: GtObject = { kind: ref.kind, name: ref.name, uid: ref.uid };
  if (ref.namespace) o.namespace = ref.namespace;
  return o;
}

export class GroundTruthLedger {
  #names = new Map<string, NameEntry>();
  #incidents = new Map<string, IncidentEntry>();
  #seq = new Map<string, number>();
  /** Maps planned uids to server uids when the document is produced. */
  resolveUid: (uid: string) => string = (u) => u;

  openIncident(scenario: string, title: string, nowMs: number, namespace?: string): string {
    const n = (this.#seq.get(scenario) ?? 0) + 1;
    this.#seq.set(scenario, n);
    const id = `${scenario}-${n}`;
    this.#incidents.set(id, {
      id,
      scenario,
      title,
      ...(namespace ? { namespace } : {}),
      startedMs: nowMs,
      endedMs: nowMs,
      eventKeys: new Set(),
      affected: new Map(),
    });
    return id;
  }

  affect(incident: string, obj: GtObject): void {
    const inc = this.#incidents.get(incident);
    if (inc) inc.affected.set(`${obj.kind}/${obj.namespace ?? ''}/${obj.name}`, obj);
  }

  /** A root cause that is not an event (e.g. a container's lastState OOMKilled). */
  setRootObject(incident: string, reason: string, obj: GtObject, detail?: string): void {
    const inc = this.#incidents.get(incident);
    if (inc && !inc.root) inc.root = { reason, object: obj, ...(detail ? { detail } : {}) };
  }

  /** Called synchronously by a recorder for each occurrence it accepts. */
  observe(
    e: Omit<NameEntry, 'key' | 'occurrences' | 'uids' | 'counts' | 'incident'>,
    tag: Tag,
    nowMs: number,
    detail?: string,
  ): void {
    const key = `${e.namespace}/${e.name}`;
    let entry = this.#names.get(key);
    if (!entry) {
      entry = { ...e, key, incident: tag.incident, occurrences: 0, uids: [], counts: new Map() };
      this.#names.set(key, entry);
    }
    entry.occurrences++;
    // A background event object an incident's occurrence bumps (a healthy pod's Started, counted up again when the
    // pod recovers from the incident) now carries the incident's occurrences: it belongs to the incident.
    if (tag.incident && entry.incident === null) entry.incident = tag.incident;
    if (tag.incident) {
      const inc = this.#incidents.get(tag.incident);
      if (inc) {
        inc.eventKeys.add(key);
        inc.endedMs = Math.max(inc.endedMs, nowMs);
        inc.affected.set(`${e.object.kind}/${e.object.namespace ?? ''}/${e.object.name}`, e.object);
        if (tag.root && !inc.root)
          inc.root = { key, reason: e.reason, object: e.object, ...(detail ? { detail } : {}) };
      }
    }
  }

  /** Called when a write succeeded: the server's uid for this name and the count now stored. */
  written(namespace: string, name: string, uid: string, count: number): void {
    const entry = this.#names.get(`${namespace}/${name}`);
    if (!entry) return;
    if (!entry.counts.has(uid)) entry.uids.push(uid);
    entry.counts.set(uid, count);
  }

  incidentIds(): string[] {
    return [...this.#incidents.keys()];
  }

  finish(meta: Omit<GroundTruth, 'schema' | 'incidents' | 'events' | 'noise' | 'totals'>): GroundTruth {
    const events: Record<string, GtEvent> = {};
    const noise: string[] = [];
    let occurrencesWritten = 0;
    const obj = (o: GtObject): GtObject => ({ ...o, uid: this.resolveUid(o.uid) });
    for (const entry of this.#names.values()) {
      entry.uids.forEach((uid, i) => {
        const count = entry.counts.get(uid) ?? 0;
        occurrencesWritten += count;
        events[uid] = {
          uid,
          name: entry.name,
          namespace: entry.namespace,
          api: entry.api,
          type: entry.type,
          reason: entry.reason,
          reportingController: entry.reportingController,
          involvedObject: obj(entry.object),
          count,
          occurrences: entry.occurrences,
          incident: entry.incident,
          ...(i < entry.uids.length - 1 ? { replaced: true } : {}),
        };
        if (!entry.incident) noise.push(uid);
      });
    }
    const incidents: GtIncident[] = [];
    for (const inc of this.#incidents.values()) {
      if (inc.eventKeys.size === 0) continue;
      const keys = [...inc.eventKeys];
      const rootEntry = inc.root?.key ? this.#names.get(inc.root.key) : undefined;
      const root = inc.root ?? { reason: 'unknown', object: { kind: 'Unknown', name: '', uid: '' } };
      incidents.push({
        id: inc.id,
        scenario: inc.scenario,
        title: inc.title,
        ...(inc.namespace ? { namespace: inc.namespace } : {}),
        startedAt: new Date(inc.startedMs).toISOString(),
        endedAt: new Date(inc.endedMs).toISOString(),
        rootCause: {
          reason: root.reason,
          object: obj(root.object),
          ...(rootEntry ? { eventName: rootEntry.key } : {}),
          ...(rootEntry?.uids[0] ? { eventUid: rootEntry.uids[0] } : {}),
          ...(root.detail ? { detail: root.detail } : {}),
        },
        events: keys,
        eventUids: keys.flatMap((k) => this.#names.get(k)?.uids ?? []),
        affectedObjects: [...inc.affected.values()].map(obj),
      });
    }
    return {
      schema: GROUND_TRUTH_SCHEMA,
      ...meta,
      incidents,
      events,
      noise,
      totals: {
        eventObjects: Object.keys(events).length,
        incidents: incidents.length,
        noiseEvents: noise.length,
        occurrencesWritten,
      },
    };
  }
}

export function writeGroundTruth(path: string, gt: GroundTruth): void {
  writeFileSync(path, `${JSON.stringify(gt, null, 2)}\n`);
}
