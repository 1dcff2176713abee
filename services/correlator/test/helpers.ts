// Test helpers: a real Redis with a random key prefix, and enriched events built like the enricher's.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import type { EnrichedEvent } from '@kec/cache';
import { normalizeEvent } from '@kec/model';
import { RuleSet } from '@kec/rules';
import { Correlator, CorrelatorState, type StateOptions } from '../src/index.ts';

export const REDIS_URL = process.env.KEC_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';

export const STATE_DEFAULTS: StateOptions = {
  windowMs: 900_000,
  occurrenceTtlSec: 3600,
  incidentTtlSec: 3600,
  maxAffected: 100,
};

export function newState(o: Partial<StateOptions> = {}): CorrelatorState {
  return CorrelatorState.connect(REDIS_URL, `t${randomBytes(4).toString('hex')}:`, { ...STATE_DEFAULTS, ...o });
}

/** Correlators on fresh Redis prefixes with the tests' storm settings; their state is purged after the file. */
export function correlatorFactory(): () => Correlator {
  const rules = RuleSet.load();
  const states: CorrelatorState[] = [];
  after(async () => {
    for (const s of states) {
      await s.purge();
      await s.close();
    }
  });
  return () => {
    const state = newState();
    states.push(state);
    return new Correlator({ rules, state, stormMin: 5, stormFactor: 3, baselineMinutes: 10, firstSeenTtlSec: 600 });
  };
}

export interface EvOpts {
  uid?: string;
  rv?: number | string;
  count?: number;
  reason: string;
  type?: string;
  kind?: string;
  name: string;
  namespace?: string;
  note: string;
  component?: string;
  at?: string;
  first?: string;
  watchType?: 'ADDED' | 'MODIFIED' | 'DELETED' | 'LISTED';
  workload?: { kind: string; name: string } | null;
  node?: string | null;
  cluster?: string;
}

let n = 0;
export function ev(o: EvOpts): EnrichedEvent {
  n++;
  const ns = o.namespace ?? (o.kind === 'Node' ? 'default' : 'shop');
  const at = o.at ?? '2026-11-22T06:00:00Z';
  const k = normalizeEvent(
    {
      metadata: {
        name: `${o.name}.${n.toString(16)}`,
        namespace: ns,
        uid: o.uid ?? `u-${randomBytes(6).toString('hex')}`,
        resourceVersion: String(o.rv ?? 1000 + n),
        creationTimestamp: o.first ?? at,
      },
      involvedObject: {
        kind: o.kind ?? 'Pod',
        namespace: o.kind === 'Node' ? '' : ns,
        name: o.name,
        uid: `obj-${o.name}`,
        apiVersion: 'v1',
      },
      reason: o.reason,
      message: o.note,
      source: { component: o.component ?? 'kubelet', host: 'node-a' },
      firstTimestamp: o.first ?? at,
      lastTimestamp: at,
      count: o.count ?? 1,
      type: o.type ?? 'Warning',
      reportingComponent: o.component ?? 'kubelet',
      reportingInstance: 'node-a',
    },
    { cluster: o.cluster ?? 'c1', watchType: o.watchType ?? 'ADDED' },
  );
  const wl = o.workload === undefined ? null : o.workload;
  return {
    ...k,
    schema: 'kec.enriched/v1',
    enrichment: {
      status: 'hit',
      detail: '',
      object: null,
      pod: null,
      owners: [],
      workload: wl ? { ...wl, uid: `w-${wl.name}` } : null,
      node: o.node
        ? { name: o.node, zone: 'a', region: 'r', instanceType: 'm5', labels: {}, ready: 'True', problems: [] }
        : null,
      namespaceLabels: {},
      enrichedAt: '2026-11-22T06:00:00.000000Z',
    },
  };
}

/** A seeded PRNG (mulberry32) for reproducible shuffles. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(xs: T[], r: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
