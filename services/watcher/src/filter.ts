// Include/exclude filters: server-side field selectors where the API can express them, client-side for the rest.
// Field selectors AND their terms and cannot OR, so a single included value becomes `f=v`, excluded values `f!=v`,
// and several included values are checked here after the LIST/WATCH (L7).
import type { KecEvent } from '@kec/model';
import { csv, type WatcherConfig } from './config.ts';

export interface EventFilter {
  /** Collection path to list/watch. */
  path: string;
  /** Server-side field selector ('' for none). */
  fieldSelector: string;
  /** Client-side predicate on the normalized event. */
  accept(ev: KecEvent): boolean;
}

type Api = 'core/v1' | 'events.k8s.io/v1';

/** events.k8s.io/v1 rejects involvedObject.*; it selects on regarding.* (L7). */
function kindField(api: Api): string {
  return api === 'core/v1' ? 'involvedObject.kind' : 'regarding.kind';
}

/** Escapes a field-selector value (`\`, `,` and `=` are special). */
function esc(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`);
}

export function buildFilter(
  cfg: Pick<
    WatcherConfig,
    'api' | 'namespaces' | 'excludeNamespaces' | 'kinds' | 'excludeKinds' | 'reasons' | 'excludeReasons' | 'types'
  >,
): EventFilter {
  const api = cfg.api as Api;
  const nsInc = csv(cfg.namespaces);
  const nsExc = new Set(csv(cfg.excludeNamespaces));
  const kindInc = csv(cfg.kinds);
  const kindExc = new Set(csv(cfg.excludeKinds));
  const reasonInc = csv(cfg.reasons);
  const reasonExc = new Set(csv(cfg.excludeReasons));
  const typeInc = csv(cfg.types);
  const base = api === 'core/v1' ? '/api/v1' : '/apis/events.k8s.io/v1';
  const path = nsInc.length === 1 ? `${base}/namespaces/${encodeURIComponent(nsInc[0]!)}/events` : `${base}/events`;
  const terms: string[] = [];
  for (const n of nsExc) terms.push(`metadata.namespace!=${esc(n)}`);
  const kf = kindField(api);
  if (kindInc.length === 1) terms.push(`${kf}=${esc(kindInc[0]!)}`);
  for (const k of kindExc) terms.push(`${kf}!=${esc(k)}`);
  if (reasonInc.length === 1) terms.push(`reason=${esc(reasonInc[0]!)}`);
  for (const r of reasonExc) terms.push(`reason!=${esc(r)}`);
  if (typeInc.length === 1) terms.push(`type=${esc(typeInc[0]!)}`);
  const nsSet = nsInc.length > 1 ? new Set(nsInc) : undefined;
  const kindSet = kindInc.length > 1 ? new Set(kindInc) : undefined;
  const reasonSet = reasonInc.length > 1 ? new Set(reasonInc) : undefined;
  const typeSet = typeInc.length > 1 ? new Set(typeInc) : undefined;
  // The client-side checks repeat the server-side ones too: cheap, and correct against a server that ignores a term.
  return {
    path,
    fieldSelector: terms.join(','),
    accept(ev) {
      if (nsSet && !nsSet.has(ev.namespace)) return false;
      if (nsInc.length === 1 && ev.namespace !== nsInc[0]) return false;
      if (nsExc.has(ev.namespace)) return false;
      if (kindSet && !kindSet.has(ev.regarding.kind)) return false;
      if (kindInc.length === 1 && ev.regarding.kind !== kindInc[0]) return false;
      if (kindExc.has(ev.regarding.kind)) return false;
      if (reasonSet && !reasonSet.has(ev.reason)) return false;
      if (reasonInc.length === 1 && ev.reason !== reasonInc[0]) return false;
      if (reasonExc.has(ev.reason)) return false;
      if (typeSet && !typeSet.has(ev.type)) return false;
      if (typeInc.length === 1 && ev.type !== typeInc[0]) return false;
      return true;
    },
  };
}
