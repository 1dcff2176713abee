// Redis key layout. Every key starts with `<prefix><cluster>:` so clusters (and tests) can share one Redis.
//
//   <p><c>:o:<Kind>:<namespace>/<name>   object record or tombstone (JSON), or a short-lived not-found marker
//   <p><c>:u:<uid>                       tombstone by uid (a deleted object whose name was reused by a new one)
//   <p><c>:idx:<Kind>                    set of <namespace>/<name> the filler holds live (to tombstone what a relist misses)
//   <p><c>:sync                          hash Kind -> {"since":ms,"asOf":ms,"leader":id}: how far each informer is current
//   <p><c>:marker                        the filler's epoch; missing = Redis lost its data, resync everything
import { CacheConfigError } from './errors.ts';
import { kindInfo } from './kinds.ts';

export const DEFAULT_PREFIX = 'kec:cache:';

export interface CacheKeys {
  readonly prefix: string;
  readonly cluster: string;
  object(kind: string, namespace: string, name: string): string;
  uid(uid: string): string;
  index(kind: string): string;
  sync(): string;
  marker(): string;
}

export function cacheKeys(prefix: string, cluster: string): CacheKeys {
  if (/\s/.test(prefix)) throw new CacheConfigError(`cache key prefix must not contain whitespace: "${prefix}"`);
  if (!cluster || /[\s:]/.test(cluster))
    throw new CacheConfigError(`cluster name unusable in cache keys: "${cluster}"`);
  const base = `${prefix}${cluster}:`;
  return {
    prefix,
    cluster,
    // Cluster-scoped kinds (Node, Namespace) ignore the namespace an event may carry (kubelet node events say
    // namespace "default").
    object: (kind, namespace, name) =>
      `${base}o:${kind}:${kindInfo(kind)?.namespaced === false ? '' : namespace}/${name}`,
    uid: (uid) => `${base}u:${uid}`,
    index: (kind) => `${base}idx:${kind}`,
    sync: () => `${base}sync`,
    marker: () => `${base}marker`,
  };
}
