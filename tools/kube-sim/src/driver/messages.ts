// Reasons and message texts as the real components write them (kubelet pkg/kubelet/events and kuberuntime, scheduler
// framework, kube-controller-manager controllers, cluster-autoscaler's EventingScaleUpStatusProcessor, HPA controller,
// node-problem-detector's kernel-monitor rules). Versions: Kubernetes 1.31-1.33, cluster-autoscaler 1.30+, NPD 0.8.
import type { PodModel } from './cluster.ts';

/** format.Pod(pod): name_namespace(uid), as in kubelet's BackOff message. */
export const formatPod = (pod: { name: string; namespace: string }, uid: string) =>
  `${pod.name}_${pod.namespace}(${uid})`;

export const kubelet = {
  pulling: (image: string) => `Pulling image "${image}"`,
  pulled: (image: string, ms: number, bytes: number) =>
    `Successfully pulled image "${image}" in ${fmtGoDuration(ms)} (${fmtGoDuration(ms)} including waiting). Image size: ${bytes} bytes.`,
  alreadyPresent: (image: string) => `Container image "${image}" already present on machine`,
  created: (container: string) => `Created container: ${container}`,
  started: (container: string) => `Started container ${container}`,
  killing: (container: string) => `Stopping container ${container}`,
  killingLiveness: (container: string) => `Container ${container} failed liveness probe, will be restarted`,
  backOff: (container: string, podDesc: string) =>
    `Back-off restarting failed container ${container} in pod ${podDesc}`,
  failedPull: (image: string, err: string) => `Failed to pull image "${image}": ${err}`,
  errImagePull: 'Error: ErrImagePull',
  backOffPull: (image: string) => `Back-off pulling image "${image}"`,
  errImagePullBackOff: 'Error: ImagePullBackOff',
  livenessFailed: (out: string) => `Liveness probe failed: ${out}`,
  readinessFailed: (out: string) => `Readiness probe failed: ${out}`,
  mountSetUpFailed: (volume: string, err: string) => `MountVolume.SetUp failed for volume "${volume}" : ${err}`,
  unableToAttachOrMount: (unmounted: string[], unattached: string[]) =>
    `Unable to attach or mount volumes: unmounted volumes=[${unmounted.join(' ')}], unattached volumes=[${unattached.join(' ')}]: timed out waiting for the condition`,
  nodeStatus: (node: string, status: string) => `Node ${node} status is now: ${status}`,
  evicted: (
    resource: string,
    threshold: string,
    available: string,
    container: string,
    usage: string,
    request: string,
  ) =>
    `The node was low on resource: ${resource}. Threshold quantity: ${threshold}, available: ${available}. Container ${container} was using ${usage}, request is ${request}, has larger consumption of ${resource}. `,
  evictionThresholdMet: (resource: string) => `Attempting to reclaim ${resource}`,
};

export const scheduler = {
  assigned: (ns: string, name: string, node: string) => `Successfully assigned ${ns}/${name} to ${node}`,
};

/** The scheduler's FitError message with its preemption suffix; reason counts are printed sorted, as the scheduler does. */
export function failedScheduling(
  total: number,
  reasons: Record<string, number>,
  preemption: Record<string, number>,
): string {
  const part = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([r, n]) => `${n} ${r}`)
      .sort()
      .join(', ');
  return `0/${total} nodes are available: ${part(reasons)}. preemption: 0/${total} nodes are available: ${part(preemption)}.`;
}

export const controllers = {
  scaledUp: (rs: string, from: number, to: number) => `Scaled up replica set ${rs} from ${from} to ${to}`,
  scaledDown: (rs: string, from: number, to: number) => `Scaled down replica set ${rs} from ${from} to ${to}`,
  createdPod: (pod: string) => `Created pod: ${pod}`,
  deletedPod: (pod: string) => `Deleted pod: ${pod}`,
  stsCreate: (pod: string, sts: string) => `create Pod ${pod} in StatefulSet ${sts} successful`,
  createdJob: (job: string) => `Created job ${job}`,
  sawCompletedJob: (job: string, status: string) => `Saw completed job: ${job}, status: ${status}`,
  jobCompleted: 'Job completed',
  backoffLimitExceeded: 'Job has reached the specified backoff limit',
  noPods: 'No matching pods found',
  nodeNotReadyPod: 'Node is not ready',
  taintEviction: (ns: string, pod: string) => `Marking for deletion Pod ${ns}/${pod}`,
  attachFailed: (volume: string, err: string) => `AttachVolume.Attach failed for volume "${volume}" : ${err}`,
  multiAttach: (volume: string) =>
    `Multi-Attach error for volume "${volume}" Volume is already exclusively attached to one node and can't be attached to another`,
  rescale: (size: number, reason: string) => `New size: ${size}; reason: ${reason}`,
  cpuAbove: 'cpu resource utilization (percentage of request) above target',
  cpuBelow: 'All metrics below target',
  failedGetResourceMetric:
    'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
  failedComputeMetricsReplicas:
    'invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
};

export const autoscaler = {
  triggered: (infos: { group: string; from: number; to: number; max: number }[]) =>
    `pod triggered scale-up: [${infos.map((i) => `{${i.group} ${i.from}->${i.to} (max: ${i.max})}`).join(' ')}]`,
  notTriggered: (reasons: Record<string, number>) =>
    `pod didn't trigger scale-up: ${Object.entries(reasons)
      .map(([r, n]) => `${n} ${r}`)
      .join(', ')}`,
};

export const npd = {
  kernelOops: (addr: string) => `kernel: BUG: unable to handle kernel NULL pointer dereference at ${addr}`,
  taskHung: (task: string, pid: number, seconds: number) =>
    `task ${task}:${pid} blocked for more than ${seconds} seconds.`,
  oomKilling: (pid: number, proc: string, vmKb: number, rssKb: number) =>
    `Out of memory: Killed process ${pid} (${proc}) total-vm:${vmKb}kB, anon-rss:${rssKb}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:${Math.floor(vmKb / 512)}kB oom_score_adj:${937}`,
};

/** Go's time.Duration.String() for the short durations kubelet prints (e.g. 1.627s, 830ms). */
export function fmtGoDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Number((s - m * 60).toFixed(3))}s`;
}

export function containerFieldPath(pod: PodModel, container?: string): string {
  return `spec.containers{${container ?? pod.containers[0]?.name ?? 'app'}}`;
}
