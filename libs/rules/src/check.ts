// What `kec rules check` reports: each file alone, then merged with the defaults.
import { formatProblem, RuleFileError } from './errors.ts';
import { RuleSet } from './ruleset.ts';

export interface CheckResult {
  ok: boolean;
  lines: string[];
}

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
