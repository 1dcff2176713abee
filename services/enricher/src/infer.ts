// Owner chains inferred from Kubernetes' naming conventions, for events about objects the cache never saw (pods gone
// before the first list, a backlog, the moment before an informer catches up). Controllers name what they create
// after themselves:
//   CronJob <cj> -> Job <cj>-<scheduledTime.Unix()/60> -> Pod <job>-<5>
//   Deployment <d> -> ReplicaSet <d>-<pod-template-hash> -> Pod <rs>-<5>
//   StatefulSet <s> -> Pod <s>-<ordinal>
//   DaemonSet <ds> -> Pod <ds>-<5>, and a Job <job> -> Pod <job>-<5> (the same shape: only a cached owner decides)
// Generated suffixes and hashes use apimachinery's SafeEncodeString alphabet (no vowels, no 0, 1, 3).
import type { WorkloadRef } from '@kec/cache';

const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const NAME = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
/** `<cronjob>-<minutes>-<5>`: the scheduled time in minutes since the epoch (8 digits since 1990). */
const POD_OF_CRONJOB = new RegExp(`^(${NAME})-(\\d{8,10})-${SAFE}{5}$`);
const POD_OF_DEPLOYMENT = new RegExp(`^(${NAME})-(${SAFE}{6,10})-${SAFE}{5}$`);
const POD_OF_STATEFULSET = new RegExp(`^(${NAME})-(0|[1-9]\\d{0,4})$`);
const POD_OF_SIMPLE_OWNER = new RegExp(`^(${NAME})-${SAFE}{5}$`);
const RS_OF_DEPLOYMENT = new RegExp(`^(${NAME})-${SAFE}{6,10}$`);
const JOB_OF_CRONJOB = new RegExp(`^(${NAME})-\\d{8,10}$`);

/** A chain read from names: owners from the direct controller up (uids unknown, ''). */
export interface InferredChain {
  owners: WorkloadRef[];
  /** The convention that matched (`cronjob-pod`, `deployment-pod`, ...). */
  rule: string;
  /** Only an owner of this kind found in the cache makes the guess (the name shape is shared by several kinds). */
  needsOwner?: boolean;
}

const ref = (kind: string, name: string): WorkloadRef => ({ kind, name, uid: '' });

/**
 * The candidate chains of an object from its kind and name, most specific first. A candidate with `needsOwner` holds
 * only when its top owner is cached; the others stand on the name alone.
 */
export function inferOwners(kind: string, name: string): InferredChain[] {
  if (kind === 'Pod') {
    const out: InferredChain[] = [];
    const cj = POD_OF_CRONJOB.exec(name);
    if (cj?.[1]) out.push({ owners: [ref('Job', `${cj[1]}-${cj[2]}`), ref('CronJob', cj[1])], rule: 'cronjob-pod' });
    const d = POD_OF_DEPLOYMENT.exec(name);
    if (d?.[1] && !cj)
      out.push({ owners: [ref('ReplicaSet', `${d[1]}-${d[2]}`), ref('Deployment', d[1])], rule: 'deployment-pod' });
    const s = POD_OF_STATEFULSET.exec(name);
    if (s?.[1] && !cj) out.push({ owners: [ref('StatefulSet', s[1])], rule: 'statefulset-pod' });
    const o = POD_OF_SIMPLE_OWNER.exec(name);
    if (o?.[1]) {
      out.push({ owners: [ref('DaemonSet', o[1])], rule: 'daemonset-pod', needsOwner: true });
      out.push({ owners: [ref('Job', o[1])], rule: 'job-pod', needsOwner: true });
    }
    return out;
  }
  if (kind === 'ReplicaSet') {
    const m = RS_OF_DEPLOYMENT.exec(name);
    return m?.[1] ? [{ owners: [ref('Deployment', m[1])], rule: 'deployment-replicaset' }] : [];
  }
  if (kind === 'Job') {
    const m = JOB_OF_CRONJOB.exec(name);
    return m?.[1] ? [{ owners: [ref('CronJob', m[1])], rule: 'cronjob-job' }] : [];
  }
  return [];
}

/**
 * Picks the chain: the first candidate whose top owner is cached (its uid filled in), else the first that stands on
 * its name alone. `cachedUid` answers the uid of a cached (live or deleted) owner, or undefined.
 */
export function pickChain(
  candidates: readonly InferredChain[],
  cachedUid: (kind: string, name: string) => string | undefined,
): InferredChain | undefined {
  const withUid = (c: InferredChain, uid: string): InferredChain => {
    const owners = c.owners.map((o, i) => (i === c.owners.length - 1 ? { ...o, uid } : o));
    return { ...c, owners };
  };
  for (const c of candidates) {
    const top = c.owners[c.owners.length - 1] as WorkloadRef;
    const uid = cachedUid(top.kind, top.name);
    if (uid !== undefined) return withUid(c, uid);
  }
  return candidates.find((c) => !c.needsOwner);
}
