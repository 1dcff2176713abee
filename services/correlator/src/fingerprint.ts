// Fingerprints: the message with its variable parts replaced, so the same problem on different objects groups.
import { createHash } from 'node:crypto';
import { stripCombined } from '@kec/rules';

/** Alphabet of k8s rand.String / SafeEncodeString (no vowels, no 0/1/3): pod suffixes and pod-template hashes. */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';

// Order matters: the most specific shapes first, numbers last.
const REPLACEMENTS: [RegExp, string][] = [
  // kubelet's format.Pod: name_namespace(uid)
  [/\b[a-z0-9]([-a-z0-9.]*[a-z0-9])?_[a-z0-9]([-a-z0-9]*[a-z0-9])?\([0-9a-f-]{36}\)/g, '<pod>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uid>'],
  [/\bpvc-<uid>/g, '<pv>'],
  // IPv4 (with port), IPv6
  [/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<ip>'],
  [/\b(ip|i)-\d{1,3}(-\d{1,3}){3}\b/g, '<host>'],
  [/\b([0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b/gi, '<ip>'],
  // quoted names and images: "web-config", "nginx:1.27", 'x'
  [/"[^"\s]{1,253}"/g, '"<q>"'],
  [/'[^'\s]{1,253}'/g, "'<q>'"],
  // ReplicaSet/pod names: <deploy>-<hash>-<5>, <deploy>-<hash>
  [new RegExp(`\\b([a-z0-9][-a-z0-9]*?)-${SAFE}{6,10}-${SAFE}{5}\\b`, 'g'), '$1-<hash>-<id>'],
  [new RegExp(`\\b([a-z0-9][-a-z0-9]*?)-${SAFE}{5}\\b`, 'g'), '$1-<id>'],
  [new RegExp(`\\b([a-z0-9][-a-z0-9]*?)-(?=${SAFE}{6,10}\\b)${SAFE}*\\d${SAFE}*\\b`, 'g'), '$1-<hash>'],
  // hex: 0x addresses, event-name suffixes, container ids
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  // Go durations (1.627s, 830ms, 5m0s, 2h3m4.5s) and quantities (100Mi, 91264Ki, 8388608kB)
  [/\b\d+(\.\d+)?(ns|us|µs|ms|h|m|s)(\d+(\.\d+)?(ms|h|m|s))*\b/g, '<dur>'],
  [/\b\d+(\.\d+)?([KMGTPE]i?|[kKMGT]B|m)\b/g, '<qty>'],
  [/\d+(\.\d+)?/g, '<n>'],
];

/** The template of a message: the combined prefix removed, then every variable part replaced. */
export function messageTemplate(note: string): string {
  let t = stripCombined(note).trim();
  if (t.length > 2000) t = t.slice(0, 2000);
  for (const [re, to] of REPLACEMENTS) t = t.replace(re, to);
  return t.replace(/\s+/g, ' ');
}

/** id = first 16 hex of sha256(reason \0 kind \0 template). */
export function fingerprintId(reason: string, kind: string, template: string): string {
  return createHash('sha256').update(`${reason}\0${kind}\0${template}`).digest('hex').slice(0, 16);
}

export interface Fingerprint {
  id: string;
  template: string;
}

/**
 * Most observations repeat a message already seen (a count going up), so fingerprints are remembered per
 * (reason, kind, message): the regex passes and the hash were ~4 % of the correlator's CPU. Bounded; cleared whole.
 */
const memo = new Map<string, Fingerprint>();
const MEMO_MAX = 20_000;

export function fingerprint(e: { reason: string; note: string; regarding: { kind: string } }): Fingerprint {
  const key = `${e.reason}\0${e.regarding.kind}\0${e.note}`;
  const known = memo.get(key);
  if (known) return known;
  const template = messageTemplate(e.note);
  const fp = { id: fingerprintId(e.reason, e.regarding.kind, template), template };
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, fp);
  return fp;
}
