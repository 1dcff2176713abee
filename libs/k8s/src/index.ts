// @kec/k8s: Kubernetes API mechanics (client-go's role): auth loading, raw-JSON list/watch, the ListWatcher,
// the resourceVersion tracker for checkpoints, and Lease leader election.
export type { JsonResponse, KubeConfigLike, Query, RequestOptions } from './client.ts';
export { buildPath, KubeClient, loadKubeConfig } from './client.ts';
export type { BackoffOptions, Clock } from './clock.ts';
export { backoffDelay, systemClock } from './clock.ts';
export { isExpired, KubeApiError, KubeConfigError, KubeConnectionError } from './errors.ts';
export type { KubeAuth, LoadKubeConfigOptions, TlsOptions } from './kubeconfig.ts';
export { authFromKubeConfig, clientNodeConfig, inClusterAuth, loadKubeAuth } from './kubeconfig.ts';
export type { LeaderElectorLogger, LeaderElectorOptions, Lease, LeaseSpec } from './leader.ts';
export { defaultIdentity, LeaderElector, microTime } from './leader.ts';
export type { ListOptions, ListPage } from './list.ts';
export { currentResourceVersion, paginatedList } from './list.ts';
export type {
  Gap,
  ListReason,
  ListWatcherLogger,
  ListWatcherOptions,
  ListWatcherProgress,
  ListWatchItem,
} from './listwatcher.ts';
export { ListWatcher } from './listwatcher.ts';
export { compareResourceVersion, isDecimalRV, maxResourceVersion } from './rv.ts';
export type { TrackerToken } from './tracker.ts';
export { ResourceVersionTracker } from './tracker.ts';
export type { WatchFrame, WatchFrameType, WatchOptions } from './watch.ts';
export { watch } from './watch.ts';
