// Errors of @kec/rules.

/** One problem in a rule file: where (file:line when known, rule id, JSON path) and what. */
export interface RuleProblem {
  file: string;
  line: number | undefined;
  ruleId: string | undefined;
  /** JSON pointer into the document, e.g. /rules/3/match/message. */
  path: string;
  message: string;
}

export function formatProblem(p: RuleProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  const id = p.ruleId ? ` rule ${p.ruleId}` : '';
  return `${where}:${id} ${p.path || '/'}: ${p.message}`;
}

/** A rule file that does not load. Not retryable: the file must be fixed. */
export class RuleFileError extends Error {
  override name = 'RuleFileError';
  readonly retryable = false;
  readonly problems: RuleProblem[];
  constructor(problems: RuleProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), options);
    this.problems = problems;
  }
}
