// Controller incidents (PodDisruptionBudget, Jobs, HPA) and the steady background noise.
import type { PodModel, WorkloadModel } from '../cluster.ts';
import type { ScenarioContext } from '../context.ts';
import { NOISE } from '../ground-truth.ts';
import { containerFieldPath, controllers, kubelet, scheduler } from '../messages.ts';

const W = 'Warning';
const N = 'Normal';

/** A PodDisruptionBudget whose selector matches nothing: one NoPods event counting for days. */
export async function pdbNoPods(ctx: ScenarioContext): Promise<void> {
  const ns = ctx.rng.pick(ctx.cluster.namespaces.filter((n) => n.name !== 'kube-system'));
  const name = `${ctx.rng.pick(['legacy-api', 'old-worker', 'search-v1', 'batch-runner'])}-pdb`;
  if (ctx.busy.has(`pdb/${ns.name}/${name}`)) return;
  ctx.hold(`pdb/${ns.name}/${name}`);
  const ref = { kind: 'PodDisruptionBudget', namespace: ns.name, name, uid: ctx.rng.uuid(), apiVersion: 'policy/v1' };
  const inc = ctx.open(`PodDisruptionBudget ${ns.name}/${name} matches no pods`, ns.name);
  const rec = ctx.c.controller('controllermanager');
  const days = ctx.rng.int(3, 20);
  const count = ctx.rng.int(20_000, 60_000);
  rec.seedHistory(ref, N, 'NoPods', controllers.noPods, inc.root, count, ctx.clock.now() - days * 86_400_000);
  // The disruption controller re-evaluates the budget on every resync and pod change.
  while (ctx.alive) {
    await ctx.wait(30_000);
    rec.event(ref, N, 'NoPods', controllers.noPods, inc.tag);
  }
}

/** A CronJob run whose pods keep failing until the Job hits its backoff limit. */
export async function jobFailure(ctx: ScenarioContext): Promise<void> {
  const cj = ctx.takeWorkload('CronJob');
  if (!cj) return;
  const scheduled = Math.floor(ctx.clock.now() / 60_000);
  const jobName = `${cj.name}-${scheduled}`;
  const jobUid = ctx.rng.uuid();
  const backoffLimit = ctx.rng.int(2, 4);
  const inc = ctx.open(
    `Job ${cj.namespace}/${jobName} failed: BackoffLimitExceeded after ${backoffLimit + 1} failed pods`,
    cj.namespace,
  );
  const labels = {
    'batch.kubernetes.io/controller-uid': jobUid,
    'batch.kubernetes.io/job-name': jobName,
    'controller-uid': jobUid,
    'job-name': jobName,
  };
  ctx.sink.createObject(`/apis/batch/v1/namespaces/${cj.namespace}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      namespace: cj.namespace,
      uid: jobUid,
      labels,
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cj.name,
          uid: cj.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      backoffLimit,
      completions: 1,
      parallelism: 1,
      template: {
        metadata: { labels },
        spec: { containers: [{ name: cj.container, image: cj.image }], restartPolicy: 'Never' },
      },
    },
    status: { active: 1 },
  });
  cj.jobs?.push({ name: jobName, uid: jobUid });
  const jobRef = { kind: 'Job', namespace: cj.namespace, name: jobName, uid: jobUid, apiVersion: 'batch/v1' };
  ctx.c
    .controller('cronjob-controller')
    .event(ctx.workloadRef(cj), N, 'SuccessfulCreate', controllers.createdJob(jobName), inc.tag);
  const jc = ctx.c.controller('job-controller');
  const exitCode = ctx.rng.pick([1, 2, 255]);
  for (let attempt = 0; attempt <= backoffLimit && ctx.alive; attempt++) {
    const node = ctx.pickNode();
    const pod = ctx.newPod(
      { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid },
      cj,
      `${jobName}-${ctx.rng.k8sString(5)}`,
      labels,
      { node },
    );
    cj.pods.push(pod);
    jc.event(jobRef, N, 'SuccessfulCreate', controllers.createdPod(pod.name), inc.tag);
    ctx.c
      .scheduler()
      .eventf(
        ctx.podRef(pod),
        undefined,
        N,
        'Scheduled',
        'Binding',
        scheduler.assigned(pod.namespace, pod.name, node.name),
        inc.tag,
      );
    const k = ctx.c.kubelet(node.name);
    const cref = ctx.podRef(pod, containerFieldPath(pod));
    k.event(cref, N, 'Pulled', kubelet.alreadyPresent(cj.image), inc.tag);
    k.event(cref, N, 'Created', kubelet.created(cj.container), inc.tag);
    k.event(cref, N, 'Started', kubelet.started(cj.container), inc.tag);
    await ctx.wait(ctx.rng.int(5_000, 40_000));
    ctx.podStatus(pod, {
      phase: 'Failed',
      containerStatuses: [
        {
          name: cj.container,
          image: cj.image,
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, reason: 'Error' } },
        },
      ],
    });
    pod.phase = 'Failed';
    await ctx.wait(Math.min(360_000, 10_000 * 2 ** attempt));
  }
  if (!ctx.alive) return;
  jc.event(
    jobRef,
    W,
    'BackoffLimitExceeded',
    controllers.backoffLimitExceeded,
    inc.root,
    `pods exited with code ${exitCode}`,
  );
  ctx.sink.writeObject('PATCH', `/apis/batch/v1/namespaces/${cj.namespace}/jobs/${jobName}/status`, {
    status: {
      active: 0,
      failed: backoffLimit + 1,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    },
  });
  await ctx.wait(10_000);
  ctx.c
    .controller('cronjob-controller')
    .event(ctx.workloadRef(cj), N, 'SawCompletedJob', controllers.sawCompletedJob(jobName, 'Failed'), inc.tag);
  // failedJobsHistoryLimit: the next runs push this Job out; the garbage collector takes its pods with it.
  await ctx.wait(ctx.rng.int(600_000, 1_800_000));
  if (!ctx.alive) return;
  ctx.c
    .controller('cronjob-controller')
    .event(ctx.workloadRef(cj), N, 'SuccessfulDelete', `Deleted job ${jobName}`, NOISE);
  for (const p of cj.pods.filter((x) => x.owner.uid === jobUid)) ctx.deletePod(p);
  cj.pods = cj.pods.filter((x) => x.owner.uid !== jobUid);
  ctx.sink.writeObject('DELETE', `/apis/batch/v1/namespaces/${cj.namespace}/jobs/${jobName}`, undefined);
}

function hpaRef(ctx: ScenarioContext, w: WorkloadModel) {
  return {
    kind: 'HorizontalPodAutoscaler',
    namespace: w.namespace,
    name: w.name,
    uid: ctx.rng.fork(`hpa/${w.uid}`).uuid(),
    apiVersion: 'autoscaling/v2',
  };
}

/** The HPA scales a Deployment out on CPU. */
export async function hpaRescale(ctx: ScenarioContext): Promise<void> {
  const w = ctx.takeWorkload('Deployment', (d) => d.namespace !== 'kube-system' && !!d.replicaSet);
  if (!w?.replicaSet) return;
  const rs = w.replicaSet;
  const from = w.pods.filter((p) => p.phase === 'Running').length;
  const to = from + ctx.rng.int(2, 3);
  const inc = ctx.open(`HPA ${w.namespace}/${w.name} scales ${from} -> ${to} on cpu`, w.namespace);
  const href = hpaRef(ctx, w);
  ctx.c
    .controller('horizontal-pod-autoscaler')
    .event(href, N, 'SuccessfulRescale', controllers.rescale(to, controllers.cpuAbove), inc.root, 'cpu above target');
  ctx.c
    .controller('deployment-controller')
    .event(ctx.workloadRef(w), N, 'ScalingReplicaSet', controllers.scaledUp(rs.name, from, to), inc.tag);
  const labels = { app: w.name, 'app.kubernetes.io/name': w.name, 'pod-template-hash': rs.hash };
  const rsRef = { kind: 'ReplicaSet', namespace: w.namespace, name: rs.name, uid: rs.uid, apiVersion: 'apps/v1' };
  const added: PodModel[] = [];
  for (let i = from; i < to && ctx.alive; i++) {
    const node = ctx.pickNode();
    const pod = ctx.newPod(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name, uid: rs.uid },
      w,
      `${rs.name}-${ctx.rng.k8sString(5)}`,
      labels,
      { node },
    );
    w.pods.push(pod);
    ctx.c
      .controller('replicaset-controller')
      .event(rsRef, N, 'SuccessfulCreate', controllers.createdPod(pod.name), inc.tag);
    ctx.c
      .scheduler()
      .eventf(
        ctx.podRef(pod),
        undefined,
        N,
        'Scheduled',
        'Binding',
        scheduler.assigned(pod.namespace, pod.name, node.name),
        inc.tag,
      );
    await ctx.wait(2_000);
    const k = ctx.c.kubelet(node.name);
    const cref = ctx.podRef(pod, containerFieldPath(pod));
    k.event(cref, N, 'Pulling', kubelet.pulling(w.image), inc.tag);
    k.event(
      cref,
      N,
      'Pulled',
      kubelet.pulled(w.image, ctx.rng.int(400, 6000), ctx.rng.int(20_000_000, 300_000_000)),
      inc.tag,
    );
    k.event(cref, N, 'Created', kubelet.created(w.container), inc.tag);
    k.event(cref, N, 'Started', kubelet.started(w.container), inc.tag);
    ctx.podStatus(pod, { phase: 'Running' });
    pod.phase = 'Running';
    added.push(pod);
  }
  // Load drops again: the HPA scales back after its 5-minute stabilization window.
  await ctx.wait(ctx.rng.int(360_000, 900_000));
  if (!ctx.alive) return;
  ctx.c
    .controller('horizontal-pod-autoscaler')
    .event(href, N, 'SuccessfulRescale', controllers.rescale(from, controllers.cpuBelow), inc.tag);
  ctx.scaleDown(w, added, inc.tag);
}

/** metrics-server is unavailable: the HPA cannot read CPU and reports it every sync (15 s). */
export async function hpaMetrics(ctx: ScenarioContext): Promise<void> {
  const w = ctx.takeWorkload('Deployment', (d) => d.namespace !== 'kube-system');
  if (!w) return;
  const inc = ctx.open(`HPA ${w.namespace}/${w.name} cannot get cpu metrics`, w.namespace);
  const href = hpaRef(ctx, w);
  const hpa = ctx.c.controller('horizontal-pod-autoscaler');
  const n = ctx.rng.int(8, 30);
  for (let i = 0; i < n && ctx.alive; i++) {
    hpa.event(
      href,
      W,
      'FailedGetResourceMetric',
      controllers.failedGetResourceMetric,
      i === 0 ? inc.root : inc.tag,
      'metrics API unavailable',
    );
    hpa.event(href, W, 'FailedComputeMetricsReplicas', controllers.failedComputeMetricsReplicas, inc.tag);
    await ctx.wait(15_000);
  }
}

/**
 * Steady background noise at `ratePerSecond` (virtual), minus what incidents wrote meanwhile: short-lived Job pods
 * going through their normal lifecycle (new event objects) and healthy pods restarting normally (count PATCHes).
 */
export async function noise(ctx: ScenarioContext, ratePerSecond: number): Promise<void> {
  if (ratePerSecond <= 0) return;
  const tickMs = 100;
  let budget = 0;
  let lastIncident = ctx.sink.incidentOccurrences;
  const cronjobs = ctx.cluster.workloads.filter((w) => w.kind === 'CronJob');
  const stable = () =>
    ctx.cluster.pods.filter((p) => p.phase === 'Running' && !ctx.busy.has(p.uid) && p.workload.kind !== 'CronJob');
  let stablePods: PodModel[] = stable();
  let ticks = 0;
  while (ctx.alive) {
    budget += (ratePerSecond * tickMs) / 1000;
    const incident = ctx.sink.incidentOccurrences - lastIncident;
    lastIncident = ctx.sink.incidentOccurrences;
    budget -= incident;
    if (++ticks % 50 === 0) stablePods = stable();
    while (budget >= 1) {
      if (cronjobs.length > 0 && ctx.rng.chance(0.5)) budget -= jobPodLifecycle(ctx, ctx.rng.pick(cronjobs));
      else if (stablePods.length > 0) {
        const pod = ctx.rng.pick(stablePods);
        budget -= 1;
        if (ctx.busy.has(pod.uid)) continue;
        const k = ctx.c.kubelet(pod.node);
        const cref = ctx.podRef(pod, containerFieldPath(pod));
        const c = pod.containers[0]!;
        const r = ctx.rng.int(0, 2);
        if (r === 0) k.event(cref, N, 'Pulled', kubelet.alreadyPresent(c.image), NOISE);
        else if (r === 1) k.event(cref, N, 'Created', kubelet.created(c.name), NOISE);
        else k.event(cref, N, 'Started', kubelet.started(c.name), NOISE);
      } else break;
    }
    if (budget < -ratePerSecond) budget = -ratePerSecond;
    await ctx.sleep(tickMs);
  }
}

/** One ephemeral Job pod's normal life (the pod object itself is not created: it was garbage-collected long ago). */
function jobPodLifecycle(ctx: ScenarioContext, cj: WorkloadModel): number {
  const job = `${cj.name}-${Math.floor(ctx.clock.now() / 60_000) - ctx.rng.int(0, 10_000)}`;
  const podName = `${job}-${ctx.rng.k8sString(5)}`;
  const node = ctx.pickNode();
  const jobRef = { kind: 'Job', namespace: cj.namespace, name: job, uid: ctx.rng.uuid(), apiVersion: 'batch/v1' };
  const pod = { kind: 'Pod', namespace: cj.namespace, name: podName, uid: ctx.rng.uuid(), apiVersion: 'v1' };
  const cpod = { ...pod, fieldPath: `spec.containers{${cj.container}}` };
  ctx.c.controller('job-controller').event(jobRef, N, 'SuccessfulCreate', controllers.createdPod(podName), NOISE);
  ctx.c
    .scheduler()
    .eventf(pod, undefined, N, 'Scheduled', 'Binding', scheduler.assigned(cj.namespace, podName, node.name), NOISE);
  const k = ctx.c.kubelet(node.name);
  k.event(cpod, N, 'Pulled', kubelet.alreadyPresent(cj.image), NOISE);
  k.event(cpod, N, 'Created', kubelet.created(cj.container), NOISE);
  k.event(cpod, N, 'Started', kubelet.started(cj.container), NOISE);
  ctx.c.controller('job-controller').event(jobRef, N, 'Completed', controllers.jobCompleted, NOISE);
  return 6;
}
