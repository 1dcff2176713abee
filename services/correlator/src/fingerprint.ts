// Fingerprints: the kind of problem, not the object. The message with every name the event is about (its object, its
// workload, its node), generated names, hosts, ids, hashes, counts and sizes replaced, and listed sets put in order,
// so the same problem on different objects groups while different problems under one reason stay apart (object
// identity lives in the event's other columns).
import { createHash } from 'node:crypto';
import { stripCombined } from '@kec/rules';

/** Alphabet of k8s rand.String / SafeEncodeString (no vowels, no 0/1/3): pod suffixes and pod-template hashes. */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
/** A DNS-1123 label-ish name (what object names are made of). */
const NAME = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';

// Order matters: the most specific shapes first, then the event's own names, then hosts, ids and numbers last.
const REPLACEMENTS: [RegExp, string][] = [
  // kubelet's format.Pod: name_namespace(uid)
  [/\b[a-z0-9]([-a-z0-9.]*[a-z0-9])?_[a-z0-9]([-a-z0-9]*[a-z0-9])?\([0-9a-f-]{36}\)/g, '<pod>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uid>'],
  [/\bpvc-<uid>/g, '<pv>'],
  // IPv4 (with port, with a CIDR suffix), IPv6
  [/\b\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?(:\d+)?\b/g, '<ip>'],
  [/\b([0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b/gi, '<ip>'],
  // host names of nodes of the big clouds: ip-10-0-1-2(.region.compute.internal), gke-<cluster>-<pool>-<hash>-<id>, aks-<pool>-<n>-vmss<id>
  [/\b(ip|i)-\d{1,3}(-\d{1,3}){3}(\.[a-z0-9-]+)*\b/g, '<host>'],
  [/\bgke-[a-z0-9-]+-[0-9a-f]{8}-[a-z0-9]{4}\b/g, '<host>'],
  [/\baks-[a-z0-9]+-\d{8}-vmss[0-9a-z]{6}\b/g, '<host>'],
  // quoted names and images: "web-config", "nginx:1.27", 'x'
  [/"[^"\s]{1,253}"/g, '"<q>"'],
  [/'[^'\s]{1,253}'/g, "'<q>'"],
  // cluster-autoscaler's node groups: [{group 6->7 (max: 10)}], "for group X", "setting group X size"
  [/\{\S+ (\d+->\d+ \(max: \d+\))\}/g, '{<group> $1}'],
  [/\b(node group|group) (?!size\b)[A-Za-z0-9][-A-Za-z0-9_.:/]*[A-Za-z0-9]/g, '$1 <group>'],
  // namespace/name references (not paths, not API groups, not 0/6)
  [new RegExp(`(?<![\\w/.:-])(?=[-a-z0-9]*[a-z])${NAME}/${NAME}(?:\\.${NAME})*(?![\\w/-])`, 'g'), '<ns>/<name>'],
  // generated names: <deploy>-<hash>-<5> (pod), <name>-<5> (pod, job pod), <deploy>-<hash> (ReplicaSet)
  [new RegExp(`\\b[a-z0-9][-a-z0-9]*?-${SAFE}{6,10}-${SAFE}{5}\\b`, 'g'), '<pod>'],
  [new RegExp(`\\b([a-z0-9][-a-z0-9]*?)-${SAFE}{5}\\b`, 'g'), '$1-<id>'],
  [new RegExp(`\\b[a-z0-9][-a-z0-9]*?-(?=${SAFE}{6,10}\\b)${SAFE}*\\d${SAFE}*\\b`, 'g'), '<replicaset>'],
];
// after the event's own names
const GENERIC: [RegExp, string][] = [
  // other host names (three or more labels): nodes, services' DNS names
  [/\b[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){2,}\b/g, '<host>'],
  // hex: 0x addresses, event-name suffixes, container ids, cloud ids (i-0a1b..., sg-...)
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  // Go durations (1.627s, 830ms, 5m0s, 2h3m4.5s) and quantities (100Mi, 91264Ki, 8388608kB)
  [/\b\d+(\.\d+)?(ns|us|µs|ms|h|m|s)(\d+(\.\d+)?(ms|h|m|s))*\b/g, '<dur>'],
  [/\b\d+(\.\d+)?([KMGTPE]i?|[kKMGT]B|m)\b/g, '<qty>'],
  [/\d+(\.\d+)?/g, '<n>'],
];

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The names an event is about, each replaced by its placeholder wherever it stands as a whole name. */
export interface FingerprintNames {
  /** The involved object's name (`<object>`). */
  object?: string | undefined;
  /** The top workload's name from enrichment (`<workload>`). */
  workload?: string | undefined;
  /** The node (enrichment) or the reporting host (`<host>`, like every host name). */
  node?: string | undefined;
  host?: string | undefined;
}

function replaceNames(t: string, names: FingerprintNames): string {
  const pairs: [string, string][] = [];
  for (const [k, to] of [
    ['node', '<host>'],
    ['host', '<host>'],
    ['object', '<object>'],
    ['workload', '<workload>'],
  ] as const) {
    const v = names[k];
    if (v && v.length >= 3) pairs.push([v, to]);
  }
  // the longest first, so a pod name is not cut by its workload's name
  pairs.sort((a, b) => b[0].length - a[0].length);
  for (const [name, to] of pairs) {
    t = t.replace(new RegExp(`(?<![A-Za-z0-9_.-])${escapeRe(name)}(?![A-Za-z0-9_.]|-[A-Za-z])`, 'g'), to);
  }
  return t;
}

/** Items of a listed set in one order and once: `[a b c]` and `[c a b]` (space- or comma-separated) read the same. */
function sortSets(t: string): string {
  return t.replace(/\[([^[\]]{1,2000})\]/g, (whole, inner: string) => {
    const sep = inner.includes(', ') ? ', ' : inner.includes(',') ? ',' : ' ';
    const items = inner.split(sep);
    if (items.length < 2) return whole;
    return `[${[...new Set(items)].sort().join(sep)}]`;
  });
}

/** The template of a message: the combined prefix removed, the event's names and every variable part replaced. */
export function messageTemplate(note: string, names: FingerprintNames = {}): string {
  let t = stripCombined(note).trim();
  if (t.length > 2000) t = t.slice(0, 2000);
  for (const [re, to] of REPLACEMENTS) t = t.replace(re, to);
  t = replaceNames(t, names);
  for (const [re, to] of GENERIC) t = t.replace(re, to);
  return sortSets(t.replace(/\s+/g, ' '));
}

/** id = first 16 hex of sha256(reason \0 kind \0 template). */
export function fingerprintId(reason: string, kind: string, template: string): string {
  return createHash('sha256').update(`${reason}\0${kind}\0${template}`).digest('hex').slice(0, 16);
}

export interface Fingerprint {
  id: string;
  template: string;
}

/** What a fingerprint reads of an event: live (an enriched event) and stored (a row) give the same names. */
export interface FingerprintInput {
  reason: string;
  note: string;
  regarding: { kind: string; name?: string };
  names?: FingerprintNames;
}

/**
 * Most observations repeat a message already seen (a count going up), so fingerprints are remembered per
 * (reason, kind, names, message): the regex passes and the hash were ~4 % of the correlator's CPU. Bounded; cleared whole.
 */
const memo = new Map<string, Fingerprint>();
const MEMO_MAX = 20_000;

export function fingerprint(e: FingerprintInput): Fingerprint {
  const n = { object: e.regarding.name, ...e.names };
  const key = `${e.reason}\0${e.regarding.kind}\0${n.object ?? ''}\0${n.workload ?? ''}\0${n.node ?? ''}\0${n.host ?? ''}\0${e.note}`;
  const known = memo.get(key);
  if (known) return known;
  const template = messageTemplate(e.note, n);
  const fp = { id: fingerprintId(e.reason, e.regarding.kind, template), template };
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, fp);
  return fp;
}
