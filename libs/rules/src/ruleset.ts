// A rule set: the defaults plus user files (a user rule with an existing id replaces it), first match by priority.
import { COMBINED_PREFIX, type KecEvent } from '@kec/model';
import { type CompiledRule, DEFAULT_RULES_PATH, type LoadedFile, loadRuleFile } from './load.ts';
import type { Category, Severity } from './schema.ts';

export interface Classification {
  severity: Severity;
  category: Category;
  actionable: boolean;
  ruleId: string;
  rulesetVersion: string;
  fields: Record<string, string>;
  incident: 'open' | 'join' | 'none';
  rank: number;
  linkNode: boolean;
  why: string;
}

/** What a rule reads of an event: the KecEvent fields and the involved object's labels (from enrichment). */
export type Classifiable = Pick<KecEvent, 'reason' | 'type' | 'regarding' | 'reportingController' | 'note'> & {
  deprecatedSource?: { component?: string } | undefined;
};

const SEV_ORDER: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };
export const severityRank = (s: Severity): number => SEV_ORDER[s];

export function stripCombined(note: string): string {
  return note.startsWith(COMBINED_PREFIX) ? note.slice(COMBINED_PREFIX.length) : note;
}

export class RuleSet {
  readonly version: string;
  readonly rules: readonly CompiledRule[];
  private readonly byReason = new Map<string, CompiledRule[]>();
  private readonly anyReason: CompiledRule[] = [];

  constructor(files: readonly LoadedFile[]) {
    const byId = new Map<string, CompiledRule>();
    for (const f of files) for (const r of f.rules) byId.set(r.spec.id, r);
    // stable: priority desc, then the order of first definition
    const ordered = [...byId.values()].map((r, i) => ({ r, i }));
    ordered.sort((a, b) => b.r.priority - a.r.priority || a.i - b.i);
    this.rules = ordered.map((x) => x.r);
    this.version = files.map((f) => f.version).join('+');
    for (const r of this.rules) {
      if (!r.reason) {
        this.anyReason.push(r);
        continue;
      }
      for (const reason of r.reason) {
        const list = this.byReason.get(reason) ?? [];
        if (list.length === 0) this.byReason.set(reason, list);
        list.push(r);
      }
    }
    // merge reason-less rules into each reason list at their priority position
    for (const [reason, list] of this.byReason) {
      const merged = [...list, ...this.anyReason];
      merged.sort((a, b) => this.rules.indexOf(a) - this.rules.indexOf(b));
      this.byReason.set(reason, merged);
    }
  }

  /** Defaults plus user files, in that order. */
  static load(userFiles: readonly string[] = [], opts: { defaults?: boolean } = {}): RuleSet {
    const files = opts.defaults === false ? [] : [loadRuleFile(DEFAULT_RULES_PATH)];
    for (const f of userFiles) files.push(loadRuleFile(f));
    return new RuleSet(files);
  }

  /** The first matching rule, or undefined. */
  match(e: Classifiable, labels: Record<string, string> = {}): CompiledRule | undefined {
    const candidates = this.byReason.get(e.reason) ?? this.anyReason;
    const component = e.reportingController || e.deprecatedSource?.component || '';
    let msg: string | undefined;
    for (const r of candidates) {
      if (r.type && !r.type.has(e.type)) continue;
      if (r.kind && !r.kind.has(e.regarding.kind)) continue;
      if (r.component && !r.component.has(component)) continue;
      if (r.labels && !r.labels.every(([k, v]) => (v === '*' ? k in labels : labels[k] === v))) continue;
      if (r.message) {
        msg ??= stripCombined(e.note);
        if (!r.message.test(msg)) continue;
      }
      return r;
    }
    return undefined;
  }

  classify(e: Classifiable, labels: Record<string, string> = {}): Classification {
    const r = this.match(e, labels);
    if (!r) {
      const warn = e.type === 'Warning';
      return {
        severity: warn ? 'warning' : 'info',
        category: 'other',
        actionable: false,
        ruleId: warn ? 'fallback-warning' : 'fallback-normal',
        rulesetVersion: this.version,
        fields: {},
        incident: warn ? 'open' : 'join',
        rank: warn ? 10 : 0,
        linkNode: false,
        why: '',
      };
    }
    const fields: Record<string, string> = {};
    if (r.extract.length) {
      const msg = stripCombined(e.note);
      for (const re of r.extract) {
        const m = re.exec(msg);
        if (m?.groups)
          for (const [k, v] of Object.entries(m.groups)) if (v !== undefined && !(k in fields)) fields[k] = v;
      }
    }
    const s = r.spec;
    return {
      severity: s.severity,
      category: s.category,
      actionable: s.actionable,
      ruleId: s.id,
      rulesetVersion: this.version,
      fields,
      incident: s.incident ?? (SEV_ORDER[s.severity] >= 1 ? 'open' : 'join'),
      rank: s.rank ?? 0,
      linkNode: s.linkNode ?? false,
      why: s.why ?? '',
    };
  }
}
