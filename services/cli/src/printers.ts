// Pure printers of the history commands (`kec get events`, `kec get incidents`, `kec describe incident`,
// `kec timeline`, `kec top`, `kec tail`): data in, text out. The clock, the width and colour are parameters, so
// golden tests pin the output exactly.
import type { EventItem, Incident, IncidentDetail, Timeline, TimelineEntry, Top, WatchEvent } from '@kec/api';
import { stringify as yamlStringify } from 'yaml';

export interface PrintOptions {
  /** "Now", for the relative ages (ms since epoch). */
  now: number;
  /** Terminal columns; undefined = no limit (not a terminal). */
  width?: number | undefined;
  /** ANSI colour (only on a terminal, never with NO_COLOR). */
  color?: boolean;
  noHeaders?: boolean;
}

// --- ages -------------------------------------------------------------------------------------------------------

/**
 * A duration as kubectl prints ages (apimachinery `duration.HumanDuration`): ~2-3 significant figures,
 * `45s`, `2m5s`, `12m`, `3h4m`, `20h`, `3d4h`, `45d`, `2y30d`; `<invalid>` when more than 1 s in the future.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** kubectl's translateTimestampSince: `<unknown>` for a missing time. */
export function since(ts: string | null | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  if (Number.isNaN(t) || t <= 0) return '<unknown>';
  return humanDuration(now - t);
}

/** `kubectl events`' LAST SEEN: `5m (x12 over 1h)` when the event repeated, else the age of the first. */
export function lastSeenCell(e: Pick<EventItem, 'lastSeen' | 'firstSeen' | 'count'>, now: number): string {
  const first = since(e.firstSeen, now);
  if (e.count > 1) return `${since(e.lastSeen, now)} (x${e.count} over ${first})`;
  return first;
}

/** Cells never hold a line break or terminal escapes: cut at the first line break with `...` (as kubectl). */
export function escapeCell(s: string): string {
  let v = s;
  const br = v.search(/[\f\n\r]/);
  if (br >= 0) v = `${v.slice(0, br)}...`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal control characters is the point
  return v.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '^');
}

// --- sorting ----------------------------------------------------------------------------------------------------

/** Oldest first by last occurrence, then first occurrence, then uid (stable across pages and runs). */
export function sortEventsByTime<T extends Pick<EventItem, 'lastSeen' | 'firstSeen' | 'uid'>>(
  items: readonly T[],
): T[] {
  return [...items].sort(
    (a, b) =>
      Date.parse(a.lastSeen) - Date.parse(b.lastSeen) ||
      Date.parse(a.firstSeen) - Date.parse(b.firstSeen) ||
      (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0),
  );
}

// --- tables -----------------------------------------------------------------------------------------------------

export interface Column {
  header: string;
  /** Shrinks (cells cut with an ellipsis) when the table is wider than the terminal; lower goes first. */
  shrink?: number;
  /** Smallest width it is cut to. */
  min?: number;
  align?: 'right';
}

/** Display width of a string (code points; the tables hold no wide characters worth measuring). */
const width = (s: string) => [...s].length;

export function truncate(s: string, w: number): string {
  if (width(s) <= w) return s;
  if (w <= 1) return '…'.slice(0, w);
  return `${[...s].slice(0, w - 1).join('')}…`;
}

/**
 * An aligned table (three spaces between columns, as kubectl's tabwriter). When `width` is set and the table is
 * wider, shrinkable columns are cut (by `shrink` order, to their `min`), then every line is cut to the width.
 * `paint` colours a cell after the layout (so escapes never count toward widths).
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly string[][],
  opts: {
    width?: number | undefined;
    noHeaders?: boolean;
    paint?: (col: number, cell: string, row: number) => string;
  } = {},
): string {
  const cells = rows.map((r) => r.map(escapeCell));
  const widths = columns.map((c, i) =>
    Math.max(opts.noHeaders ? 0 : width(c.header), ...cells.map((r) => width(r[i] ?? ''))),
  );
  const gap = 3;
  const total = () => widths.reduce((s, w) => s + w, 0) + gap * (widths.length - 1);
  if (opts.width !== undefined) {
    const order = columns
      .map((c, i) => ({ c, i }))
      .filter((x) => x.c.shrink !== undefined)
      .sort((a, b) => (a.c.shrink ?? 0) - (b.c.shrink ?? 0));
    for (const { c, i } of order) {
      const excess = total() - opts.width;
      if (excess <= 0) break;
      const floor = Math.max(c.min ?? 10, opts.noHeaders ? 1 : width(c.header));
      const cur = widths[i] ?? 0;
      widths[i] = Math.min(cur, Math.max(floor, cur - excess));
    }
  }
  const line = (vals: readonly string[], row: number) => {
    const parts = vals.map((v, i) => {
      const w = widths[i] ?? 0;
      const cut = truncate(v, w);
      const last = i === vals.length - 1;
      const padded = columns[i]?.align === 'right' ? cut.padStart(w) : last ? cut : cut.padEnd(w);
      return opts.paint && row >= 0 ? padded.replace(cut, opts.paint(i, cut, row)) : padded;
    });
    let text = parts.join(' '.repeat(gap)).trimEnd();
    if (opts.width !== undefined && width(stripAnsi(text)) > opts.width) text = cutAnsi(text, opts.width);
    return text;
  };
  const out: string[] = [];
  if (!opts.noHeaders)
    out.push(
      line(
        columns.map((c) => c.header),
        -1,
      ),
    );
  cells.forEach((r, i) => {
    out.push(line(r, i));
  });
  return out.length ? `${out.join('\n')}\n` : '';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
const ANSI = /\u001b\[[0-9;]*m/g;
export const stripAnsi = (s: string) => s.replace(ANSI, '');

/** Cuts a line holding ANSI colour to `w` visible characters (ellipsis last), closing any open colour. */
function cutAnsi(s: string, w: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] === '\u001b') {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
      const m = /^\u001b\[[0-9;]*m/.exec(s.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const cp = String.fromCodePoint(s.codePointAt(i) ?? 32);
    if (visible === w - 1) {
      out += '…';
      break;
    }
    out += cp;
    visible++;
    i += cp.length;
  }
  return ANSI.test(out) ? `${out}\u001b[0m` : out;
}

const RED = (s: string) => `\u001b[31m${s}\u001b[0m`;
const YELLOW = (s: string) => `\u001b[33m${s}\u001b[0m`;
const BOLD = (s: string) => `\u001b[1m${s}\u001b[0m`;
const DIM = (s: string) => `\u001b[2m${s}\u001b[0m`;

function paintValue(v: string): string {
  if (v === 'Warning' || v === 'critical' || v === 'error') return RED(v);
  if (v === 'warning' || v === 'open') return YELLOW(v);
  return v;
}

// --- events -----------------------------------------------------------------------------------------------------

export interface EventTableOptions extends PrintOptions {
  wide?: boolean;
  /** Add a NAMESPACE column first (`-A`). */
  allNamespaces?: boolean;
}

const objectCell = (e: EventItem) => (e.object.name ? `${e.object.kind}/${e.object.name}` : e.object.kind);

/** The columns of `kec get events` (kubectl events' table; `-o wide` adds kubectl get events' wide columns + kec's). */
export function eventColumns(o: { wide?: boolean; allNamespaces?: boolean }): Column[] {
  const cols: Column[] = [];
  if (o.allNamespaces) cols.push({ header: 'NAMESPACE', shrink: 5, min: 12 });
  cols.push({ header: 'LAST SEEN' }, { header: 'TYPE' }, { header: 'REASON', shrink: 4, min: 12 });
  cols.push({ header: 'OBJECT', shrink: 2, min: 24 });
  if (o.wide) cols.push({ header: 'SUBOBJECT', shrink: 1, min: 12 }, { header: 'SOURCE', shrink: 1, min: 12 });
  cols.push({ header: 'MESSAGE', shrink: 0, min: 24 });
  if (o.wide) {
    cols.push(
      { header: 'FIRST SEEN' },
      { header: 'COUNT', align: 'right' },
      { header: 'NAME', shrink: 1, min: 12 },
      { header: 'SEVERITY' },
      { header: 'WORKLOAD', shrink: 3, min: 16 },
      { header: 'INCIDENT', shrink: 1, min: 10 },
    );
  }
  return cols;
}

export function eventRow(e: EventItem, o: EventTableOptions): string[] {
  const row: string[] = [];
  if (o.allNamespaces) row.push(e.namespace || e.object.namespace);
  row.push(lastSeenCell(e, o.now), e.type, e.reason, objectCell(e));
  if (o.wide) row.push(e.object.fieldPath, e.source);
  row.push(e.message.trim());
  if (o.wide) {
    row.push(
      since(e.firstSeen, o.now),
      String(e.count),
      e.name,
      e.severity,
      e.workload ? `${e.workload.kind}/${e.workload.name}` : '',
      e.incidentId ?? '',
    );
  }
  return row;
}

function eventPainter(cols: readonly Column[], color: boolean | undefined) {
  if (!color) return undefined;
  const painted = new Set(cols.map((c, i) => (c.header === 'TYPE' || c.header === 'SEVERITY' ? i : -1)));
  return (col: number, cell: string) => (painted.has(col) ? paintValue(cell) : cell);
}

/** The `kec get events` table, oldest first (the newest next to the prompt, as `kubectl events`). */
export function printEventsTable(items: readonly EventItem[], o: EventTableOptions): string {
  const cols = eventColumns(o);
  const rows = sortEventsByTime(items).map((e) => eventRow(e, o));
  const paint = eventPainter(cols, o.color);
  return renderTable(cols, rows, { width: o.width, noHeaders: o.noHeaders, ...(paint ? { paint } : {}) });
}

/** One row without a header, for `-w` after the first page: the same column widths are not kept (as kubectl). */
export function printEventLine(e: EventItem, o: EventTableOptions): string {
  const cols = eventColumns(o);
  const paint = eventPainter(cols, o.color);
  return renderTable(cols, [eventRow(e, o)], { width: o.width, noHeaders: true, ...(paint ? { paint } : {}) });
}

// --- structured output ------------------------------------------------------------------------------------------

export type Format = 'json' | 'yaml' | 'jsonl';

/** A document as `-o json` (2-space JSON), `-o yaml`, or `-o jsonl` (one item per line). */
export function printStructured(doc: { items?: readonly unknown[] } & Record<string, unknown>, format: Format): string {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  if (format === 'yaml') return yamlStringify(doc, { lineWidth: 0 });
  return (doc.items ?? [doc]).map((i) => `${JSON.stringify(i)}\n`).join('');
}

// --- incidents --------------------------------------------------------------------------------------------------

export function printIncidentsTable(items: readonly Incident[], o: PrintOptions & { allNamespaces?: boolean }): string {
  const cols: Column[] = [];
  if (o.allNamespaces) cols.push({ header: 'NAMESPACE', shrink: 3, min: 12 });
  cols.push(
    // never cut: it is what `kec describe incident` takes
    { header: 'ID' },
    { header: 'SEVERITY' },
    { header: 'STATE' },
    { header: 'LAST SEEN' },
    { header: 'EVENTS', align: 'right' },
    { header: 'ROOT CAUSE', shrink: 1, min: 16 },
    { header: 'TITLE', shrink: 0, min: 16 },
  );
  const sorted = [...items].sort(
    (a, b) => Date.parse(a.lastSeen) - Date.parse(b.lastSeen) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const rows = sorted.map((i) => {
    const r: string[] = [];
    if (o.allNamespaces) r.push(i.namespace);
    r.push(
      i.id,
      i.severity,
      i.state,
      `${since(i.lastSeen, o.now)} (over ${since(i.firstSeen, o.now)})`,
      String(i.eventCount),
      `${i.rootCause.reason} ${i.rootCause.object}`.trim(),
      i.title,
    );
    return r;
  });
  const painted = new Set(cols.map((c, i) => (c.header === 'SEVERITY' || c.header === 'STATE' ? i : -1)));
  const paint = o.color ? (col: number, cell: string) => (painted.has(col) ? paintValue(cell) : cell) : undefined;
  return renderTable(cols, rows, { width: o.width, noHeaders: o.noHeaders, ...(paint ? { paint } : {}) });
}

const iso = (ts: string) => ts.replace(/\.\d+Z$/, 'Z');

/** `kec describe incident ID`, in kubectl describe's layout: fields, root cause, affected, members oldest first. */
export function printIncidentDetail(d: IncidentDetail, o: PrintOptions): string {
  const i = d.incident;
  const b = o.color ? BOLD : (s: string) => s;
  const field = (k: string, v: string) => `${b(`${k}:`.padEnd(14))}${v}`;
  const lines = [
    field('ID', i.id),
    field('Title', i.title),
    field('Cluster', i.cluster),
    field('Namespace', i.namespace || '<none>'),
    field('Severity', o.color ? paintValue(i.severity) : i.severity),
    field('Category', i.category || '<none>'),
    field('State', o.color ? paintValue(i.state) : i.state),
    field('First Seen', `${iso(i.firstSeen)} (${since(i.firstSeen, o.now)} ago)`),
    field('Last Seen', `${iso(i.lastSeen)} (${since(i.lastSeen, o.now)} ago)`),
    field('Events', `${i.eventCount} (${i.occurrenceCount} occurrences)`),
    b('Root Cause:'),
    `  ${field('Event', `${i.rootCause.reason} on ${i.rootCause.object}`)}`,
    `  ${field('Why', i.rootCause.why || '<none>')}`,
    b(`Affected (${i.affected.length}):`),
    ...(i.affected.length ? i.affected.map((a) => `  ${a}`) : ['  <none>']),
    b('Events (oldest first):'),
  ];
  let text = `${lines.map((l) => (o.width !== undefined && width(stripAnsi(l)) > o.width ? cutAnsi(l, o.width) : l)).join('\n')}\n`;
  if (d.events.length === 0) return `${text}  <none>\n`;
  const members = [...d.events].sort(
    (a, b2) =>
      Date.parse(a.firstSeen) - Date.parse(b2.firstSeen) ||
      Date.parse(a.lastSeen) - Date.parse(b2.lastSeen) ||
      (a.uid < b2.uid ? -1 : 1),
  );
  const cols: Column[] = [
    { header: 'FIRST SEEN' },
    { header: 'LAST SEEN' },
    { header: 'TYPE' },
    { header: 'REASON', shrink: 3, min: 12 },
    { header: 'OBJECT', shrink: 1, min: 20 },
    { header: 'MESSAGE', shrink: 0, min: 20 },
  ];
  const rows = members.map((e) => [
    since(e.firstSeen, o.now),
    lastSeenCell(e, o.now),
    e.type,
    e.reason,
    e.object.namespace && e.object.namespace !== i.namespace
      ? `${objectCell(e)} -n ${e.object.namespace}`
      : objectCell(e),
    e.message.trim(),
  ]);
  const table = renderTable(cols, rows, {
    width: o.width === undefined ? undefined : o.width - 2,
    ...(o.color ? { paint: (c: number, cell: string) => (c === 2 ? paintValue(cell) : cell) } : {}),
  });
  text += table
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `  ${l}\n`)
    .join('');
  return text;
}

// --- timeline ---------------------------------------------------------------------------------------------------

const BARS = '▁▂▃▄▅▆▇█';

/** Occurrences per bucket as a one-line bar chart over the whole range (empty buckets as spaces). */
export function sparkline(t: Pick<Timeline, 'buckets' | 'range' | 'step'>, maxCols: number): string {
  const stepMs = STEP_MS[t.step] ?? 3_600_000;
  const start = Math.floor(Date.parse(t.range.since) / stepMs) * stepMs;
  const end = Date.parse(t.range.until);
  const n = Math.max(1, Math.ceil((end - start) / stepMs));
  const per = Math.max(1, Math.ceil(n / Math.max(1, maxCols)));
  const cols = Math.ceil(n / per);
  const vals = new Array<number>(cols).fill(0);
  for (const bk of t.buckets) {
    const idx = Math.floor((Date.parse(bk.time) - start) / stepMs / per);
    if (idx >= 0 && idx < cols) vals[idx] = (vals[idx] ?? 0) + bk.occurrences;
  }
  const max = Math.max(0, ...vals);
  if (max === 0) return ' '.repeat(cols);
  return vals.map((v) => (v === 0 ? ' ' : (BARS[Math.min(7, Math.floor((v / max) * 7.999))] ?? '█'))).join('');
}

const STEP_MS: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/**
 * `kec timeline KIND/NAME`: what it covers, the objects included, occurrences per bucket as a bar line, then every
 * observation oldest first, grouped by day (UTC), each line `HH:MM:SS  OBJECT  TYPE  REASON  (xCOUNT)  MESSAGE`.
 */
export function printTimeline(t: Timeline, o: PrintOptions): string {
  const b = o.color ? BOLD : (s: string) => s;
  const dim = o.color ? DIM : (s: string) => s;
  const obj = `${t.object.kind}/${t.object.name}${t.object.namespace && t.object.namespace !== '_' ? ` in ${t.object.namespace}` : ''}`;
  const total = t.entries.reduce((s, e) => s + e.occurrences, 0);
  const out: string[] = [
    b(`${obj}, ${iso(t.range.since)} .. ${iso(t.range.until)}`),
    `${t.entries.length} observation${t.entries.length === 1 ? '' : 's'}, ${total} occurrence${total === 1 ? '' : 's'}, ${t.objects.length} object${t.objects.length === 1 ? '' : 's'}${t.truncated ? ' (truncated: narrow --since/--until or raise --limit)' : ''}`,
  ];
  if (t.objects.length > 1) {
    const objs = renderTable(
      [{ header: 'OBJECT', shrink: 0, min: 20 }, { header: 'SEEN' }],
      t.objects.map((x) => [
        `${x.kind}/${x.name}`,
        `first ${since(x.firstSeen, o.now)} ago, last ${since(x.lastSeen, o.now)} ago`,
      ]),
      {
        width: o.width === undefined ? undefined : o.width - 2,
        noHeaders: true,
        paint: (c, cell) => (c === 1 ? dim(cell) : cell),
      },
    );
    out.push(
      ...objs
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (t.buckets.length > 0) {
    const label = `per ${t.step}: `;
    const room = (o.width ?? 100) - label.length - 2;
    const max = Math.max(...t.buckets.map((x) => x.occurrences));
    out.push(`${label}|${sparkline(t, room)}| max ${max}`);
  }
  if (t.entries.length === 0) {
    out.push('No events found in this range.');
    return `${out.join('\n')}\n`;
  }
  const sorted = [...t.entries].sort((a, b2) => Date.parse(a.time) - Date.parse(b2.time));
  const showObject = new Set(sorted.map((e) => `${e.object.kind}/${e.object.name}`)).size > 1;
  const cols: Column[] = [
    { header: 'TIME' },
    ...(showObject ? [{ header: 'OBJECT', shrink: 1, min: 20 }] : []),
    { header: 'TYPE' },
    { header: 'REASON', shrink: 2, min: 12 },
    { header: 'COUNT', align: 'right' as const },
    { header: 'MESSAGE', shrink: 0, min: 20 },
  ];
  const typeCol = showObject ? 2 : 1;
  // one table for every day, so columns line up; a day line (UTC) before each day's first row
  const lines = renderTable(
    cols,
    sorted.map((e) => timelineRow(e, showObject)),
    {
      width: o.width === undefined ? undefined : o.width - 2,
      noHeaders: true,
      ...(o.color ? { paint: (c: number, cell: string) => (c === typeCol ? paintValue(cell) : cell) } : {}),
    },
  )
    .trimEnd()
    .split('\n');
  let day = '';
  sorted.forEach((e, i) => {
    const d = e.time.slice(0, 10);
    if (d !== day) {
      day = d;
      out.push(b(`${d} (UTC)`));
    }
    out.push(`  ${lines[i] ?? ''}`);
  });
  return `${out.join('\n')}\n`;
}

function timelineRow(e: TimelineEntry, showObject: boolean): string[] {
  return [
    e.time.slice(11, 19),
    ...(showObject ? [`${e.object.kind}/${e.object.name}`] : []),
    e.type,
    e.reason,
    e.count > 1 ? `x${e.count}` : '',
    e.message.trim(),
  ];
}

// --- top --------------------------------------------------------------------------------------------------------

export function printTop(t: Top, o: PrintOptions): string {
  const keyHeader: Record<string, string> = {
    reason: 'REASON',
    workload: 'WORKLOAD',
    node: 'NODE',
    namespace: 'NAMESPACE',
    fingerprint: 'FINGERPRINT',
  };
  const cols: Column[] = [];
  if (t.by === 'workload') cols.push({ header: 'NAMESPACE', shrink: 2, min: 12 });
  cols.push({ header: keyHeader[t.by] ?? 'KEY', shrink: 1, min: 16 });
  if (t.by === 'reason') cols.push({ header: 'TYPE' });
  cols.push({ header: 'OCCURRENCES', align: 'right' }, { header: 'EVENTS', align: 'right' });
  if (t.by === 'fingerprint') cols.push({ header: 'TEMPLATE', shrink: 0, min: 20 });
  const rows = t.items.map((i) => {
    const r: string[] = [];
    if (t.by === 'workload') r.push(i.namespace);
    r.push(i.key || '<none>');
    if (t.by === 'reason') r.push(i.detail);
    r.push(String(i.occurrences), String(i.events));
    if (t.by === 'fingerprint') r.push(i.detail);
    return r;
  });
  return renderTable(cols, rows, { width: o.width, noHeaders: o.noHeaders });
}

// --- tail -------------------------------------------------------------------------------------------------------

/** One `kec tail` line: absolute time (UTC), namespace, type, reason, object, (xN) and the message. */
export function printTailLine(w: WatchEvent, o: PrintOptions): string {
  const e = w.event;
  const cols: Column[] = [
    { header: 'TIME' },
    { header: 'NAMESPACE', shrink: 3, min: 10 },
    { header: 'TYPE' },
    { header: 'REASON', shrink: 2, min: 12 },
    { header: 'OBJECT', shrink: 1, min: 20 },
    { header: 'MESSAGE', shrink: 0, min: 20 },
  ];
  const row = [
    e.lastSeen.slice(11, 19),
    e.namespace || '_',
    e.type,
    e.reason,
    e.count > 1 ? `${objectCell(e)} (x${e.count})` : objectCell(e),
    e.message.trim(),
  ];
  return renderTable(cols, [row], {
    width: o.width,
    noHeaders: true,
    ...(o.color ? { paint: (c: number, cell: string) => (c === 2 ? paintValue(cell) : cell) } : {}),
  });
}

/** One `kec tail` line for an incident change. */
export function printIncidentLine(i: Incident, o: PrintOptions): string {
  const sev = o.color ? paintValue(i.severity) : i.severity;
  const line = `${i.lastSeen.slice(11, 19)}   incident ${i.id} ${i.state} ${sev}: ${escapeCell(i.title)} (${i.eventCount} events)`;
  return `${o.width !== undefined && width(stripAnsi(line)) > o.width ? cutAnsi(line, o.width) : line}\n`;
}
