// `kec get events` (kubectl events' table with history: --since/--until, labels, -w) and `kec get incidents`.
import type { EventItem, EventPage, IncidentList, WatchEvent } from '@kec/api';
import type { Command } from 'commander';
import { CliError, getJson, queryString, watch } from './api-client.ts';
import {
  addCommonOptions,
  type CommonOpts,
  checkRange,
  type HistoryDeps,
  namespaceOf,
  outputOption,
  parseObjectRef,
  parseTypes,
  printOptions,
  stopSignal,
  target,
} from './history.ts';
import {
  type Format,
  printEventLine,
  printEventsTable,
  printIncidentsTable,
  printStructured,
  sortEventsByTime,
} from './printers.ts';

export interface EventFilterOpts extends CommonOpts {
  for?: string;
  types?: string;
  reason?: string;
  selector?: string;
  severity?: string;
  category?: string;
  workload?: string;
  node?: string;
  grep?: string;
}

export interface EventsOpts extends EventFilterOpts {
  output?: 'wide' | Format;
  watch?: boolean;
  limit: string;
}

/** The API's event filter query from the flags (shared by get events, tail and top). */
export function eventFilterQuery(opts: EventFilterOpts, ns: string | undefined): Record<string, string | undefined> {
  checkRange(opts);
  const forRef = opts.for ? parseObjectRef(opts.for, '--for') : undefined;
  return {
    cluster: opts.cluster,
    namespace: ns,
    for: forRef ? `${forRef.kind}/${forRef.name}` : undefined,
    type: parseTypes(opts.types),
    reason: opts.reason,
    severity: opts.severity,
    category: opts.category,
    workload: opts.workload,
    node: opts.node,
    labelSelector: opts.selector,
    q: opts.grep,
    since: opts.since,
    until: opts.until,
  };
}

export function addEventFilterOptions(cmd: Command): Command {
  return cmd
    .option('--for <kind/name>', 'only events about this object (pod/web-0, deploy/web)')
    .option('--types <types>', 'Normal, Warning or both (comma-separated)')
    .option('--reason <reasons>', 'only these reasons (comma-separated)')
    .option('-l, --selector <selector>', 'label selector on the involved object (app=web,tier!=db,env in (a,b))')
    .option('--severity <list>', 'only these severities: info, warning, error, critical')
    .option('--category <list>', 'only these categories')
    .option('--workload <name>', 'only events of this workload (name or Kind/name)')
    .option('--node <name>', 'only events on this node')
    .option('--grep <text>', 'only events whose message contains this text (case-insensitive)');
}

function parseLimit(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new CliError(`--limit must be 1..100000, got "${s}"`, 2);
  return n;
}

/** Walks the API's pages (newest first) until `limit` events or the last page. */
export async function listEvents(
  deps: HistoryDeps,
  opts: EventsOpts,
  query: Record<string, string | undefined>,
  limit: number,
): Promise<{ items: EventItem[]; range: EventPage['range'] | undefined; more: boolean }> {
  const t = target(deps, opts);
  const items: EventItem[] = [];
  let cursor: string | undefined;
  let range: EventPage['range'] | undefined;
  for (;;) {
    const page = await getJson<EventPage>(
      t,
      `/api/v1/events${queryString({ ...query, limit: Math.min(1000, limit - items.length), cursor })}`,
    );
    range ??= page.range;
    items.push(...page.items);
    if (!page.nextCursor) return { items, range, more: false };
    if (items.length >= limit) return { items, range, more: true };
    cursor = page.nextCursor;
  }
}

function printWatched(e: EventItem, deps: HistoryDeps, opts: EventsOpts, ns: string | undefined): void {
  const fmt = opts.output;
  // as kubectl -w: one document per event (pretty JSON, YAML documents, or one JSON line)
  if (fmt === 'json') deps.out(`${JSON.stringify(e, null, 2)}\n`);
  else if (fmt === 'yaml') deps.out(`---\n${printStructured(e as never, 'yaml')}`);
  else if (fmt === 'jsonl') deps.out(`${JSON.stringify(e)}\n`);
  else deps.out(printEventLine(e, { ...printOptions(deps), wide: fmt === 'wide', allNamespaces: ns === undefined }));
}

export async function runGetEvents(deps: HistoryDeps, opts: EventsOpts): Promise<void> {
  const ns = namespaceOf(opts, 'default');
  const query = eventFilterQuery(opts, ns);
  const limit = parseLimit(opts.limit);
  const { items, range, more } = await listEvents(deps, opts, query, limit);
  const sorted = sortEventsByTime(items);
  const fmt = opts.output;
  if (fmt === 'json' || fmt === 'yaml' || fmt === 'jsonl') {
    deps.out(printStructured({ kind: 'EventList', apiVersion: 'kec.io/v1', range, items: sorted }, fmt));
  } else if (sorted.length === 0) {
    if (!opts.watch) deps.note(ns ? `No events found in ${ns} namespace.\n` : 'No events found.\n');
  } else {
    deps.out(
      printEventsTable(sorted, {
        ...printOptions(deps, { noHeaders: opts.headers === false }),
        wide: fmt === 'wide',
        allNamespaces: ns === undefined,
      }),
    );
  }
  if (more) {
    deps.note(`(the newest ${sorted.length} events of the range; raise --limit or narrow --since for more)\n`);
  }
  if (!opts.watch) return;
  const { signal, dispose } = stopSignal(deps);
  try {
    const q = { ...query };
    delete q['since'];
    delete q['until'];
    for await (const frame of watch(target(deps, opts), queryString({ ...q, incidents: false }), signal)) {
      if (frame.event === 'event') {
        const w = JSON.parse(frame.data) as WatchEvent;
        // as kubectl events -w: a DELETED is the Event's TTL expiry, not news
        if (w.watchType !== 'DELETED') printWatched(w.event, deps, opts, ns);
      } else if (frame.event === 'error') {
        const e = JSON.parse(frame.data) as { status?: { message?: string } };
        throw new CliError(`watch ended by the server: ${e.status?.message ?? frame.data}`);
      }
    }
    if (!signal.aborted) throw new CliError('the watch stream ended (server restarted?)');
  } finally {
    dispose();
  }
}

export interface IncidentsOpts extends CommonOpts {
  state?: 'open' | 'resolved';
  severity?: string;
  category?: string;
  output?: 'wide' | Format;
  limit: string;
}

export async function runGetIncidents(deps: HistoryDeps, opts: IncidentsOpts): Promise<void> {
  checkRange(opts);
  const ns = namespaceOf(opts, undefined);
  const limit = parseLimit(opts.limit);
  if (limit > 1000) throw new CliError('--limit must be 1..1000 for incidents', 2);
  const list = await getJson<IncidentList>(
    target(deps, opts),
    `/api/v1/incidents${queryString({
      cluster: opts.cluster,
      namespace: ns,
      state: opts.state,
      severity: opts.severity,
      category: opts.category,
      since: opts.since,
      until: opts.until,
      limit,
    })}`,
  );
  const fmt = opts.output;
  if (fmt === 'json' || fmt === 'yaml' || fmt === 'jsonl') {
    deps.out(printStructured(list as never, fmt));
    return;
  }
  if (list.items.length === 0) {
    deps.note(ns ? `No incidents found in ${ns} namespace.\n` : 'No incidents found.\n');
    return;
  }
  deps.out(
    printIncidentsTable(list.items, {
      ...printOptions(deps, { noHeaders: opts.headers === false }),
      allNamespaces: ns === undefined,
    }),
  );
}

export function addGetCommand(program: Command, deps: HistoryDeps, run: (p: Promise<void>) => Promise<void>): void {
  const get = program.command('get').description('list events or incidents from kec history (like kubectl get)');
  const events = get
    .command('events')
    .alias('event')
    .alias('ev')
    .description('events sorted by time, newest last, with kubectl events columns: LAST SEEN shows "5m (x12 over 1h)"');
  addCommonOptions(events);
  addEventFilterOptions(events)
    .addOption(outputOption(['wide', 'json', 'yaml', 'jsonl']))
    .option('-w, --watch', 'after the list, stream new events (Ctrl-C to stop)')
    .option('--no-headers', 'no header line')
    .option('--limit <n>', 'show at most the newest N events of the range', '500')
    .addHelpText(
      'after',
      '\nWithout -n or -A the namespace is "default" (as kubectl). Without --since the API\'s default range applies.\n' +
        'Examples:\n  kec get events -n shop --since 2d --types Warning\n  kec get events -A --for deploy/web -o wide\n',
    )
    .action((opts: EventsOpts) => run(runGetEvents(deps, opts)));

  const incidents = get
    .command('incidents')
    .alias('incident')
    .alias('inc')
    .description('incidents (correlated events), most recently seen last');
  addCommonOptions(incidents)
    .option('--state <state>', 'open or resolved')
    .option('--severity <list>', 'only these severities')
    .option('--category <list>', 'only these categories')
    .addOption(outputOption(['json', 'yaml', 'jsonl']))
    .option('--no-headers', 'no header line')
    .option('--limit <n>', 'at most N incidents (newest)', '200')
    .addHelpText('after', '\nWithout -n every namespace is listed.\n')
    .action((opts: IncidentsOpts) => run(runGetIncidents(deps, opts)));
}
