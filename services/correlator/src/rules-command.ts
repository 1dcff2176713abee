// `kec rules check FILE...`: loads rule files as the correlator would and prints every problem precisely.
import { formatProblem, RuleFileError, RuleSet } from '@kec/rules';
import type { Command } from 'commander';

export interface CheckResult {
  ok: boolean;
  lines: string[];
}

/** Checks user rule files (each alone, then together with the defaults). */
export function checkRuleFiles(files: readonly string[]): CheckResult {
  const lines: string[] = [];
  let ok = true;
  for (const f of files) {
    try {
      const rs = RuleSet.load([f]);
      const own = rs.rules.filter((r) => r.source === f).length;
      lines.push(`${f}: ok (${own} rules; rule set ${rs.version}, ${rs.rules.length} rules with the defaults)`);
    } catch (err) {
      ok = false;
      if (err instanceof RuleFileError) for (const p of err.problems) lines.push(formatProblem(p));
      else lines.push(`${f}: ${(err as Error).message}`);
    }
  }
  return { ok, lines };
}

/** Adds `rules check` to the kec program. Invalid files: problems on stderr, exit status from commander (2). */
export function addRulesCommand(program: Command, out: (text: string) => void): void {
  const rules = program.command('rules').description('classification rules (kec.rules/v1)');
  rules
    .command('check')
    .description('validate rule files; prints file:line, rule id and JSON path of every problem')
    .argument('<file...>', 'YAML rule files')
    .action((files: string[], _opts: unknown, cmd: Command) => {
      const r = checkRuleFiles(files);
      if (r.ok) out(`${r.lines.join('\n')}\n`);
      else cmd.error(r.lines.join('\n'), { exitCode: 1, code: 'kec.rules.invalid' });
    });
}
