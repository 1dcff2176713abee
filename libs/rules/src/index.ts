// @kec/rules: declarative, versioned classification rules for Kubernetes Events.

export { type CheckResult, checkRuleFiles } from './check.ts';
export type { RuleProblem } from './errors.ts';
export { formatProblem, RuleFileError } from './errors.ts';
export type { CompiledRule, LoadedFile } from './load.ts';
export { DEFAULT_RULES_PATH, loadRuleFile, parseRuleFile } from './load.ts';
export type { Classifiable, Classification } from './ruleset.ts';
export { RuleSet, severityRank, stripCombined } from './ruleset.ts';
export type { Category, MatchSpec, RuleFile, RuleSpec, Severity } from './schema.ts';
export {
  CATEGORIES,
  CategorySchema,
  RULES_API_VERSION,
  RuleFileSchema,
  RuleSchema,
  SEVERITIES,
  SeveritySchema,
} from './schema.ts';
