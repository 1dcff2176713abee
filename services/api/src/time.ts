// `since`/`until`: a duration back from now (`30s`, `15m`, `2h`, `7d`, `1w`, `1h30m`) or an RFC 3339 time.
import { BadRequestError } from './errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { s: 1e3, m: 60e3, h: 3_600e3, d: 86_400e3, w: 604_800e3 };
const DURATION = /^(?:\d+(?:s|m|h|d|w))+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/;

/** Milliseconds of a duration like `1h30m`, or undefined when the text is not one. */
export function durationMs(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return ms;
}

/** Epoch ms of a since/until value, relative to `now`. Throws BadRequestError naming the field. */
export function parseTimeBound(text: string, now: number, field: string): number {
  const d = durationMs(text);
  if (d !== undefined) return now - d;
  if (RFC3339.test(text)) {
    const t = Date.parse(text.replace(' ', 'T'));
    if (Number.isFinite(t)) return t;
  }
  throw new BadRequestError(
    `${field} must be a duration back from now (30s, 15m, 2h, 7d, 1w, 1h30m) or an RFC 3339 time, got "${text}"`,
    { field },
  );
}

export interface Range {
  since: number;
  until: number;
}

/** [since, until) from the query; `defaultSinceMs` back from now when since is absent (0: the beginning). */
export function resolveRange(q: { since?: string; until?: string }, now: number, defaultSinceMs: number): Range {
  const until = q.until ? parseTimeBound(q.until, now, 'until') : now;
  const since = q.since ? parseTimeBound(q.since, now, 'since') : defaultSinceMs === 0 ? 0 : now - defaultSinceMs;
  if (since >= until) throw new BadRequestError('since must be before until', { field: 'since' });
  return { since, until };
}

/** Epoch ms -> `2026-12-07T14:00:00.123000Z` (microseconds, as the store answers). */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}

/** A store timestamp (ISO 8601 with up to 9 fractional digits) -> RFC 3339 UTC with microseconds. */
export function normalizeTs(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z?$/.exec(ts);
  if (!m) return ts;
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
}
