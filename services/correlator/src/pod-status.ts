// What the pod's status adds to a container's restart back-off: kubelet's BackOff event never says why the container
// exited; the enricher's pod record carries each container's last termination (reason, exit code, signal, finishedAt)
// and its waiting reason. An OOMKilled container becomes the cause ("OOMKilled (exit 137)"), a crash loop carries its
// exit code.
import type { EnrichedEvent } from '@kec/cache';
import type { Category, Classification } from '@kec/rules';

export interface PodCause {
  /** The cause's reason as the incident shows it: the termination reason for an OOM kill, else the event's reason. */
  reason: string;
  why: string;
  category: Category;
  rank: number;
  fields: Record<string, string>;
}

/** Rules whose events are about a container exiting and being restarted. */
const RESTART_RULES = new Set(['kubelet-backoff-restart']);
/** A termination older than this before the event is not what the event is about. */
const MAX_AGE_MS = 15 * 60_000;

const FIELD_PATH = /^spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]+)\}$/;

export function podStatusCause(e: EnrichedEvent, c: Classification): PodCause | null {
  if (e.regarding.kind !== 'Pod' || !RESTART_RULES.has(c.ruleId)) return null;
  const containers = e.enrichment.pod?.containers;
  if (!containers?.length) return null;
  const name = c.fields.container || FIELD_PATH.exec(e.regarding.fieldPath)?.[1] || '';
  const cs = name ? containers.find((x) => x.name === name) : containers.length === 1 ? containers[0] : undefined;
  const t = cs?.lastTermination;
  if (!cs || !t) return null;
  const eventMs = Date.parse(e.lastTimestamp || e.eventTime || e.observedAt);
  const finishedMs = Date.parse(t.finishedAt);
  if (cs.waiting !== 'CrashLoopBackOff' && Number.isFinite(finishedMs) && Number.isFinite(eventMs)) {
    if (eventMs - finishedMs > MAX_AGE_MS) return null;
  }
  const fields: Record<string, string> = {
    ...c.fields,
    container: cs.name,
    exitCode: String(t.exitCode),
    terminationReason: t.reason,
  };
  if (t.signal) fields.signal = String(t.signal);
  if (t.finishedAt) fields.finishedAt = t.finishedAt;
  if (t.reason === 'OOMKilled') {
    return {
      reason: 'OOMKilled',
      why: `OOMKilled (exit ${t.exitCode}): container ${cs.name} exceeded its memory limit and kubelet backs off restarting it`,
      category: 'resources',
      rank: 75,
      fields,
    };
  }
  return {
    reason: e.reason,
    why: `CrashLoopBackOff: container ${cs.name} exits with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`,
    category: c.category,
    rank: c.rank,
    fields,
  };
}
