// The cluster builder. planCluster() is pure: from a seed it produces a realistic cluster as a list of create requests
// in dependency order (namespaces and nodes, workloads, ReplicaSets and Jobs, Pods) with planned uids wired through
// ownerReferences (G2). applyCluster() POSTs them level by level; a real API server assigns its own uid on create, so
// children are rewritten with their owners' server uids (UidMap) before they are sent.
import { k8sTime } from './clock.ts';
import { KubeApiError } from './errors.ts';
import { type KubeClient, statusMessage } from './http.ts';
import { podTemplateHash, Rng } from './rng.ts';

export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  apiVersion: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface ContainerModel {
  name: string;
  image: string;
}

export interface PodModel {
  name: string;
  namespace: string;
  uid: string;
  node: string;
  ip: string;
  containers: ContainerModel[];
  owner: { apiVersion: string; kind: string; name: string; uid: string };
  /** The top workload: Deployment, StatefulSet, DaemonSet, CronJob (or Job). */
  workload: { kind: string; name: string };
  labels: Record<string, string>;
  phase: string;
  pvc?: string;
}

export interface NodeModel {
  name: string;
  uid: string;
  zone: string;
  instanceType: string;
  ip: string;
  podCIDR: string;
}

export interface WorkloadModel {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob';
  namespace: string;
  name: string;
  uid: string;
  image: string;
  container: string;
  replicas: number;
  /** Deployment: current ReplicaSet. */
  replicaSet?: { name: string; uid: string; hash: string };
  /** CronJob: the Jobs it created. */
  jobs?: { name: string; uid: string }[];
  pods: PodModel[];
}

export interface PlannedObject {
  /** Collection path to POST to. */
  collection: string;
  /** Object path (for GET/PATCH). */
  path: string;
  level: number;
  body: Record<string, unknown>;
}

export interface ClusterModel {
  seed: string;
  namespaces: { name: string; uid: string; labels: Record<string, string> }[];
  nodes: NodeModel[];
  workloads: WorkloadModel[];
  pods: PodModel[];
  pvcs: { namespace: string; name: string; uid: string; volume: string }[];
  services: { namespace: string; name: string; uid: string }[];
  objects: PlannedObject[];
}

export interface ClusterOptions {
  /** Nodes across three zones (default 6). */
  nodes?: number;
  /** Multiplies Deployment replica counts (default 1). */
  scale?: number;
  /** "Now" for the plan (default Date.now()); Job names derive from it, so pass it for a reproducible plan. */
  nowMs?: number;
  /**
   * Extra labels on every app workload and its pods (e.g. `{ 'kec.test/cluster': 'a' }`): two sims planned from one
   * seed then hold objects with the same names and uids but different labels, as two clusters running the same app.
   */
  labels?: Record<string, string>;
}

const REGION = 'eu-west-1';
const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const INSTANCE_TYPES = ['m5.xlarge', 'm5.2xlarge', 'c5.2xlarge', 'r5.xlarge'];

interface AppSpec {
  kind: 'Deployment' | 'StatefulSet' | 'CronJob';
  name: string;
  image: string;
  replicas: number;
  container?: string;
  pvc?: boolean;
  schedule?: string;
}

const CATALOGUE: { ns: string; team: string; owner: string; apps: AppSpec[] }[] = [
  {
    ns: 'shop',
    team: 'commerce',
    owner: 'alice',
    apps: [
      { kind: 'Deployment', name: 'web', image: 'registry.example.com/shop/web:2.14.1', replicas: 3 },
      { kind: 'Deployment', name: 'cart', image: 'registry.example.com/shop/cart:1.8.0', replicas: 2 },
      { kind: 'Deployment', name: 'checkout', image: 'registry.example.com/shop/checkout:3.2.5', replicas: 2 },
      { kind: 'StatefulSet', name: 'redis', image: 'docker.io/library/redis:7.2.4', replicas: 3, pvc: true },
      { kind: 'CronJob', name: 'report-export', image: 'registry.example.com/shop/reports:0.9.3', replicas: 1 },
    ],
  },
  {
    ns: 'payments',
    team: 'payments',
    owner: 'bob',
    apps: [
      { kind: 'Deployment', name: 'api', image: 'registry.example.com/payments/api:5.1.0', replicas: 3 },
      { kind: 'Deployment', name: 'ledger-worker', image: 'registry.example.com/payments/ledger:5.1.0', replicas: 2 },
      { kind: 'StatefulSet', name: 'postgres', image: 'docker.io/library/postgres:16.3', replicas: 2, pvc: true },
      { kind: 'CronJob', name: 'reconcile', image: 'registry.example.com/payments/reconcile:5.1.0', replicas: 1 },
    ],
  },
  {
    ns: 'search',
    team: 'discovery',
    owner: 'carol',
    apps: [
      { kind: 'Deployment', name: 'frontend', image: 'registry.example.com/search/frontend:1.22.0', replicas: 2 },
      { kind: 'Deployment', name: 'indexer', image: 'registry.example.com/search/indexer:1.22.0', replicas: 2 },
      {
        kind: 'StatefulSet',
        name: 'elasticsearch',
        image: 'docker.elastic.co/elasticsearch/elasticsearch:8.13.4',
        replicas: 3,
        pvc: true,
      },
    ],
  },
  {
    ns: 'data',
    team: 'data',
    owner: 'dave',
    apps: [
      { kind: 'Deployment', name: 'etl-runner', image: 'registry.example.com/data/etl:2024.6.1', replicas: 1 },
      { kind: 'CronJob', name: 'nightly-backup', image: 'registry.example.com/data/backup:1.4.2', replicas: 1 },
      { kind: 'CronJob', name: 'hourly-compaction', image: 'registry.example.com/data/compactor:1.4.2', replicas: 1 },
    ],
  },
  {
    ns: 'platform',
    team: 'platform',
    owner: 'erin',
    apps: [
      {
        kind: 'Deployment',
        name: 'ingress-nginx-controller',
        container: 'controller',
        image: 'registry.k8s.io/ingress-nginx/controller:v1.10.1',
        replicas: 2,
      },
      {
        kind: 'Deployment',
        name: 'cert-manager',
        image: 'quay.io/jetstack/cert-manager-controller:v1.14.5',
        replicas: 1,
      },
    ],
  },
  {
    ns: 'monitoring',
    team: 'platform',
    owner: 'erin',
    apps: [
      {
        kind: 'StatefulSet',
        name: 'prometheus',
        image: 'quay.io/prometheus/prometheus:v2.52.0',
        replicas: 1,
        pvc: true,
      },
      { kind: 'Deployment', name: 'grafana', image: 'docker.io/grafana/grafana:10.4.2', replicas: 1 },
    ],
  },
  {
    ns: 'kube-system',
    team: 'platform',
    owner: 'erin',
    apps: [
      { kind: 'Deployment', name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.1', replicas: 2 },
      {
        kind: 'Deployment',
        name: 'metrics-server',
        image: 'registry.k8s.io/metrics-server/metrics-server:v0.7.1',
        replicas: 1,
      },
    ],
  },
];

const DAEMONSETS = [
  { ns: 'kube-system', name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.33.2' },
  { ns: 'kube-system', name: 'fluent-bit', image: 'cr.fluentbit.io/fluent/fluent-bit:3.0.4' },
  { ns: 'monitoring', name: 'node-exporter', image: 'quay.io/prometheus/node-exporter:v1.8.1' },
];

function nsPath(group: string, ns: string, plural: string): string {
  return group === '' ? `/api/v1/namespaces/${ns}/${plural}` : `/apis/${group}/namespaces/${ns}/${plural}`;
}

export function planCluster(seed: string | number, opts: ClusterOptions = {}): ClusterModel {
  const rng = new Rng(`${seed}/cluster`);
  const nowMs = opts.nowMs ?? Date.now();
  const created = nowMs - 7 * 86_400_000;
  const ts = (offsetS: number) => k8sTime(created + offsetS * 1000);
  const scale = opts.scale ?? 1;
  const model: ClusterModel = {
    seed: String(seed),
    namespaces: [],
    nodes: [],
    workloads: [],
    pods: [],
    pvcs: [],
    services: [],
    objects: [],
  };
  const add = (level: number, collection: string, name: string, body: Record<string, unknown>) =>
    model.objects.push({ level, collection, path: `${collection}/${name}`, body });

  // Nodes: AWS-style names, three zones, conditions as a healthy kubelet reports them.
  const nodeCount = opts.nodes ?? 6;
  for (let i = 0; i < nodeCount; i++) {
    const zone = ZONES[i % ZONES.length] as string;
    const ip = `10.0.${(i % ZONES.length) * 16 + rng.int(0, 15)}.${rng.int(10, 250)}`;
    const name = `ip-${ip.replaceAll('.', '-')}.${REGION}.compute.internal`;
    const node: NodeModel = {
      name,
      uid: rng.uuid(),
      zone,
      instanceType: rng.pick(INSTANCE_TYPES),
      ip,
      podCIDR: `10.244.${i}.0/24`,
    };
    model.nodes.push(node);
    add(0, '/api/v1/nodes', name, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        uid: node.uid,
        creationTimestamp: ts(0),
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'topology.kubernetes.io/region': REGION,
          'topology.kubernetes.io/zone': zone,
          'node.kubernetes.io/instance-type': node.instanceType,
          'eks.amazonaws.com/nodegroup': `general-${zone.slice(-1)}`,
        },
      },
      spec: { podCIDR: node.podCIDR, providerID: `aws:///${zone}/i-0${rng.hex(16)}` },
      status: {
        capacity: { cpu: '4', memory: '16202188Ki', pods: '58', 'ephemeral-storage': '104845292Ki' },
        allocatable: { cpu: '3920m', memory: '15186380Ki', pods: '58', 'ephemeral-storage': '95551679124' },
        conditions: healthyNodeConditions(ts(60)),
        addresses: [
          { type: 'InternalIP', address: ip },
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          kubeletVersion: 'v1.33.2',
          kubeProxyVersion: 'v1.33.2',
          containerRuntimeVersion: 'containerd://1.7.27',
          osImage: 'Amazon Linux 2023.7.20250609',
          kernelVersion: '6.1.140-154.222.amzn2023.x86_64',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    });
  }

  let podIndex = 0;
  const placePod = (
    ns: string,
    name: string,
    container: string,
    image: string,
    owner: PodModel['owner'],
    workload: PodModel['workload'],
    labels: Record<string, string>,
    opts2: { node?: NodeModel; phase?: string; pvc?: string; created: string },
  ): PodModel => {
    const node =
      opts2.node ?? (model.nodes[(podIndex + rng.int(0, model.nodes.length - 1)) % model.nodes.length] as NodeModel);
    podIndex++;
    const nodeNo = model.nodes.indexOf(node);
    const ip = `10.244.${nodeNo}.${rng.int(2, 254)}`;
    const pod: PodModel = {
      name,
      namespace: ns,
      uid: rng.uuid(),
      node: node.name,
      ip,
      containers: [{ name: container, image }],
      owner,
      workload,
      labels,
      phase: opts2.phase ?? 'Running',
      ...(opts2.pvc ? { pvc: opts2.pvc } : {}),
    };
    model.pods.push(pod);
    const volumes: unknown[] = [{ name: `kube-api-access-${rng.k8sString(5)}`, projected: { defaultMode: 420 } }];
    const mounts: unknown[] = [];
    if (opts2.pvc) {
      volumes.unshift({ name: 'data', persistentVolumeClaim: { claimName: opts2.pvc } });
      mounts.push({ name: 'data', mountPath: '/data' });
    }
    const succeeded = pod.phase === 'Succeeded';
    add(3, nsPath('', ns, 'pods'), name, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        uid: pod.uid,
        labels,
        creationTimestamp: opts2.created,
        ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        nodeName: node.name,
        containers: [
          {
            name: container,
            image,
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
            volumeMounts: mounts,
          },
        ],
        volumes,
        restartPolicy: owner.kind === 'Job' ? 'Never' : 'Always',
        serviceAccountName: 'default',
      },
      status: {
        phase: pod.phase,
        hostIP: node.ip,
        podIP: ip,
        podIPs: [{ ip }],
        startTime: opts2.created,
        qosClass: 'Burstable',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: opts2.created },
          { type: 'Initialized', status: 'True', lastTransitionTime: opts2.created },
          { type: 'ContainersReady', status: succeeded ? 'False' : 'True', lastTransitionTime: opts2.created },
          { type: 'Ready', status: succeeded ? 'False' : 'True', lastTransitionTime: opts2.created },
        ],
        containerStatuses: [
          {
            name: container,
            image,
            imageID: `${image.split(':')[0]}@sha256:${rng.hex(64)}`,
            containerID: `containerd://${rng.hex(64)}`,
            ready: !succeeded,
            started: !succeeded,
            restartCount: succeeded ? 0 : rng.chance(0.2) ? rng.int(1, 3) : 0,
            state: succeeded
              ? {
                  terminated: { exitCode: 0, reason: 'Completed', startedAt: opts2.created, finishedAt: opts2.created },
                }
              : { running: { startedAt: opts2.created } },
          },
        ],
      },
    });
    return pod;
  };

  for (const [nsIdx, entry] of CATALOGUE.entries()) {
    const nsUid = rng.uuid();
    const nsLabels: Record<string, string> = {
      'kubernetes.io/metadata.name': entry.ns,
      team: entry.team,
      owner: entry.owner,
    };
    if (entry.ns !== 'kube-system') nsLabels['environment'] = 'production';
    model.namespaces.push({ name: entry.ns, uid: nsUid, labels: nsLabels });
    add(0, '/api/v1/namespaces', entry.ns, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: entry.ns, uid: nsUid, labels: nsLabels, creationTimestamp: ts(nsIdx) },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    for (const app of entry.apps) addApp(entry.ns, entry.team, app);
  }
  for (const ds of DAEMONSETS) addDaemonSet(ds.ns, ds.name, ds.image);
  return model;

  function addApp(ns: string, team: string, app: AppSpec): void {
    const uid = rng.uuid();
    const container = app.container ?? app.name;
    const labels = {
      app: app.name,
      'app.kubernetes.io/name': app.name,
      'app.kubernetes.io/part-of': team,
      ...opts.labels,
    };
    const template = { metadata: { labels }, spec: { containers: [{ name: container, image: app.image }] } };
    const wl: WorkloadModel = {
      kind: app.kind,
      namespace: ns,
      name: app.name,
      uid,
      image: app.image,
      container,
      replicas: app.kind === 'Deployment' ? Math.max(1, Math.round(app.replicas * scale)) : app.replicas,
      pods: [],
    };
    model.workloads.push(wl);
    const created = ts(3600 + model.workloads.length * 30);
    if (app.kind === 'Deployment') {
      const hash = podTemplateHash(template);
      const rsName = `${app.name}-${hash}`;
      const rsUid = rng.uuid();
      wl.replicaSet = { name: rsName, uid: rsUid, hash };
      add(1, nsPath('apps/v1', ns, 'deployments'), app.name, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app.name, namespace: ns, uid, labels, creationTimestamp: created, generation: 1 },
        spec: {
          replicas: wl.replicas,
          selector: { matchLabels: { app: app.name } },
          template,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        },
        status: {
          replicas: wl.replicas,
          readyReplicas: wl.replicas,
          availableReplicas: wl.replicas,
          observedGeneration: 1,
        },
      });
      const rsLabels = { ...labels, 'pod-template-hash': hash };
      add(2, nsPath('apps/v1', ns, 'replicasets'), rsName, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace: ns,
          uid: rsUid,
          labels: rsLabels,
          creationTimestamp: created,
          annotations: {
            'deployment.kubernetes.io/revision': '1',
            'deployment.kubernetes.io/desired-replicas': String(wl.replicas),
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: app.name,
              uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          replicas: wl.replicas,
          selector: { matchLabels: { app: app.name, 'pod-template-hash': hash } },
          template: { ...template, metadata: { labels: rsLabels } },
        },
        status: { replicas: wl.replicas, readyReplicas: wl.replicas, availableReplicas: wl.replicas },
      });
      for (let i = 0; i < wl.replicas; i++) {
        wl.pods.push(
          placePod(
            ns,
            `${rsName}-${rng.k8sString(5)}`,
            container,
            app.image,
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid },
            { kind: 'Deployment', name: app.name },
            rsLabels,
            { created },
          ),
        );
      }
      addService(ns, app.name, labels);
    } else if (app.kind === 'StatefulSet') {
      const revision = `${app.name}-${podTemplateHash(template)}`;
      add(1, nsPath('apps/v1', ns, 'statefulsets'), app.name, {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: app.name, namespace: ns, uid, labels, creationTimestamp: created, generation: 1 },
        spec: {
          replicas: app.replicas,
          serviceName: app.name,
          selector: { matchLabels: { app: app.name } },
          template,
          volumeClaimTemplates: app.pvc
            ? [
                {
                  metadata: { name: 'data' },
                  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
                },
              ]
            : [],
        },
        status: {
          replicas: app.replicas,
          readyReplicas: app.replicas,
          currentRevision: revision,
          updateRevision: revision,
        },
      });
      for (let i = 0; i < app.replicas; i++) {
        const podName = `${app.name}-${i}`;
        let pvc: string | undefined;
        if (app.pvc) {
          pvc = `data-${podName}`;
          addPvc(ns, pvc, labels, created);
        }
        wl.pods.push(
          placePod(
            ns,
            podName,
            container,
            app.image,
            { apiVersion: 'apps/v1', kind: 'StatefulSet', name: app.name, uid },
            { kind: 'StatefulSet', name: app.name },
            {
              ...labels,
              'controller-revision-hash': revision,
              'statefulset.kubernetes.io/pod-name': podName,
              'apps.kubernetes.io/pod-index': String(i),
            },
            { created, ...(pvc ? { pvc } : {}) },
          ),
        );
      }
      addService(ns, app.name, labels);
    } else {
      // CronJob -> Jobs named <cronjob>-<scheduledTime.Unix()/60> -> Pods.
      wl.jobs = [];
      const schedule = app.name.startsWith('hourly')
        ? '0 * * * *'
        : app.name.startsWith('nightly')
          ? '0 2 * * *'
          : '*/30 * * * *';
      add(1, nsPath('batch/v1', ns, 'cronjobs'), app.name, {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: app.name, namespace: ns, uid, labels, creationTimestamp: created },
        spec: {
          schedule,
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 1,
          jobTemplate: {
            spec: { backoffLimit: 6, template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } },
          },
        },
        status: {},
      });
      for (let j = 2; j >= 1; j--) {
        const scheduledMs = Math.floor((nowMs - j * 1_800_000) / 1_800_000) * 1_800_000;
        addJob(ns, wl, Math.floor(scheduledMs / 60_000), 'Succeeded', k8sTime(scheduledMs));
      }
    }
  }

  function addJob(ns: string, wl: WorkloadModel, scheduledMinute: number, phase: string, created: string): void {
    const jobName = `${wl.name}-${scheduledMinute}`;
    const jobUid = rng.uuid();
    wl.jobs?.push({ name: jobName, uid: jobUid });
    const podLabels = {
      'batch.kubernetes.io/controller-uid': jobUid,
      'batch.kubernetes.io/job-name': jobName,
      'controller-uid': jobUid,
      'job-name': jobName,
    };
    add(2, nsPath('batch/v1', ns, 'jobs'), jobName, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName,
        namespace: ns,
        uid: jobUid,
        labels: podLabels,
        creationTimestamp: created,
        annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': k8sTime(scheduledMinute * 60_000) },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: wl.name,
            uid: wl.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        backoffLimit: 6,
        completions: 1,
        parallelism: 1,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': jobUid } },
        template: {
          metadata: { labels: podLabels },
          spec: { containers: [{ name: wl.container, image: wl.image }], restartPolicy: 'Never' },
        },
      },
      status:
        phase === 'Succeeded'
          ? { succeeded: 1, startTime: created, completionTime: created }
          : { active: 1, startTime: created },
    });
    wl.pods.push(
      placePod(
        ns,
        `${jobName}-${rng.k8sString(5)}`,
        wl.container,
        wl.image,
        { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid },
        { kind: 'CronJob', name: wl.name },
        podLabels,
        { phase, created },
      ),
    );
  }

  function addDaemonSet(ns: string, name: string, image: string): void {
    const uid = rng.uuid();
    const labels = { 'app.kubernetes.io/name': name, 'k8s-app': name };
    const template = { metadata: { labels }, spec: { containers: [{ name, image }] } };
    const revision = podTemplateHash(template);
    const created = ts(1800 + model.workloads.length * 10);
    const wl: WorkloadModel = {
      kind: 'DaemonSet',
      namespace: ns,
      name,
      uid,
      image,
      container: name,
      replicas: model.nodes.length,
      pods: [],
    };
    model.workloads.push(wl);
    add(1, nsPath('apps/v1', ns, 'daemonsets'), name, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: ns, uid, labels, creationTimestamp: created, generation: 1 },
      spec: { selector: { matchLabels: { 'k8s-app': name } }, template, updateStrategy: { type: 'RollingUpdate' } },
      status: {
        currentNumberScheduled: model.nodes.length,
        desiredNumberScheduled: model.nodes.length,
        numberReady: model.nodes.length,
        numberAvailable: model.nodes.length,
      },
    });
    for (const node of model.nodes) {
      wl.pods.push(
        placePod(
          ns,
          `${name}-${rng.k8sString(5)}`,
          name,
          image,
          { apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid },
          { kind: 'DaemonSet', name },
          { ...labels, 'controller-revision-hash': revision, 'pod-template-generation': '1' },
          { node, created },
        ),
      );
    }
  }

  function addPvc(ns: string, name: string, labels: Record<string, string>, created: string): void {
    const uid = rng.uuid();
    const volume = `pvc-${rng.uuid()}`;
    model.pvcs.push({ namespace: ns, name, uid, volume });
    add(1, nsPath('', ns, 'persistentvolumeclaims'), name, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: ns,
        uid,
        labels,
        creationTimestamp: created,
        annotations: {
          'pv.kubernetes.io/bind-completed': 'yes',
          'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com',
        },
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '20Gi' } },
        storageClassName: 'gp3',
        volumeName: volume,
      },
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '20Gi' } },
    });
  }

  function addService(ns: string, name: string, labels: Record<string, string>): void {
    const uid = rng.uuid();
    model.services.push({ namespace: ns, name, uid });
    add(1, nsPath('', ns, 'services'), name, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, uid, labels, creationTimestamp: ts(3600) },
      spec: {
        type: 'ClusterIP',
        clusterIP: `172.20.${rng.int(0, 255)}.${rng.int(1, 254)}`,
        selector: { app: labels['app'] ?? name },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    });
  }
}

export function healthyNodeConditions(at: string): unknown[] {
  return [
    cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', at),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', at),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', at),
    cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', at),
  ];
}

export function cond(
  type: string,
  status: string,
  reason: string,
  message: string,
  at: string,
): Record<string, string> {
  return { type, status, lastHeartbeatTime: at, lastTransitionTime: at, reason, message };
}

/** Planned uid -> server uid (and the server resourceVersion), filled as objects are created. */
export class UidMap {
  #uids = new Map<string, string>();
  #rvs = new Map<string, string>();
  set(planned: string, actual: string, rv?: string): void {
    this.#uids.set(planned, actual);
    if (rv) this.#rvs.set(planned, rv);
  }
  uid(planned: string): string {
    return this.#uids.get(planned) ?? planned;
  }
  rv(planned: string): string | undefined {
    return this.#rvs.get(planned);
  }
  get size(): number {
    return this.#uids.size;
  }
}

/** Rewrites the planned uids of a body (ownerReferences, controller-uid labels and selectors) to server uids. */
export function resolveBody(body: Record<string, unknown>, uids: UidMap): Record<string, unknown> {
  if (uids.size === 0) return body;
  const text = JSON.stringify(body).replace(
    /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g,
    (u) => uids.uid(u),
  );
  return JSON.parse(text) as Record<string, unknown>;
}

export interface ApplyStats {
  created: number;
  statusUpdates: number;
  wallMs: number;
}

/**
 * Creates the planned cluster through the API, level by level (owners before dependents), with bounded concurrency.
 * The API server may drop `status` on create (as a real one does for pods); then the status is written through the
 * status subresource, the way kubelet and controllers report it.
 */
export async function applyCluster(
  client: KubeClient,
  model: ClusterModel,
  uids: UidMap,
  concurrency = 32,
): Promise<ApplyStats> {
  const t0 = performance.now();
  const stats: ApplyStats = { created: 0, statusUpdates: 0, wallMs: 0 };
  const levels = [...new Set(model.objects.map((o) => o.level))].sort((a, b) => a - b);
  for (const level of levels) {
    const objs = model.objects.filter((o) => o.level === level);
    let next = 0;
    const worker = async () => {
      while (next < objs.length) {
        const o = objs[next++] as PlannedObject;
        const planned = (o.body['metadata'] as { uid: string }).uid;
        const body = resolveBody(o.body, uids);
        let res = await client.request('POST', o.collection, body);
        if (res.status === 409) {
          // Already there (kube-system and default exist from the start): adopt it and add our labels.
          const labels = (body['metadata'] as { labels?: unknown }).labels;
          res = await client.request('PATCH', o.path, { metadata: { labels } }, 'application/merge-patch+json');
        }
        if (res.status >= 300)
          throw new KubeApiError(`create ${o.path}: HTTP ${res.status} ${statusMessage(res.body)}`, {
            status: res.status,
            retryable: res.status >= 500,
          });
        const created = res.body as {
          metadata?: { uid?: string; resourceVersion?: string };
          status?: { phase?: string; podIP?: string; conditions?: unknown[] };
        };
        stats.created++;
        let rv = created.metadata?.resourceVersion;
        if (created.metadata?.uid) uids.set(planned, created.metadata.uid, rv);
        const wantStatus = body['status'] as Record<string, unknown> | undefined;
        if (wantStatus && !statusMatches(wantStatus, created.status)) {
          rv = await writeStatus(client, o.path, { status: wantStatus });
          stats.statusUpdates++;
          if (created.metadata?.uid) uids.set(planned, created.metadata.uid, rv);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, objs.length) }, worker));
  }
  stats.wallMs = performance.now() - t0;
  return stats;
}

function statusMatches(want: Record<string, unknown>, got: Record<string, unknown> | undefined): boolean {
  if (!got) return false;
  for (const k of ['phase', 'podIP', 'conditions']) {
    if (k in want && JSON.stringify(want[k]) !== JSON.stringify(got[k])) return false;
  }
  return true;
}

/** Merge-patches an object's status via /status, falling back to the main resource if the server has no subresource. */
export async function writeStatus(client: KubeClient, path: string, patch: unknown): Promise<string | undefined> {
  let res = await client.request('PATCH', `${path}/status`, patch, 'application/merge-patch+json');
  if (res.status === 404 || res.status === 405)
    res = await client.request('PATCH', path, patch, 'application/merge-patch+json');
  if (res.status >= 300) return undefined;
  return (res.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
}

export function podRef(pod: PodModel, uids?: UidMap, fieldPath?: string): ObjectRef {
  const ref: ObjectRef = { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid, apiVersion: 'v1' };
  const rv = uids?.rv(pod.uid);
  if (rv) ref.resourceVersion = rv;
  if (fieldPath) ref.fieldPath = fieldPath;
  return ref;
}

export function podPath(pod: { namespace: string; name: string }): string {
  return `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`;
}
