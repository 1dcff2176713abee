// Errors of the alerter. Each sets `name`, accepts `{ cause }` and says whether retrying can help.

export class AlerterError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AlerterError';
    this.retryable = options.retryable ?? false;
  }
}

/** A matcher string that does not parse. */
export class MatcherError extends AlerterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'MatcherError';
  }
}

/** One problem in an alerts file: where (file:line, rule id or key, JSON path) and what. */
export interface AlertsProblem {
  file: string;
  line: number | undefined;
  /** The rule id, or the receiver name, when the problem is inside one. */
  ruleId: string | undefined;
  /** JSON pointer into the document, e.g. /rules/3/match/message. */
  path: string;
  message: string;
}

export function formatProblem(p: AlertsProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  const id = p.ruleId ? ` ${p.ruleId}` : '';
  return `${where}:${id} ${p.path || '/'}: ${p.message}`;
}

/** An alerts file (or the set of them) that does not load: fix the file. Not retryable. */
export class AlertsFileError extends AlerterError {
  readonly problems: AlertsProblem[];
  constructor(problems: AlertsProblem[], options: { cause?: unknown } = {}) {
    super(problems.map(formatProblem).join('\n'), { ...options, retryable: false });
    this.name = 'AlertsFileError';
    this.problems = problems;
  }
}

/** A compare-and-set update lost too many races in a row (another replica keeps writing the same key). */
export class StateConflictError extends AlerterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
    this.name = 'StateConflictError';
  }
}
