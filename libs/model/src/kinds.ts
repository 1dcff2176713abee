// Kubernetes kinds as users type them (kubectl's short names, lower-case singulars and plurals) and as Events
// carry them (`involvedObject.kind` / `regarding.kind`). One table for the API's filters and the CLI's arguments.

/** kubectl's short names, singulars and plurals (lower case) -> the Kind as Events carry it. */
export const KIND_ALIASES: Readonly<Record<string, string>> = {
  po: 'Pod',
  pod: 'Pod',
  pods: 'Pod',
  no: 'Node',
  node: 'Node',
  nodes: 'Node',
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  rs: 'ReplicaSet',
  replicaset: 'ReplicaSet',
  replicasets: 'ReplicaSet',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  ds: 'DaemonSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
  job: 'Job',
  jobs: 'Job',
  cj: 'CronJob',
  cronjob: 'CronJob',
  cronjobs: 'CronJob',
  svc: 'Service',
  service: 'Service',
  services: 'Service',
  pvc: 'PersistentVolumeClaim',
  persistentvolumeclaim: 'PersistentVolumeClaim',
  persistentvolumeclaims: 'PersistentVolumeClaim',
  pv: 'PersistentVolume',
  persistentvolume: 'PersistentVolume',
  persistentvolumes: 'PersistentVolume',
  hpa: 'HorizontalPodAutoscaler',
  horizontalpodautoscaler: 'HorizontalPodAutoscaler',
  horizontalpodautoscalers: 'HorizontalPodAutoscaler',
  ns: 'Namespace',
  namespace: 'Namespace',
  namespaces: 'Namespace',
  ing: 'Ingress',
  ingress: 'Ingress',
  ingresses: 'Ingress',
  ep: 'Endpoints',
  endpoints: 'Endpoints',
  cm: 'ConfigMap',
  configmap: 'ConfigMap',
  configmaps: 'ConfigMap',
  secret: 'Secret',
  secrets: 'Secret',
  sa: 'ServiceAccount',
  serviceaccount: 'ServiceAccount',
  serviceaccounts: 'ServiceAccount',
  pdb: 'PodDisruptionBudget',
  poddisruptionbudget: 'PodDisruptionBudget',
  poddisruptionbudgets: 'PodDisruptionBudget',
};

/** `deploy` -> `Deployment`, `PODS` -> `Pod`; a kind not in the table is kept as given (custom resources). */
export function canonicalKind(kind: string): string {
  return KIND_ALIASES[kind.toLowerCase()] ?? kind;
}

/** Kinds that own pods through the controller chain (a Deployment through its ReplicaSets, a CronJob through its Jobs). */
export const WORKLOAD_KINDS: ReadonlySet<string> = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
]);

/** Kinds whose objects have no namespace (their Events' involved object has none). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['Node', 'Namespace', 'PersistentVolume']);
