// `kec describe incident ID`: root cause and why, affected objects, member events oldest first.
import type { IncidentDetail } from '@kec/api';
import type { Command } from 'commander';
import { getJson, queryString } from './api-client.ts';
import { addCommonOptions, type CommonOpts, type HistoryDeps, outputOption, printOptions, target } from './history.ts';
import { type Format, printIncidentDetail, printStructured } from './printers.ts';

export interface DescribeOpts extends CommonOpts {
  output?: Format;
}

export async function runDescribeIncident(deps: HistoryDeps, id: string, opts: DescribeOpts): Promise<void> {
  const d = await getJson<IncidentDetail>(
    target(deps, opts),
    `/api/v1/incidents/${encodeURIComponent(id)}${queryString({ cluster: opts.cluster })}`,
  );
  if (opts.output) deps.out(printStructured(d as never, opts.output));
  else deps.out(printIncidentDetail(d, printOptions(deps)));
}

export function addDescribeCommand(
  program: Command,
  deps: HistoryDeps,
  run: (p: Promise<void>) => Promise<void>,
): void {
  const describe = program.command('describe').description('show one incident in detail (like kubectl describe)');
  const incident = describe
    .command('incident')
    .alias('incidents')
    .alias('inc')
    .description('root cause and why, affected objects, member events oldest first')
    .argument('<id>', 'incident id (kec get incidents)');
  addCommonOptions(incident, { namespaced: false, range: false })
    .addOption(outputOption(['json', 'yaml']))
    .action((id: string, opts: DescribeOpts) => run(runDescribeIncident(deps, id, opts)));
}
