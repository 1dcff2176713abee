// Node, scheduling and storage incidents.

import { k8sTime } from '../clock.ts';
import { cond, healthyNodeConditions, type NodeModel, type PodModel } from '../cluster.ts';
import type { ScenarioContext } from '../context.ts';
import { CONTENT_STRATEGIC_MERGE_PATCH } from '../http.ts';
import { autoscaler, containerFieldPath, controllers, failedScheduling, kubelet, npd, scheduler } from '../messages.ts';
import { restartContainer } from './workload.ts';

const W = 'Warning';
const N = 'Normal';

/** A Deployment scales out beyond the cluster's free CPU; the autoscaler adds a node (or cannot). */
async function schedulingImpl(ctx: ScenarioContext, scaleUp: boolean): Promise<void> {
  const w = ctx.takeWorkload('Deployment', (d) => d.namespace !== 'kube-system' && !!d.replicaSet, ['replicas']);
  if (!w?.replicaSet) return;
  const rs = w.replicaSet;
  const extra = ctx.rng.int(2, 4);
  const title = scaleUp
    ? `Scheduling pressure: ${extra} pods of ${w.namespace}/${w.name} pending on cpu until the cluster autoscaler adds a node`
    : `Scheduling pressure: ${extra} pods of ${w.namespace}/${w.name} cannot be scheduled and the autoscaler cannot scale up`;
  const inc = ctx.open(title, w.namespace);
  const dref = ctx.workloadRef(w);
  const rsRef = { kind: 'ReplicaSet', namespace: w.namespace, name: rs.name, uid: rs.uid, apiVersion: 'apps/v1' };
  const before = w.pods.filter((p) => p.phase === 'Running').length;
  ctx.c
    .controller('deployment-controller')
    .event(dref, N, 'ScalingReplicaSet', controllers.scaledUp(rs.name, before, before + extra), inc.tag);
  const labels = { app: w.name, 'app.kubernetes.io/name': w.name, 'pod-template-hash': rs.hash };
  const pending: PodModel[] = [];
  for (let i = 0; i < extra; i++) {
    const pod = ctx.newPod(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name, uid: rs.uid },
      w,
      `${rs.name}-${ctx.rng.k8sString(5)}`,
      labels,
    );
    pending.push(pod);
    w.pods.push(pod); // the Deployment's replicas: its scale-down counts them ("from 7 to 3", not "from 3 to -1")
    ctx.c
      .controller('replicaset-controller')
      .event(rsRef, N, 'SuccessfulCreate', controllers.createdPod(pod.name), inc.tag);
  }
  const total = ctx.cluster.nodes.length;
  const tainted = ctx.rng.int(0, 1);
  const reasons: Record<string, number> = { 'Insufficient cpu': total - tainted };
  const preempt: Record<string, number> = { 'No preemption victims found for incoming pod': total - tainted };
  if (tainted) {
    reasons['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] = tainted;
    preempt['Preemption is not helpful for scheduling'] = tainted;
  }
  const msg = failedScheduling(total, reasons, preempt);
  const sched = ctx.c.scheduler();
  const ca = ctx.c.autoscaler();
  const group = `eks-general-${ctx.cluster.nodes[0]?.zone.slice(-1) ?? 'a'}-${ctx.rng.hex(8)}`;
  const cycles = scaleUp ? ctx.rng.int(3, 5) : ctx.rng.int(6, 10);
  for (let cycle = 0; cycle < cycles && ctx.alive; cycle++) {
    for (const [i, pod] of pending.entries()) {
      sched.eventf(
        ctx.podRef(pod),
        undefined,
        W,
        'FailedScheduling',
        'Scheduling',
        msg,
        cycle === 0 && i === 0 ? inc.root : inc.tag,
        'Insufficient cpu',
      );
    }
    await ctx.wait(10_000);
    for (const pod of pending) {
      if (scaleUp && cycle === 0)
        ca.event(
          ctx.podRef(pod),
          N,
          'TriggeredScaleUp',
          autoscaler.triggered([{ group, from: total, to: total + 1, max: 10 }]),
          inc.tag,
        );
      if (!scaleUp)
        ca.event(
          ctx.podRef(pod),
          N,
          'NotTriggerScaleUp',
          autoscaler.notTriggered({
            'max node group size reached': 1,
            "node(s) didn't match Pod's node affinity/selector": 2,
          }),
          inc.tag,
        );
    }
    await ctx.wait(20_000);
  }
  if (!ctx.alive) return;
  if (!scaleUp) {
    // Someone scales the Deployment back; the pending pods go.
    const dc = ctx.c.controller('deployment-controller');
    dc.event(dref, N, 'ScalingReplicaSet', controllers.scaledDown(rs.name, before + extra, before), inc.tag);
    for (const pod of pending) {
      ctx.c
        .controller('replicaset-controller')
        .event(rsRef, N, 'SuccessfulDelete', controllers.deletedPod(pod.name), inc.tag);
      ctx.deletePod(pod);
    }
    return;
  }
  // The new node joins and the pods are scheduled onto it.
  const idx = ctx.cluster.nodes.length;
  const ip = `10.0.${ctx.rng.int(0, 47)}.${ctx.rng.int(10, 250)}`;
  const node: NodeModel = {
    name: `ip-${ip.replaceAll('.', '-')}.eu-west-1.compute.internal`,
    uid: ctx.rng.uuid(),
    zone: 'eu-west-1a',
    instanceType: 'm5.xlarge',
    ip,
    podCIDR: `10.244.${idx}.0/24`,
  };
  ctx.cluster.nodes.push(node);
  ctx.hold(node.uid);
  const now = k8sTime(ctx.clock.now());
  ctx.sink.createObject('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      uid: node.uid,
      labels: {
        'kubernetes.io/hostname': node.name,
        'topology.kubernetes.io/zone': node.zone,
        'topology.kubernetes.io/region': 'eu-west-1',
        'node.kubernetes.io/instance-type': node.instanceType,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
    spec: { podCIDR: node.podCIDR },
    status: { conditions: healthyNodeConditions(now), addresses: [{ type: 'InternalIP', address: ip }] },
  });
  const nk = ctx.c.kubelet(node.name);
  nk.event(ctx.nodeRef(node, true), N, 'Starting', 'Starting kubelet.', inc.tag);
  nk.event(ctx.nodeRef(node, true), N, 'NodeReady', kubelet.nodeStatus(node.name, 'NodeReady'), inc.tag);
  ctx.c
    .controller('node-controller')
    .event(
      ctx.nodeRef(node),
      N,
      'RegisteredNode',
      `Node ${node.name} event: Registered Node ${node.name} in Controller`,
      inc.tag,
    );
  await ctx.wait(5_000);
  for (const pod of pending) {
    pod.node = node.name;
    sched.eventf(
      ctx.podRef(pod),
      undefined,
      N,
      'Scheduled',
      'Binding',
      scheduler.assigned(pod.namespace, pod.name, node.name),
      inc.tag,
    );
    const cref = ctx.podRef(pod, containerFieldPath(pod));
    nk.event(cref, N, 'Pulling', kubelet.pulling(w.image), inc.tag);
    nk.event(
      cref,
      N,
      'Pulled',
      kubelet.pulled(w.image, ctx.rng.int(500, 8000), ctx.rng.int(20_000_000, 300_000_000)),
      inc.tag,
    );
    nk.event(cref, N, 'Created', kubelet.created(w.container), inc.tag);
    nk.event(cref, N, 'Started', kubelet.started(w.container), inc.tag);
    ctx.podStatus(pod, { phase: 'Running', hostIP: ip });
    pod.phase = 'Running';
  }
  // Later the Deployment shrinks again and the autoscaler removes the then idle node.
  await ctx.wait(ctx.rng.int(600_000, 1_200_000));
  if (!ctx.alive) return;
  ctx.scaleDown(w, pending, inc.tag);
  await ctx.wait(600_000); // scale-down-unneeded-time
  if (!ctx.alive) return;
  ca.event(ctx.nodeRef(node), N, 'ScaleDown', 'marked the node as toBeDeleted/unschedulable', inc.tag);
  for (const p of ctx.cluster.pods.filter((x) => x.node === node.name && (!ctx.busy.has(x.uid) || pending.includes(x))))
    ctx.deletePod(p);
  await ctx.wait(30_000);
  ca.event(ctx.nodeRef(node), N, 'ScaleDown', 'node removed by cluster autoscaler', inc.tag);
  ctx.sink.writeObject('DELETE', `/api/v1/nodes/${node.name}`, undefined);
  ctx.cluster.nodes.splice(ctx.cluster.nodes.indexOf(node), 1);
}

export const schedulingScaleUp = (ctx: ScenarioContext) => schedulingImpl(ctx, true);
export const schedulingNoScaleUp = (ctx: ScenarioContext) => schedulingImpl(ctx, false);

/** Memory pressure on a node, kubelet evictions, then the node stops reporting: NotReady and taint-manager evictions. */
export async function nodeFailure(ctx: ScenarioContext): Promise<void> {
  const node = ctx.takeNode();
  if (!node) return;
  const pods = ctx.takePods((p) => p.node === node.name, 50);
  const inc = ctx.open(`Node failure: ${node.name} under memory pressure, then NotReady; its pods are evicted`);
  const k = ctx.c.kubelet(node.name);
  const kref = ctx.nodeRef(node, true);
  const nref = ctx.nodeRef(node);
  inc.affect(nref);
  const at = () => k8sTime(ctx.clock.now());
  k.event(
    kref,
    N,
    'NodeHasInsufficientMemory',
    kubelet.nodeStatus(node.name, 'NodeHasInsufficientMemory'),
    inc.root,
    'memory pressure',
  );
  ctx.sink.writeObject(
    'PATCH',
    `/api/v1/nodes/${node.name}/status`,
    {
      status: {
        conditions: [
          cond(
            'MemoryPressure',
            'True',
            'KubeletHasInsufficientMemory',
            'kubelet has insufficient memory available',
            at(),
          ),
          cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', at()),
        ],
      },
    },
    CONTENT_STRATEGIC_MERGE_PATCH,
  );
  k.event(kref, W, 'EvictionThresholdMet', kubelet.evictionThresholdMet('memory'), inc.tag);
  await ctx.wait(15_000);
  const victims = pods.filter((p) => p.workload.kind !== 'DaemonSet').slice(0, 2);
  for (const p of victims) {
    const c = p.containers[0]!;
    k.event(
      ctx.podRef(p),
      W,
      'Evicted',
      kubelet.evicted(
        'memory',
        '100Mi',
        `${ctx.rng.int(40_000, 99_000)}Ki`,
        c.name,
        `${ctx.rng.int(600_000, 1_500_000)}Ki`,
        '128Mi',
      ),
      inc.tag,
    );
    k.event(ctx.podRef(p, containerFieldPath(p)), N, 'Killing', kubelet.killing(c.name), inc.tag);
    ctx.podStatus(p, { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' });
    p.phase = 'Failed';
    await ctx.wait(2_000);
  }
  await ctx.wait(30_000);
  if (!ctx.alive) return;
  // kubelet stops posting status; node-lifecycle-controller marks it NotReady.
  const nc = ctx.c.controller('node-controller');
  nc.event(nref, N, 'NodeNotReady', kubelet.nodeStatus(node.name, 'NodeNotReady'), inc.tag);
  ctx.sink.writeObject(
    'PATCH',
    `/api/v1/nodes/${node.name}/status`,
    {
      status: {
        conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((t) =>
          cond(t, 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.', at()),
        ),
      },
    },
    CONTENT_STRATEGIC_MERGE_PATCH,
  );
  ctx.sink.writeObject('PATCH', `/api/v1/nodes/${node.name}`, {
    spec: {
      taints: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at() },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: at() },
      ],
    },
  });
  const remaining = pods.filter((p) => p.phase === 'Running');
  for (const p of remaining) {
    // MarkPodsNotReady: the Ready condition of every pod on the node goes False.
    nc.event(ctx.podRef(p), W, 'NodeNotReady', controllers.nodeNotReadyPod, inc.tag);
    ctx.podStatus(p, { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: at() }] });
  }
  await ctx.wait(300_000); // default tolerationSeconds for unreachable
  const tm = ctx.c.controller('taint-eviction-controller');
  const gone = [...victims];
  for (const p of remaining) {
    if (!ctx.alive) return;
    if (p.workload.kind === 'DaemonSet') continue; // DaemonSet pods tolerate unreachable
    tm.event(ctx.podRef(p), N, 'TaintManagerEviction', controllers.taintEviction(p.namespace, p.name), inc.tag);
    ctx.deletePod(p);
    gone.push(p);
    await ctx.wait(500);
  }
  // The controllers replace what was lost on the other nodes.
  const healthy = ctx.cluster.nodes.filter((n) => n !== node && !ctx.busy.has(n.uid));
  for (const p of gone) {
    if (!ctx.alive) return;
    if (p.phase === 'Failed') ctx.deletePod(p); // evicted pods are cleaned up by the pod GC
    ctx.replacePod(p, healthy, inc.tag);
    await ctx.wait(1_000);
  }
  // The node comes back (instance rebooted): kubelet reports Ready, the taints go, and kubelet starts the containers
  // of the pods still bound to the node again (the DaemonSet pods, which tolerate unreachable).
  await ctx.wait(ctx.rng.int(120_000, 600_000));
  if (!ctx.alive) return;
  k.event(kref, N, 'Starting', 'Starting kubelet.', inc.tag);
  k.event(kref, N, 'NodeReady', kubelet.nodeStatus(node.name, 'NodeReady'), inc.tag);
  for (const p of remaining) if (p.phase === 'Running' && p.node === node.name) restartContainer(ctx, p, inc.tag);
  ctx.sink.writeObject(
    'PATCH',
    `/api/v1/nodes/${node.name}/status`,
    { status: { conditions: healthyNodeConditions(at()) } },
    CONTENT_STRATEGIC_MERGE_PATCH,
  );
  ctx.sink.writeObject('PATCH', `/api/v1/nodes/${node.name}`, { spec: { taints: null } });
}

/** A StatefulSet pod whose volume cannot attach (Multi-Attach) or a pod whose config volume is missing. */
export async function volumeTrouble(ctx: ScenarioContext): Promise<void> {
  const attach = ctx.rng.chance(0.5);
  const [pod] = ctx.takePods(
    (p) => (attach ? !!p.pvc : p.workload.kind === 'Deployment' && p.namespace !== 'kube-system'),
    1,
  );
  if (!pod) return;
  const c = pod.containers[0]!;
  const k = ctx.c.kubelet(pod.node);
  const ref = ctx.podRef(pod);
  const pvc = ctx.cluster.pvcs.find((v) => v.name === pod.pvc && v.namespace === pod.namespace);
  const inc = ctx.open(
    attach
      ? `Volume trouble: ${pod.namespace}/${pod.name} stuck ContainerCreating, volume ${pvc?.volume} cannot attach`
      : `Volume trouble: ${pod.namespace}/${pod.name} stuck ContainerCreating, configmap volume missing`,
    pod.namespace,
  );
  ctx.podStatus(pod, {
    phase: 'Pending',
    containerStatuses: [
      {
        name: c.name,
        image: c.image,
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      },
    ],
  });
  const projected = `kube-api-access-${ctx.rng.k8sString(5)}`;
  const rounds = ctx.rng.int(4, 8);
  for (let i = 0; i < rounds && ctx.alive; i++) {
    if (attach && pvc) {
      const ad = ctx.c.controller('attachdetach-controller');
      ad.event(
        ref,
        W,
        'FailedAttachVolume',
        controllers.multiAttach(pvc.volume),
        i === 0 ? inc.root : inc.tag,
        'Multi-Attach',
      );
      await ctx.wait(60_000);
      k.event(ref, W, 'FailedMount', kubelet.unableToAttachOrMount(['data'], ['data', projected]), inc.tag);
      await ctx.wait(60_000);
    } else {
      const cm = `${pod.workload.name}-config`;
      k.event(
        ref,
        W,
        'FailedMount',
        kubelet.mountSetUpFailed('config', `configmap "${cm}" not found`),
        i === 0 ? inc.root : inc.tag,
        'configmap not found',
      );
      await ctx.wait(60_000);
      if (i % 2 === 1)
        k.event(ref, W, 'FailedMount', kubelet.unableToAttachOrMount(['config'], ['config', projected]), inc.tag);
      await ctx.wait(60_000);
    }
  }
  if (!ctx.alive) return;
  // Resolved (the other node released the volume / the configmap was created): the container starts.
  if (attach && pvc) {
    const ad = ctx.c.controller('attachdetach-controller');
    ad.event(ref, N, 'SuccessfulAttachVolume', `AttachVolume.Attach succeeded for volume "${pvc.volume}" `, inc.tag);
  }
  const cref = ctx.podRef(pod, containerFieldPath(pod));
  k.event(cref, N, 'Pulled', kubelet.alreadyPresent(c.image), inc.tag);
  k.event(cref, N, 'Created', kubelet.created(c.name), inc.tag);
  k.event(cref, N, 'Started', kubelet.started(c.name), inc.tag);
  ctx.healPod(pod);
}

/** node-problem-detector's kernel monitor reports KernelOops, TaskHung and OOMKilling on a node. */
export async function kernelProblems(ctx: ScenarioContext): Promise<void> {
  const node = ctx.takeNode();
  if (!node) return;
  const kind = ctx.rng.pick(['KernelOops', 'TaskHung', 'OOMKilling'] as const);
  const inc = ctx.open(`Kernel problem on ${node.name}: ${kind}`);
  const m = ctx.c.npd(node.name);
  const ref = ctx.nodeRef(node, true);
  const n = ctx.rng.int(4, 14);
  for (let i = 0; i < n && ctx.alive; i++) {
    const tag = i === 0 ? inc.root : inc.tag;
    if (kind === 'KernelOops') m.event(ref, W, 'KernelOops', npd.kernelOops(`00000000000000${ctx.rng.hex(2)}`), tag);
    else if (kind === 'TaskHung')
      m.event(
        ref,
        W,
        'TaskHung',
        npd.taskHung(ctx.rng.pick(['containerd', 'kworker/u16:2', 'jbd2/nvme0n1p1-8']), ctx.rng.int(300, 32_000), 120),
        tag,
      );
    else
      m.event(
        ref,
        W,
        'OOMKilling',
        npd.oomKilling(
          ctx.rng.int(3000, 60_000),
          ctx.rng.pick(['java', 'node', 'python3', 'postgres']),
          ctx.rng.int(2_000_000, 9_000_000),
          ctx.rng.int(500_000, 1_900_000),
        ),
        tag,
      );
    await ctx.wait(ctx.rng.int(15_000, 90_000));
  }
}
