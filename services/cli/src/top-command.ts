// `kec top reasons|workloads|nodes|namespaces|fingerprints --since 1d`: what produced the most occurrences.
import type { Top, TopBy } from '@kec/api';
import type { Command } from 'commander';
import { CliError, getJson, queryString } from './api-client.ts';
import { addEventFilterOptions, type EventsOpts, eventFilterQuery } from './get-command.ts';
import { addCommonOptions, type HistoryDeps, namespaceOf, outputOption, printOptions, target } from './history.ts';
import { printStructured, printTop } from './printers.ts';

const BY: Readonly<Record<string, TopBy>> = {
  reason: 'reason',
  reasons: 'reason',
  workload: 'workload',
  workloads: 'workload',
  node: 'node',
  nodes: 'node',
  namespace: 'namespace',
  namespaces: 'namespace',
  fingerprint: 'fingerprint',
  fingerprints: 'fingerprint',
};

export async function runTop(
  deps: HistoryDeps,
  what: string,
  opts: Omit<EventsOpts, 'output'> & { output?: 'json' | 'yaml' },
): Promise<void> {
  const by = BY[what.toLowerCase()];
  if (!by) throw new CliError(`unknown "${what}" for kec top (reasons, workloads, nodes, namespaces, fingerprints)`, 2);
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new CliError(`--limit must be 1..1000, got "${opts.limit}"`, 2);
  const query = eventFilterQuery(opts, namespaceOf(opts, undefined));
  const top = await getJson<Top>(
    target(deps, opts),
    `/api/v1/top${queryString({ by, ...query, since: opts.since ?? '1d', limit })}`,
  );
  if (opts.output) return deps.out(printStructured(top as never, opts.output));
  if (top.items.length === 0) return deps.note('No events found.\n');
  deps.out(printTop(top, printOptions(deps, { noHeaders: opts.headers === false })));
}

export function addTopCommand(program: Command, deps: HistoryDeps, run: (p: Promise<void>) => Promise<void>): void {
  const cmd = program
    .command('top')
    .description('top reasons, workloads, nodes, namespaces or fingerprints by new occurrences (default --since 1d)')
    .argument('<what>', 'reasons | workloads | nodes | namespaces | fingerprints');
  addCommonOptions(cmd);
  addEventFilterOptions(cmd)
    .addOption(outputOption(['json', 'yaml']))
    .option('--no-headers', 'no header line')
    .option('--limit <n>', 'rows', '20')
    .addHelpText('after', '\nWithout -n every namespace counts.\n')
    .action((what: string, opts: EventsOpts & { output?: 'json' | 'yaml' }) => run(runTop(deps, what, opts)));
}
