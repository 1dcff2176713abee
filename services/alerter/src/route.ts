// Alertmanager's routing: a tree of routes with matchers; an alert descends into the first child that matches
// (and further siblings when that child has `continue: true`); where no child matches, the route itself takes it.
// Children inherit receiver, group_by and timings. Pure functions.
import { formatMatcher, matchesAll, parseMatcher } from './matchers.ts';
import type { Matcher, RouteSpec } from './schema.ts';
import { durationMs, labelString } from './text.ts';

export interface RouteTiming {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

/** Alertmanager's defaults. */
export const DEFAULT_ROUTE_TIMING: RouteTiming = {
  groupWaitMs: 30_000,
  groupIntervalMs: 300_000,
  repeatIntervalMs: 4 * 3_600_000,
};

export interface CompiledRoute {
  /** Alertmanager-style path of matchers, e.g. `{}/{severity="critical"}`: part of every group key of this route. */
  key: string;
  receiver: string;
  matchers: Matcher[];
  /** undefined: group by all labels (`...`). */
  groupBy: string[] | undefined;
  timing: RouteTiming;
  continue: boolean;
  routes: CompiledRoute[];
}

export function compileRoute(spec: RouteSpec, parentTiming: RouteTiming, parent?: CompiledRoute): CompiledRoute {
  const matchers = (spec.matchers ?? []).map(parseMatcher);
  const timing: RouteTiming = {
    groupWaitMs: spec.group_wait ? durationMs(spec.group_wait) : parentTiming.groupWaitMs,
    groupIntervalMs: spec.group_interval ? durationMs(spec.group_interval) : parentTiming.groupIntervalMs,
    repeatIntervalMs: spec.repeat_interval ? durationMs(spec.repeat_interval) : parentTiming.repeatIntervalMs,
  };
  const groupBy =
    spec.group_by === undefined
      ? parent
        ? parent.groupBy
        : []
      : spec.group_by.includes('...')
        ? undefined
        : spec.group_by;
  const self: CompiledRoute = {
    key: `${parent ? `${parent.key}/` : ''}{${matchers.map(formatMatcher).join(',')}}`,
    receiver: spec.receiver ?? parent?.receiver ?? '',
    matchers,
    groupBy,
    timing,
    continue: spec.continue ?? false,
    routes: [],
  };
  self.routes = (spec.routes ?? []).map((c, i) => {
    const child = compileRoute(c, timing, self);
    child.key = `${child.key}#${i}`; // siblings with the same matchers are distinct routes
    return child;
  });
  return self;
}

/** The routes that take an alert with these labels (at least one when the root matches: the root is a catch-all). */
export function routeAlert(route: CompiledRoute, labels: Readonly<Record<string, string>>): CompiledRoute[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const out: CompiledRoute[] = [];
  for (const child of route.routes) {
    const got = routeAlert(child, labels);
    if (got.length === 0) continue;
    out.push(...got);
    if (!child.continue) break;
  }
  return out.length ? out : [route];
}

/** The group labels of an alert on a route: its values of `group_by` (all labels for `...`). */
export function groupLabelsOf(route: CompiledRoute, labels: Readonly<Record<string, string>>): Record<string, string> {
  if (route.groupBy === undefined) return { ...labels };
  const out: Record<string, string> = {};
  for (const k of route.groupBy) {
    const v = labels[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** Alertmanager's group key: `<route path>:<group labels>`. */
export function groupKeyOf(route: CompiledRoute, groupLabels: Readonly<Record<string, string>>): string {
  return `${route.key}:${labelString(groupLabels)}`;
}
