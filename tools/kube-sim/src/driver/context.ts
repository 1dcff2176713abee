// What a scenario sees: the cluster, its own random stream, the virtual clock, the component recorders (one per
// component instance, sharing correlator state the way one kubelet or one controller-manager does), incident
// bookkeeping and a few object writers.

import type { Clock } from './clock.ts';
import type { ClusterModel, NodeModel, ObjectRef, PodModel, WorkloadModel } from './cluster.ts';
import { podPath, podRef } from './cluster.ts';
import { type GroundTruthLedger, type GtObject, refObject, type Tag } from './ground-truth.ts';
import { CONTENT_STRATEGIC_MERGE_PATCH } from './http.ts';
import type { Player } from './player.ts';
import { CoreRecorder, type CoreRecorderOptions, type EventSink, EventsRecorder } from './recorders.ts';
import type { Rng } from './rng.ts';

export class Components {
  readonly sink: EventSink;
  readonly coreOptions: CoreRecorderOptions;
  #core = new Map<string, CoreRecorder>();
  #events = new Map<string, EventsRecorder>();

  constructor(sink: EventSink, coreOptions: CoreRecorderOptions = {}) {
    this.sink = sink;
    this.coreOptions = coreOptions;
  }

  core(component: string, host?: string): CoreRecorder {
    const key = `${component}/${host ?? ''}`;
    let r = this.#core.get(key);
    if (!r) {
      r = new CoreRecorder(this.sink, host ? { component, host } : { component }, this.coreOptions);
      this.#core.set(key, r);
    }
    return r;
  }

  kubelet(node: string): CoreRecorder {
    return this.core('kubelet', node);
  }

  /** kube-controller-manager controllers: deployment-controller, replicaset-controller, job-controller, ... */
  controller(name: string): CoreRecorder {
    return this.core(name);
  }

  /** node-problem-detector's kernel monitor on a node. */
  npd(node: string): CoreRecorder {
    return this.core('kernel-monitor', node);
  }

  autoscaler(): CoreRecorder {
    return this.core('cluster-autoscaler');
  }

  /** The scheduler writes events.k8s.io/v1 events. */
  scheduler(): EventsRecorder {
    return this.eventsRecorder('default-scheduler', 'default-scheduler-ip-10-0-0-10');
  }

  eventsRecorder(controller: string, instance: string): EventsRecorder {
    const key = `${controller}/${instance}`;
    let r = this.#events.get(key);
    if (!r) {
      r = new EventsRecorder(this.sink, controller, instance);
      this.#events.set(key, r);
    }
    return r;
  }

  get allEventsRecorders(): EventsRecorder[] {
    return [...this.#events.values()];
  }
}

export interface Incident {
  id: string;
  tag: Tag;
  root: Tag;
  affect(obj: ObjectRef | GtObject): void;
  rootObject(reason: string, obj: ObjectRef | GtObject, detail?: string): void;
}

export class ScenarioContext {
  readonly scenario: string;
  readonly cluster: ClusterModel;
  readonly rng: Rng;
  readonly clock: Clock;
  readonly c: Components;
  readonly sink: EventSink;
  readonly ledger: GroundTruthLedger;
  readonly busy: Set<string>;
  /**
   * Scenarios overlap on shared nodes and workloads: a node or workload is exclusive only within one scenario, and
   * one that another scenario is acting on is preferred. Pods stay exclusive (one pod, one story).
   */
  readonly overlap: boolean;
  readonly #player: Player;
  #held: string[] = [];

  constructor(
    scenario: string,
    cluster: ClusterModel,
    rng: Rng,
    player: Player,
    c: Components,
    ledger: GroundTruthLedger,
    busy: Set<string>,
    overlap = false,
  ) {
    this.scenario = scenario;
    this.overlap = overlap;
    this.cluster = cluster;
    this.rng = rng;
    this.#player = player;
    this.clock = player.clock;
    this.c = c;
    this.sink = c.sink;
    this.ledger = ledger;
    this.busy = busy;
  }

  get alive(): boolean {
    return this.#player.alive;
  }

  sleep(ms: number): Promise<void> {
    return this.#player.sleep(ms);
  }

  /** Runs `fn` as a coroutine of its own (it may sleep) alongside the caller. */
  spawn(fn: () => Promise<void>): void {
    this.#player.spawn(fn);
  }

  /** Sleep a jittered duration (±20%). */
  wait(ms: number): Promise<void> {
    return this.#player.sleep(ms * (0.8 + this.rng.next() * 0.4));
  }

  open(title: string, namespace?: string): Incident {
    const id = this.ledger.openIncident(this.scenario, title, this.clock.now(), namespace);
    const ledger = this.ledger;
    const asObj = (o: ObjectRef | GtObject): GtObject => ('apiVersion' in o ? refObject(o) : o);
    return {
      id,
      tag: { incident: id },
      root: { incident: id, root: true },
      affect: (o) => ledger.affect(id, asObj(o)),
      rootObject: (reason, o, detail) => ledger.setRootObject(id, reason, asObj(o), detail),
    };
  }

  /** Reserves pods no other scenario is using (released by release()). */
  takePods(filter: (p: PodModel) => boolean, n: number): PodModel[] {
    const free = this.cluster.pods.filter((p) => p.phase === 'Running' && !this.busy.has(p.uid) && filter(p));
    const got = this.rng.sample(free, n);
    for (const p of got) this.hold(p.uid);
    return got;
  }

  /**
   * `writes`: what of the workload the scenario changes ('replicas' for a scale or a rollout, 'hpa' for its
   * HorizontalPodAutoscaler). When scenarios overlap, one writer of each at a time: a Deployment has one template and one
   * replica count, so two rollouts at once, or a scale-out while the HPA rescales, are one story in Kubernetes, not two
   * (the deployment controller would write "from 3 to 5" and then "from 5 to 8", never two scale-ups from 3).
   */
  takeWorkload(
    kind: WorkloadModel['kind'] | WorkloadModel['kind'][],
    filter: (w: WorkloadModel) => boolean = () => true,
    writes: readonly ('replicas' | 'hpa')[] = [],
  ): WorkloadModel | undefined {
    const kinds = Array.isArray(kind) ? kind : [kind];
    if (this.overlap) {
      const free = this.cluster.workloads.filter(
        (w) =>
          kinds.includes(w.kind) &&
          !this.busy.has(this.#mine(w.uid)) &&
          writes.every((x) => !this.busy.has(`${x}\0${w.uid}`)) &&
          filter(w),
      );
      if (free.length === 0) return undefined;
      const w = this.rng.pick(this.#preferShared(free));
      this.hold(this.#mine(w.uid));
      for (const x of writes) this.hold(`${x}\0${w.uid}`);
      for (const p of w.pods) if (!this.busy.has(p.uid)) this.hold(p.uid);
      return w;
    }
    const free = this.cluster.workloads.filter(
      (w) => kinds.includes(w.kind) && !this.busy.has(w.uid) && w.pods.every((p) => !this.busy.has(p.uid)) && filter(w),
    );
    if (free.length === 0) return undefined;
    const w = this.rng.pick(free);
    this.hold(w.uid);
    for (const p of w.pods) this.hold(p.uid);
    return w;
  }

  takeNode(): NodeModel | undefined {
    const free = this.cluster.nodes.filter((n) => !this.busy.has(this.#mine(n.uid)));
    if (free.length === 0) return undefined;
    const n = this.rng.pick(this.overlap ? this.#preferShared(free) : free);
    this.hold(this.#mine(n.uid));
    return n;
  }

  /** A node to schedule a new pod on: one no node-level scenario (failure, kernel, autoscaled node) is holding. */
  pickNode(): NodeModel {
    const free = this.cluster.nodes.filter((n) => !this.busy.has(this.#mine(n.uid)));
    return this.rng.pick(free.length > 0 ? free : this.cluster.nodes);
  }

  /** The busy key of a node or workload: scoped to this scenario when scenarios overlap. */
  #mine(uid: string): string {
    return this.overlap ? `${this.scenario}\0${uid}` : uid;
  }

  /** Overlap: the candidates another scenario is acting on, two times in three, when there are any. */
  #preferShared<T extends { uid: string }>(free: T[]): T[] {
    const held = new Set([...this.busy].map((k) => k.slice(k.indexOf('\0') + 1)));
    const shared = free.filter((x) => held.has(x.uid));
    return shared.length > 0 && this.rng.next() < 2 / 3 ? shared : free;
  }

  hold(key: string): void {
    this.busy.add(key);
    this.#held.push(key);
  }

  release(): void {
    for (const k of this.#held) this.busy.delete(k);
    this.#held = [];
  }

  podRef(pod: PodModel, fieldPath?: string): ObjectRef {
    return podRef(pod, this.sink.uids, fieldPath);
  }

  nodeRef(node: NodeModel, kubeletStyle = false): ObjectRef {
    // kubelet and node-problem-detector reference their node by name: uid = node name, no apiVersion.
    return kubeletStyle
      ? { kind: 'Node', name: node.name, uid: node.name, apiVersion: '' }
      : { kind: 'Node', name: node.name, uid: node.uid, apiVersion: 'v1' };
  }

  workloadRef(w: WorkloadModel): ObjectRef {
    const apiVersion = w.kind === 'CronJob' ? 'batch/v1' : 'apps/v1';
    const ref: ObjectRef = { kind: w.kind, namespace: w.namespace, name: w.name, uid: w.uid, apiVersion };
    const rv = this.sink.uids.rv(w.uid);
    if (rv) ref.resourceVersion = rv;
    return ref;
  }

  nodeOf(pod: PodModel): NodeModel {
    return this.cluster.nodes.find((n) => n.name === pod.node) ?? (this.cluster.nodes[0] as NodeModel);
  }

  /** Patches a pod's status with a strategic merge patch, as kubelet's status manager does (lists merge by key). */
  podStatus(pod: PodModel, status: Record<string, unknown>): void {
    this.sink.writeObject('PATCH', `${podPath(pod)}/status`, { status }, CONTENT_STRATEGIC_MERGE_PATCH);
  }

  /** A new pod under an owner (ReplicaSet, Job, StatefulSet), created through the API. */
  newPod(
    owner: { apiVersion: string; kind: string; name: string; uid: string },
    w: WorkloadModel,
    name: string,
    labels: Record<string, string>,
    opts: { node?: NodeModel; phase?: string; image?: string } = {},
  ): PodModel {
    const node = opts.node;
    const pod: PodModel = {
      name,
      namespace: w.namespace,
      uid: this.rng.uuid(),
      node: node?.name ?? '',
      ip: node ? `10.244.${this.cluster.nodes.indexOf(node)}.${this.rng.int(2, 254)}` : '',
      containers: [{ name: w.container, image: opts.image ?? w.image }],
      owner,
      workload: { kind: w.kind, name: w.name },
      labels,
      phase: opts.phase ?? 'Pending',
    };
    this.hold(pod.uid);
    this.cluster.pods.push(pod);
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    this.sink.createObject(`/api/v1/namespaces/${w.namespace}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: w.namespace,
        uid: pod.uid,
        labels,
        creationTimestamp: now,
        ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        ...(node ? { nodeName: node.name } : {}),
        containers: [
          {
            name: w.container,
            image: opts.image ?? w.image,
            resources: { requests: { cpu: '500m', memory: '512Mi' } },
          },
        ],
        restartPolicy: owner.kind === 'Job' ? 'Never' : 'Always',
      },
      status: {
        phase: pod.phase,
        ...(node ? { hostIP: node.ip, podIP: pod.ip, podIPs: [{ ip: pod.ip }] } : {}),
        conditions: node
          ? [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }]
          : [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: now }],
      },
    });
    return pod;
  }

  deletePod(pod: PodModel): void {
    pod.phase = 'Deleted';
    this.sink.writeObject('DELETE', podPath(pod), undefined);
    const i = this.cluster.pods.indexOf(pod);
    if (i >= 0) this.cluster.pods.splice(i, 1);
  }

  /**
   * Scales a Deployment's current ReplicaSet down by removing `pods`: deployment-controller ScalingReplicaSet,
   * replicaset-controller SuccessfulDelete, kubelet Killing, pod deleted.
   */
  scaleDown(w: WorkloadModel, pods: PodModel[], tag: Tag): void {
    const rs = w.replicaSet;
    if (!rs) return;
    const from = w.pods.filter((p) => p.phase === 'Running' || p.phase === 'Pending').length;
    const dref = this.workloadRef(w);
    const rsRef = { kind: 'ReplicaSet', namespace: w.namespace, name: rs.name, uid: rs.uid, apiVersion: 'apps/v1' };
    this.c
      .controller('deployment-controller')
      .event(
        dref,
        'Normal',
        'ScalingReplicaSet',
        `Scaled down replica set ${rs.name} from ${from} to ${from - pods.length}`,
        tag,
      );
    for (const p of pods) {
      this.c
        .controller('replicaset-controller')
        .event(rsRef, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.name}`, tag);
      if (p.node && p.phase === 'Running') {
        const c = p.containers[0]?.name ?? '';
        this.c
          .kubelet(p.node)
          .event(this.podRef(p, `spec.containers{${c}}`), 'Normal', 'Killing', `Stopping container ${c}`, tag);
      }
      this.deletePod(p);
    }
  }

  /** The container runs healthy again (the incident is over): status back to Running and ready. */
  healPod(pod: PodModel): void {
    const c = pod.containers[0];
    if (!c) return;
    pod.phase = 'Running';
    const at = new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    this.podStatus(pod, {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }],
      containerStatuses: [
        { name: c.name, image: c.image, ready: true, started: true, state: { running: { startedAt: at } } },
      ],
    });
  }

  /**
   * The owning controller replaces a pod that is gone (evicted, deleted): a ReplicaSet creates a new name, a StatefulSet
   * the same name; the scheduler places it on a Ready node and kubelet starts it.
   */
  replacePod(old: PodModel, nodes: NodeModel[], tag: Tag): PodModel | undefined {
    const w = this.cluster.workloads.find((x) => x.name === old.workload.name && x.namespace === old.namespace);
    if (!w || (old.owner.kind !== 'ReplicaSet' && old.owner.kind !== 'StatefulSet') || nodes.length === 0)
      return undefined;
    const node = this.rng.pick(nodes);
    const sts = old.owner.kind === 'StatefulSet';
    const name = sts ? old.name : `${old.owner.name}-${this.rng.k8sString(5)}`;
    const pod = this.newPod(old.owner, w, name, old.labels, {
      node,
      phase: 'Running',
      image: old.containers[0]?.image ?? w.image,
    });
    if (old.pvc) pod.pvc = old.pvc;
    w.pods.push(pod);
    const ownerRef = {
      kind: old.owner.kind,
      namespace: old.namespace,
      name: old.owner.name,
      uid: old.owner.uid,
      apiVersion: 'apps/v1',
    };
    if (sts)
      this.c
        .controller('statefulset-controller')
        .event(
          ownerRef,
          'Normal',
          'SuccessfulCreate',
          `create Pod ${name} in StatefulSet ${old.owner.name} successful`,
          tag,
        );
    else
      this.c
        .controller('replicaset-controller')
        .event(ownerRef, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, tag);
    this.c
      .scheduler()
      .eventf(
        this.podRef(pod),
        undefined,
        'Normal',
        'Scheduled',
        'Binding',
        `Successfully assigned ${pod.namespace}/${name} to ${node.name}`,
        tag,
      );
    const k = this.c.kubelet(node.name);
    const cref = this.podRef(pod, `spec.containers{${pod.containers[0]?.name}}`);
    k.event(cref, 'Normal', 'Pulled', `Container image "${pod.containers[0]?.image}" already present on machine`, tag);
    k.event(cref, 'Normal', 'Created', `Created container: ${pod.containers[0]?.name}`, tag);
    k.event(cref, 'Normal', 'Started', `Started container ${pod.containers[0]?.name}`, tag);
    return pod;
  }
}
