// Re-classification of a stored event: the current rule set and fingerprint applied to what the store keeps of an
// event (the `events` row), as the live correlator would classify it. What the store does not keep (the pod's
// container statuses) is carried over from the stored fields: a BackOff whose stored fields name a termination keeps
// it, and an OOM kill stays the resources problem it was found to be.
import type { Category, RuleSet, Severity } from '@kec/rules';
import { fingerprint } from './fingerprint.ts';

/** The columns of an `events` row that classification and fingerprinting read. */
export interface StoredEvent {
  reason: string;
  type: string;
  note: string;
  reporting_controller: string;
  deprecated_source_component: string;
  deprecated_source_host: string;
  regarding_kind: string;
  regarding_namespace: string;
  regarding_name: string;
  regarding_field_path: string;
  object_labels: Record<string, string>;
  workload_name: string;
  node_name: string;
}

/** The columns reclassification rewrites. */
export interface StoredClassification {
  severity: Severity;
  category: Category;
  actionable: boolean;
  rule_id: string;
  ruleset_version: string;
  fields: Record<string, string>;
  fingerprint_id: string;
  fingerprint_template: string;
}

/** Fields the correlator adds from the pod's container status (pod-status.ts), kept since the store lacks that status. */
const POD_STATUS_FIELDS = ['container', 'exitCode', 'terminationReason', 'signal', 'finishedAt'] as const;
const RESTART_RULES = new Set(['kubelet-backoff-restart']);

export function reclassifyStored(
  row: StoredEvent & { fields?: Record<string, string> },
  rules: RuleSet,
): StoredClassification {
  const c = rules.classify(
    {
      reason: row.reason,
      type: row.type,
      note: row.note,
      reportingController: row.reporting_controller,
      deprecatedSource: { component: row.deprecated_source_component },
      regarding: {
        kind: row.regarding_kind,
        namespace: row.regarding_namespace,
        name: row.regarding_name,
        uid: '',
        apiVersion: '',
        resourceVersion: '',
        fieldPath: row.regarding_field_path,
      },
    },
    row.object_labels ?? {},
  );
  let fields = c.fields;
  let category = c.category;
  const old = row.fields ?? {};
  if (row.regarding_kind === 'Pod' && RESTART_RULES.has(c.ruleId) && old.terminationReason !== undefined) {
    fields = { ...c.fields };
    for (const k of POD_STATUS_FIELDS) if (old[k] !== undefined) fields[k] = old[k];
    if (old.terminationReason === 'OOMKilled') category = 'resources';
  }
  const fp = fingerprint({
    reason: row.reason,
    note: row.note,
    regarding: { kind: row.regarding_kind, name: row.regarding_name },
    names: {
      workload: row.workload_name || undefined,
      node: row.node_name || undefined,
      host: row.deprecated_source_host || undefined,
    },
  });
  return {
    severity: c.severity,
    category,
    actionable: c.actionable,
    rule_id: c.ruleId,
    ruleset_version: c.rulesetVersion,
    fields,
    fingerprint_id: fp.id,
    fingerprint_template: fp.template,
  };
}

const sameFields = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
};

/** Which rewritten columns differ, besides ruleset_version (a rewrite of that alone is a re-stamp). */
export function classificationChanges(
  old: Omit<StoredClassification, 'ruleset_version'>,
  now: StoredClassification,
): string[] {
  const out: string[] = [];
  if (old.severity !== now.severity) out.push('severity');
  if (old.category !== now.category) out.push('category');
  if (old.actionable !== now.actionable) out.push('actionable');
  if (old.rule_id !== now.rule_id) out.push('rule');
  if (!sameFields(old.fields ?? {}, now.fields)) out.push('fields');
  if (old.fingerprint_id !== now.fingerprint_id || old.fingerprint_template !== now.fingerprint_template)
    out.push('fingerprint');
  return out;
}
