// Workload incidents: crash loop, image pull failure, OOMKilled, probe failures, a rollout.
import { type PodModel, podTemplateHashFor } from '../cluster-helpers.ts';
import type { ScenarioContext } from '../context.ts';
import { containerFieldPath, controllers, formatPod, kubelet, scheduler } from '../messages.ts';

const W = 'Warning';
const N = 'Normal';

function backoffDelay(restart: number): number {
  return Math.min(300_000, 10_000 * 2 ** Math.max(0, restart - 1));
}

/** Kubelet restarts a container: image already present, created, started. */
export function restartContainer(ctx: ScenarioContext, pod: PodModel, tag: { incident: string | null }): void {
  const k = ctx.c.kubelet(pod.node);
  const c = pod.containers[0]!;
  const ref = ctx.podRef(pod, containerFieldPath(pod));
  k.event(ref, N, 'Pulled', kubelet.alreadyPresent(c.image), tag);
  k.event(ref, N, 'Created', kubelet.created(c.name), tag);
  k.event(ref, N, 'Started', kubelet.started(c.name), tag);
}

export async function crashLoop(ctx: ScenarioContext): Promise<void> {
  const [pod] = ctx.takePods((p) => p.workload.kind === 'Deployment' || p.workload.kind === 'StatefulSet', 1);
  if (!pod) return;
  const c = pod.containers[0]!;
  const exitCode = ctx.rng.pick([1, 1, 1, 2, 127, 139]);
  const inc = ctx.open(
    `CrashLoopBackOff: container ${c.name} of ${pod.namespace}/${pod.name} exits with code ${exitCode}`,
    pod.namespace,
  );
  inc.affect(ctx.podRef(pod));
  const k = ctx.c.kubelet(pod.node);
  const ref = ctx.podRef(pod, containerFieldPath(pod));
  const restarts = ctx.rng.int(5, 9);
  for (let r = 1; r <= restarts && ctx.alive; r++) {
    const finished = new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    ctx.podStatus(pod, {
      containerStatuses: [
        {
          name: c.name,
          image: c.image,
          ready: false,
          started: false,
          restartCount: r,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${backoffDelay(r) / 1000}s restarting failed container=${c.name} pod=${formatPod(pod, ref.uid)}`,
            },
          },
          lastState: { terminated: { exitCode, reason: 'Error', finishedAt: finished } },
        },
      ],
    });
    const delay = backoffDelay(r);
    // BackOff is written on every pod sync while the container waits out its back-off.
    for (let t = 0; t < delay && ctx.alive; t += 10_000) {
      k.event(
        ref,
        W,
        'BackOff',
        kubelet.backOff(c.name, formatPod(pod, ctx.sink.uids.uid(pod.uid))),
        r === 1 && t === 0 ? inc.root : inc.tag,
        `exit code ${exitCode}`,
      );
      await ctx.wait(10_000);
    }
    restartContainer(ctx, pod, inc.tag);
    await ctx.wait(ctx.rng.int(2_000, 8_000));
  }
  if (ctx.alive) ctx.healPod(pod); // fixed by a new release
}

export async function oomKilled(ctx: ScenarioContext): Promise<void> {
  const [pod] = ctx.takePods((p) => p.workload.kind === 'Deployment' || p.workload.kind === 'StatefulSet', 1);
  if (!pod) return;
  const c = pod.containers[0]!;
  const inc = ctx.open(
    `OOMKilled: container ${c.name} of ${pod.namespace}/${pod.name} exceeds its memory limit`,
    pod.namespace,
  );
  inc.rootObject(
    'OOMKilled',
    ctx.podRef(pod),
    `container ${c.name} terminated with reason OOMKilled, exit code 137 (limit 512Mi)`,
  );
  const k = ctx.c.kubelet(pod.node);
  const ref = ctx.podRef(pod, containerFieldPath(pod));
  const restarts = ctx.rng.int(4, 7);
  for (let r = 1; r <= restarts && ctx.alive; r++) {
    const at = new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    ctx.podStatus(pod, {
      containerStatuses: [
        {
          name: c.name,
          image: c.image,
          ready: false,
          started: false,
          restartCount: r,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: at, finishedAt: at } },
        },
      ],
    });
    const delay = backoffDelay(r);
    for (let t = 0; t < delay && ctx.alive; t += 10_000) {
      k.event(ref, W, 'BackOff', kubelet.backOff(c.name, formatPod(pod, ctx.sink.uids.uid(pod.uid))), inc.tag);
      await ctx.wait(10_000);
    }
    restartContainer(ctx, pod, inc.tag);
    await ctx.wait(ctx.rng.int(20_000, 60_000)); // runs until it hits the limit again
  }
  if (ctx.alive) ctx.healPod(pod); // fixed by a new release
}

export async function probeFailures(ctx: ScenarioContext): Promise<void> {
  const [pod] = ctx.takePods((p) => p.workload.kind === 'Deployment', 1);
  if (!pod) return;
  const c = pod.containers[0]!;
  const inc = ctx.open(`Probe failures: ${pod.namespace}/${pod.name} fails liveness and readiness`, pod.namespace);
  const k = ctx.c.kubelet(pod.node);
  const ref = ctx.podRef(pod, containerFieldPath(pod));
  const url = `http://${pod.ip}:8080`;
  const outputs = [
    'HTTP probe failed with statuscode: 503',
    'HTTP probe failed with statuscode: 500',
    `Get "${url}/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    `Get "${url}/healthz": dial tcp ${pod.ip}:8080: connect: connection refused`,
  ];
  const rounds = ctx.rng.int(3, 5);
  let first = true;
  for (let round = 0; round < rounds && ctx.alive; round++) {
    for (let i = 0; i < 3 && ctx.alive; i++) {
      k.event(
        ref,
        W,
        'Unhealthy',
        kubelet.readinessFailed(ctx.rng.pick(outputs).replace('/healthz', '/ready')),
        inc.tag,
      );
      k.event(ref, W, 'Unhealthy', kubelet.livenessFailed(ctx.rng.pick(outputs)), first ? inc.root : inc.tag);
      first = false;
      await ctx.wait(10_000);
    }
    k.event(ref, N, 'Killing', kubelet.killingLiveness(c.name), inc.tag);
    ctx.podStatus(pod, {
      containerStatuses: [
        {
          name: c.name,
          image: c.image,
          ready: false,
          started: false,
          restartCount: round + 1,
          state: { running: {} },
          lastState: { terminated: { exitCode: 137, reason: 'Error' } },
        },
      ],
    });
    await ctx.wait(2_000);
    restartContainer(ctx, pod, inc.tag);
    await ctx.wait(30_000);
  }
  if (ctx.alive) ctx.healPod(pod); // fixed by a new release
}

/** A Deployment rolls to a new image; with `badImage` the new pods cannot pull it. */
async function rolloutImpl(ctx: ScenarioContext, badImage: boolean): Promise<void> {
  const w = ctx.takeWorkload('Deployment', (d) => d.replicas >= 2 && d.namespace !== 'kube-system', ['replicas']);
  if (!w?.replicaSet) return;
  const [repo, tag = 'latest'] = splitImage(w.image);
  const newTag = badImage ? `${tag}-rc${ctx.rng.int(1, 9)}` : bumpTag(tag);
  const image = `${repo}:${newTag}`;
  const hash = podTemplateHashFor(w, image);
  const oldRs = w.replicaSet;
  const rsName = `${w.name}-${hash}`;
  const rsUid = ctx.rng.uuid();
  const title = badImage
    ? `Image pull failure: ${w.namespace}/${w.name} rolled to ${image}, which cannot be pulled`
    : `Rollout of ${w.namespace}/${w.name} to ${image}`;
  const inc = ctx.open(title, w.namespace);
  const dref = ctx.workloadRef(w);
  inc.affect(dref);
  const labels = { app: w.name, 'app.kubernetes.io/name': w.name, 'pod-template-hash': hash };
  ctx.sink.createObject(`/apis/apps/v1/namespaces/${w.namespace}/replicasets`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rsName,
      namespace: w.namespace,
      uid: rsUid,
      labels,
      annotations: { 'deployment.kubernetes.io/revision': '2' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: w.name,
          uid: w.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: w.name, 'pod-template-hash': hash } },
      template: { metadata: { labels }, spec: { containers: [{ name: w.container, image }] } },
    },
    status: { replicas: 0 },
  });
  const rsRef = { kind: 'ReplicaSet', namespace: w.namespace, name: rsName, uid: rsUid, apiVersion: 'apps/v1' };
  const oldRsRef = {
    kind: 'ReplicaSet',
    namespace: w.namespace,
    name: oldRs.name,
    uid: oldRs.uid,
    apiVersion: 'apps/v1',
  };
  const dc = ctx.c.controller('deployment-controller');
  const rc = ctx.c.controller('replicaset-controller');
  const sched = ctx.c.scheduler();
  const oldPods = w.pods.filter((p) => p.phase === 'Running');
  let newCount = 0;
  let oldCount = oldPods.length;
  const steps = badImage ? 1 : oldPods.length;
  for (let s = 0; s < steps && ctx.alive; s++) {
    dc.event(
      dref,
      N,
      'ScalingReplicaSet',
      controllers.scaledUp(rsName, newCount, newCount + 1),
      !badImage && s === 0 ? inc.root : inc.tag,
    );
    newCount++;
    const node = ctx.pickNode();
    const pod = ctx.newPod(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid },
      w,
      `${rsName}-${ctx.rng.k8sString(5)}`,
      labels,
      { node, image, phase: 'Pending' },
    );
    w.pods.push(pod);
    rc.event(rsRef, N, 'SuccessfulCreate', controllers.createdPod(pod.name), inc.tag);
    await ctx.wait(300);
    sched.eventf(
      ctx.podRef(pod),
      undefined,
      N,
      'Scheduled',
      'Binding',
      scheduler.assigned(pod.namespace, pod.name, node.name),
      inc.tag,
    );
    await ctx.wait(800);
    const k = ctx.c.kubelet(node.name);
    const cref = ctx.podRef(pod, containerFieldPath(pod));
    k.event(cref, N, 'Pulling', kubelet.pulling(image), inc.tag);
    if (badImage) {
      const err = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`;
      for (let attempt = 0; attempt < 8 && ctx.alive; attempt++) {
        await ctx.wait(attempt === 0 ? 1_500 : Math.min(300_000, 10_000 * 2 ** attempt));
        k.event(cref, N, 'Pulling', kubelet.pulling(image), inc.tag);
        k.event(
          cref,
          W,
          'Failed',
          kubelet.failedPull(image, err),
          attempt === 0 ? inc.root : inc.tag,
          'image not found',
        );
        k.event(cref, W, 'Failed', kubelet.errImagePull, inc.tag);
        ctx.podStatus(pod, {
          phase: 'Pending',
          containerStatuses: [
            {
              name: w.container,
              image,
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
            },
          ],
        });
        k.event(cref, N, 'BackOff', kubelet.backOffPull(image), inc.tag);
        k.event(cref, W, 'Failed', kubelet.errImagePullBackOff, inc.tag);
      }
      if (!ctx.alive) return;
      // Someone runs `kubectl rollout undo`: the broken ReplicaSet goes back to 0.
      dc.event(dref, N, 'ScalingReplicaSet', controllers.scaledDown(rsName, 1, 0), inc.tag);
      rc.event(rsRef, N, 'SuccessfulDelete', controllers.deletedPod(pod.name), inc.tag);
      ctx.deletePod(pod);
      return;
    }
    await ctx.wait(ctx.rng.int(1_000, 6_000));
    const pullMs = ctx.rng.int(400, 9_000);
    k.event(cref, N, 'Pulled', kubelet.pulled(image, pullMs, ctx.rng.int(20_000_000, 400_000_000)), inc.tag);
    k.event(cref, N, 'Created', kubelet.created(w.container), inc.tag);
    k.event(cref, N, 'Started', kubelet.started(w.container), inc.tag);
    ctx.podStatus(pod, {
      phase: 'Running',
      containerStatuses: [
        { name: w.container, image, ready: true, started: true, restartCount: 0, state: { running: {} } },
      ],
    });
    pod.phase = 'Running';
    await ctx.wait(10_000);
    dc.event(dref, N, 'ScalingReplicaSet', controllers.scaledDown(oldRs.name, oldCount, oldCount - 1), inc.tag);
    oldCount--;
    const victim = oldPods[s]!;
    rc.event(oldRsRef, N, 'SuccessfulDelete', controllers.deletedPod(victim.name), inc.tag);
    ctx.c
      .kubelet(victim.node)
      .event(
        ctx.podRef(victim, containerFieldPath(victim)),
        N,
        'Killing',
        kubelet.killing(victim.containers[0]!.name),
        inc.tag,
      );
    ctx.deletePod(victim);
    await ctx.wait(5_000);
  }
  if (!badImage) {
    w.replicaSet = { name: rsName, uid: rsUid, hash };
    w.image = image;
  }
}

export const rollout = (ctx: ScenarioContext) => rolloutImpl(ctx, false);
export const imagePull = (ctx: ScenarioContext) => rolloutImpl(ctx, true);

function splitImage(image: string): [string, string | undefined] {
  const i = image.lastIndexOf(':');
  return i > image.lastIndexOf('/') ? [image.slice(0, i), image.slice(i + 1)] : [image, undefined];
}

function bumpTag(tag: string): string {
  const m = /^(.*?)(\d+)$/.exec(tag);
  return m ? `${m[1]}${Number(m[2]) + 1}` : `${tag}-1`;
}
