// `kec tail`: the live stream of new event occurrences (and incident changes), with get events' filters.
import type { WatchEvent, WatchIncident } from '@kec/api';
import type { Command } from 'commander';
import { CliError, queryString, watch } from './api-client.ts';
import { addEventFilterOptions, type EventFilterOpts, eventFilterQuery } from './get-command.ts';
import {
  addCommonOptions,
  type HistoryDeps,
  namespaceOf,
  outputOption,
  printOptions,
  stopSignal,
  target,
} from './history.ts';
import { printIncidentLine, printTailLine } from './printers.ts';

export interface TailOpts extends EventFilterOpts {
  output?: 'jsonl';
  incidents: boolean;
}

export async function runTail(deps: HistoryDeps, opts: TailOpts): Promise<void> {
  const query = eventFilterQuery(opts, namespaceOf(opts, undefined));
  const { signal, dispose } = stopSignal(deps);
  try {
    for await (const frame of watch(target(deps, opts), queryString({ ...query, incidents: opts.incidents }), signal)) {
      if (frame.event === 'event') {
        const w = JSON.parse(frame.data) as WatchEvent;
        if (w.watchType === 'DELETED' || w.occurrences === 0) continue;
        deps.out(opts.output === 'jsonl' ? `${frame.data.replace(/\n/g, '')}\n` : printTailLine(w, printOptions(deps)));
      } else if (frame.event === 'incident') {
        const w = JSON.parse(frame.data) as WatchIncident;
        deps.out(
          opts.output === 'jsonl'
            ? `${frame.data.replace(/\n/g, '')}\n`
            : printIncidentLine(w.incident, printOptions(deps)),
        );
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

export function addTailCommand(program: Command, deps: HistoryDeps, run: (p: Promise<void>) => Promise<void>): void {
  const cmd = program
    .command('tail')
    .description('follow new event occurrences and incident changes live (Ctrl-C to stop)');
  addCommonOptions(cmd, { range: false });
  addEventFilterOptions(cmd)
    .addOption(outputOption(['jsonl']))
    .option('--no-incidents', 'only events, not incident changes')
    .addHelpText(
      'after',
      '\nWithout -n every namespace is followed. Lines: TIME (UTC) NAMESPACE TYPE REASON OBJECT MESSAGE.\n',
    )
    .action((opts: TailOpts) => run(runTail(deps, opts)));
}
