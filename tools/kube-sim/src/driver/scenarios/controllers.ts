// Controller incidents (PodDisruptionBudget, Jobs, HPA) and the steady background noise.

import { k8sTime } from '../clock.ts';
import type { PodModel, WorkloadModel } from '../cluster.ts';
import type { ScenarioContext } from '../context.ts';
import { NOISE, type Tag } from '../ground-truth.ts';
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

/**
 * Creates the Job a CronJob runs at `scheduledMinute` (`<cronjob>-<minutes>`, owned by the CronJob, with the labels
 * kube-controller-manager gives it and its pods) and records it on the CronJob's model.
 */
function createJob(
  ctx: ScenarioContext,
  cj: WorkloadModel,
  scheduledMinute: number,
  jobUid: string,
  spec: { backoffLimit: number; ttlSecondsAfterFinished?: number },
) {
  const jobName = `${cj.name}-${scheduledMinute}`;
  const labels = {
    'batch.kubernetes.io/controller-uid': jobUid,
    'batch.kubernetes.io/job-name': jobName,
    'controller-uid': jobUid,
    'job-name': jobName,
  };
  const jobPath = `/apis/batch/v1/namespaces/${cj.namespace}/jobs`;
  ctx.sink.createObject(jobPath, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      namespace: cj.namespace,
      uid: jobUid,
      labels,
      annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': k8sTime(scheduledMinute * 60_000) },
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
      ...spec,
      completions: 1,
      parallelism: 1,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': jobUid } },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: cj.container, image: cj.image }], restartPolicy: 'Never' },
      },
    },
    status: { active: 1, startTime: k8sTime(ctx.clock.now()) },
  });
  cj.jobs?.push({ name: jobName, uid: jobUid });
  const jobRef = { kind: 'Job', namespace: cj.namespace, name: jobName, uid: jobUid, apiVersion: 'batch/v1' };
  return { jobName, labels, jobPath, jobRef };
}

/**
 * A Job's pod: the job-controller creates it (`<job>-<5>`), the scheduler binds it, kubelet starts its container.
 */
function startJobPod(
  ctx: ScenarioContext,
  cj: WorkloadModel,
  jobRef: { kind: string; namespace: string; name: string; uid: string; apiVersion: string },
  labels: Record<string, string>,
  tag: Tag,
): PodModel {
  const node = ctx.pickNode();
  const owner = { apiVersion: 'batch/v1', kind: 'Job', name: jobRef.name, uid: jobRef.uid };
  const pod = ctx.newPod(owner, cj, `${jobRef.name}-${ctx.rng.k8sString(5)}`, labels, { node });
  ctx.c.controller('job-controller').event(jobRef, N, 'SuccessfulCreate', controllers.createdPod(pod.name), tag);
  ctx.c
    .scheduler()
    .eventf(
      ctx.podRef(pod),
      undefined,
      N,
      'Scheduled',
      'Binding',
      scheduler.assigned(pod.namespace, pod.name, node.name),
      tag,
    );
  const k = ctx.c.kubelet(node.name);
  const cref = ctx.podRef(pod, containerFieldPath(pod));
  k.event(cref, N, 'Pulled', kubelet.alreadyPresent(cj.image), tag);
  k.event(cref, N, 'Created', kubelet.created(cj.container), tag);
  k.event(cref, N, 'Started', kubelet.started(cj.container), tag);
  return pod;
}

/** A CronJob run whose pods keep failing until the Job hits its backoff limit. */
export async function jobFailure(ctx: ScenarioContext): Promise<void> {
  const cj = ctx.takeWorkload('CronJob');
  if (!cj) return;
  let scheduled = Math.floor(ctx.clock.now() / 60_000);
  if (cj.jobs?.some((j) => j.name === `${cj.name}-${scheduled}`)) {
    // This minute's Job exists (the noise's scheduled run): the next scheduled run is the one that fails.
    await ctx.sleep((scheduled + 1) * 60_000 - ctx.clock.now());
    scheduled++;
  }
  const jobName = `${cj.name}-${scheduled}`;
  const jobUid = ctx.rng.uuid();
  const backoffLimit = ctx.rng.int(2, 4);
  const inc = ctx.open(
    `Job ${cj.namespace}/${jobName} failed: BackoffLimitExceeded after ${backoffLimit + 1} failed pods`,
    cj.namespace,
  );
  const { labels, jobRef } = createJob(ctx, cj, scheduled, jobUid, { backoffLimit });
  ctx.c
    .controller('cronjob-controller')
    .event(ctx.workloadRef(cj), N, 'SuccessfulCreate', controllers.createdJob(jobName), inc.tag);
  const jc = ctx.c.controller('job-controller');
  const exitCode = ctx.rng.pick([1, 2, 255]);
  for (let attempt = 0; attempt <= backoffLimit && ctx.alive; attempt++) {
    const pod = startJobPod(ctx, cj, jobRef, labels, inc.tag);
    cj.pods.push(pod);
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
  const w = ctx.takeWorkload('Deployment', (d) => d.namespace !== 'kube-system' && !!d.replicaSet, ['replicas', 'hpa']);
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
  const w = ctx.takeWorkload('Deployment', (d) => d.namespace !== 'kube-system', ['hpa']);
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
 * Virtual time between two lives of a Job pod that never existed as an object (a backlog from before the watch): with
 * the CronJobs' runs and the incidents, about 2 % of the event objects a run writes.
 */
export const GHOST_EVERY_MS = 360_000;

/**
 * Steady background noise at `ratePerSecond` (virtual), minus what incidents wrote meanwhile, about objects that exist:
 * - every virtual minute each CronJob no incident holds runs a Job: the Job and its pod are created, the pod runs and
 *   completes, and both are deleted `ttlSecondsAfterFinished` later (some with 0, whose last events then come after
 *   the deletion, as the TTL controller races the job-controller's event broadcaster);
 * - healthy pods restarting normally (count PATCHes) fill the rest;
 * - every `GHOST_EVERY_MS` (6 virtual minutes) one Job pod's life is written about a pod garbage-collected long ago (never an object).
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
  let nextMinute = Math.ceil(ctx.clock.now() / 60_000) * 60_000;
  let nextGhost = ctx.clock.now() + GHOST_EVERY_MS / 2;
  const spend = (n: number) => {
    budget -= n;
  };
  while (ctx.alive) {
    budget += (ratePerSecond * tickMs) / 1000;
    const incident = ctx.sink.incidentOccurrences - lastIncident;
    lastIncident = ctx.sink.incidentOccurrences;
    budget -= incident;
    if (++ticks % 50 === 0) stablePods = stable();
    if (ctx.clock.now() >= nextMinute) {
      const minute = Math.floor(nextMinute / 60_000);
      for (const cj of cronjobs) if (!ctx.busy.has(cj.uid)) ctx.spawn(() => jobRun(ctx, cj, minute, spend));
      nextMinute += 60_000;
    }
    while (budget >= 1) {
      if (ctx.clock.now() >= nextGhost && cronjobs.length > 0) {
        nextGhost += GHOST_EVERY_MS;
        budget -= ghostJobPod(ctx, ctx.rng.pick(cronjobs));
      } else if (stablePods.length > 0) {
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

/** `ttlSecondsAfterFinished` of the noise's Jobs; 0 deletes the Job (and its pod) as it completes. */
const JOB_TTLS = [0, 100, 100, 300, 300, 600] as const;

/**
 * One scheduled run of a CronJob, as kube-controller-manager plays it: the Job and its pod exist while their events
 * are written; the TTL-after-finished controller deletes the Job (the garbage collector its pod) after the TTL.
 */
export async function jobRun(
  ctx: ScenarioContext,
  cj: WorkloadModel,
  scheduledMinute: number,
  spend: (events: number) => void = () => {},
): Promise<void> {
  const jobName = `${cj.name}-${scheduledMinute}`;
  if (cj.jobs?.some((j) => j.name === jobName)) return;
  const jobUid = ctx.rng.uuid();
  const ttl = ctx.rng.pick(JOB_TTLS);
  const { labels, jobRef, jobPath } = createJob(ctx, cj, scheduledMinute, jobUid, {
    backoffLimit: 6,
    ttlSecondsAfterFinished: ttl,
  });
  const cjc = ctx.c.controller('cronjob-controller');
  const jc = ctx.c.controller('job-controller');
  cjc.event(ctx.workloadRef(cj), N, 'SuccessfulCreate', controllers.createdJob(jobName), NOISE);
  const pod = startJobPod(ctx, cj, jobRef, labels, NOISE);
  ctx.podStatus(pod, { phase: 'Running' });
  pod.phase = 'Running';
  spend(6);
  await ctx.wait(ctx.rng.int(5_000, 40_000));
  const done = k8sTime(ctx.clock.now());
  ctx.podStatus(pod, {
    phase: 'Succeeded',
    containerStatuses: [
      {
        name: cj.container,
        image: cj.image,
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: done } },
      },
    ],
  });
  pod.phase = 'Succeeded';
  ctx.sink.writeObject('PATCH', `${jobPath}/${jobName}/status`, {
    status: {
      active: 0,
      succeeded: 1,
      completionTime: done,
      conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: done }],
    },
  });
  const remove = () => {
    ctx.deletePod(pod);
    ctx.busy.delete(pod.uid);
    ctx.sink.deleteObject(`${jobPath}/${jobName}`, jobUid);
    cj.jobs = cj.jobs?.filter((j) => j.uid !== jobUid);
  };
  if (ttl === 0) {
    // the TTL controller deletes at once; the job-controller's and cronjob-controller's broadcasters write after it
    remove();
    await ctx.wait(2_000);
  }
  jc.event(jobRef, N, 'Completed', controllers.jobCompleted, NOISE);
  cjc.event(ctx.workloadRef(cj), N, 'SawCompletedJob', controllers.sawCompletedJob(jobName, 'Complete'), NOISE);
  spend(2);
  if (ttl === 0) return;
  await ctx.wait(ttl * 1000);
  remove();
}

/** One Job pod's life written about a pod that was garbage-collected long ago (it never exists as an object). */
function ghostJobPod(ctx: ScenarioContext, cj: WorkloadModel): number {
  const job = `${cj.name}-${Math.floor(ctx.clock.now() / 60_000) - ctx.rng.int(60, 10_000)}`;
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
