// Registers the history commands (get, describe, timeline, top, tail) on the `kec` program. Each talks to
// services/api; a CliError becomes one `kec: ...` line on stderr with exit 2 (usage) or 1 (anything else).
import type { Command } from 'commander';
import { CliError } from './api-client.ts';
import { addDescribeCommand } from './describe-command.ts';
import { addGetCommand } from './get-command.ts';
import type { HistoryDeps } from './history.ts';
import { addTailCommand } from './tail-command.ts';
import { addTimelineCommand } from './timeline-command.ts';
import { addTopCommand } from './top-command.ts';

export function addHistoryCommands(
  program: Command,
  deps: HistoryDeps,
  fail: (exitCode: number, message: string) => never,
): void {
  const run = async (p: Promise<void>) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof CliError) fail(err.exitCode, `kec: ${err.message}`);
      throw err;
    }
  };
  addGetCommand(program, deps, run);
  addDescribeCommand(program, deps, run);
  addTimelineCommand(program, deps, run);
  addTopCommand(program, deps, run);
  addTailCommand(program, deps, run);
}
