// `kec rules check FILE...`: validates classification rule files as the correlator loads them (the defaults, then
// each file) and prints every problem as file:line: rule <id> <json path>: message. @kec/rules is imported lazily.
import type { Command } from 'commander';

export function addRulesCommand(program: Command, out: (text: string) => void): void {
  const rules = program.command('rules').description('classification rules (kec.rules/v1)');
  rules
    .command('check')
    .description('validate rule files; prints file:line, rule id and JSON path of every problem (exit 2 when invalid)')
    .argument('<file...>', 'YAML rule files')
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
      const { checkRuleFiles } = await import('@kec/rules');
      const r = checkRuleFiles(files);
      if (r.ok) out(`${r.lines.join('\n')}\n`);
      else cmd.error(r.lines.join('\n'), { exitCode: 1, code: 'kec.rules.invalid' });
    });
}
