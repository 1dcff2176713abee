// `kec timeline KIND/NAME -n NS`: every event of an object over its history (and a workload's pods), readable in a
// terminal: occurrences per bucket as a bar line, then each observation oldest first, grouped by day.
import type { Timeline } from '@kec/api';
import { CLUSTER_SCOPED_KINDS } from '@kec/model';
import type { Command } from 'commander';
import { CliError, getJson, queryString } from './api-client.ts';
import {
  addCommonOptions,
  type CommonOpts,
  checkRange,
  type HistoryDeps,
  outputOption,
  parseObjectRef,
  printOptions,
  target,
} from './history.ts';
import { type Format, printStructured, printTimeline } from './printers.ts';

export interface TimelineOpts extends CommonOpts {
  step?: string;
  limit?: string;
  output?: Format;
}

export async function runTimeline(deps: HistoryDeps, ref: string, opts: TimelineOpts): Promise<void> {
  checkRange(opts);
  const { kind, name } = parseObjectRef(ref, 'the object');
  if (opts.step !== undefined && !/^(1m|5m|15m|1h|1d)$/.test(opts.step)) {
    throw new CliError(`--step must be one of 1m, 5m, 15m, 1h, 1d, got "${opts.step}"`, 2);
  }
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 10_000)) {
    throw new CliError(`--limit must be 1..10000, got "${opts.limit}"`, 2);
  }
  const ns = CLUSTER_SCOPED_KINDS.has(kind) ? '_' : (opts.namespace ?? 'default');
  const t = await getJson<Timeline>(
    target(deps, opts),
    `/api/v1/timeline/${encodeURIComponent(kind)}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}${queryString({
      cluster: opts.cluster,
      since: opts.since,
      until: opts.until,
      step: opts.step,
      limit,
    })}`,
  );
  if (opts.output) deps.out(printStructured(t as never, opts.output));
  else deps.out(printTimeline(t, printOptions(deps)));
}

export function addTimelineCommand(
  program: Command,
  deps: HistoryDeps,
  run: (p: Promise<void>) => Promise<void>,
): void {
  const cmd = program
    .command('timeline')
    .description("an object's events over its history (a workload's with its pods), oldest first")
    .argument('<kind/name>', 'pod/web-0, deploy/web, node/n1 ...');
  addCommonOptions(cmd, { namespaced: 'single' })
    .option('--step <step>', 'bucket of the bar line: 1m, 5m, 15m, 1h, 1d (default: from the range)')
    .option('--limit <n>', 'observations at most (default 1000)')
    .addOption(outputOption(['json', 'yaml']))
    .action((ref: string, opts: TimelineOpts) => run(runTimeline(deps, ref, opts)));
}
