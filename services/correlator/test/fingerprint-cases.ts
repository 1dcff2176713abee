// Fingerprint case tables. SAME: pairs of events that are one kind of problem on different objects (their
// fingerprints must be equal). DIFFERENT: pairs under one reason that are different problems (must differ).
import type { FingerprintInput } from '../src/index.ts';

type Ev = FingerprintInput;
const pod = (reason: string, note: string, name: string, workload?: string, node?: string): Ev => ({
  reason,
  note,
  regarding: { kind: 'Pod', name },
  names: { workload, node },
});
const node = (reason: string, note: string, name: string): Ev => ({
  reason,
  note,
  regarding: { kind: 'Node', name },
  names: { node: name },
});
const obj = (kind: string, reason: string, note: string, name: string, workload?: string): Ev => ({
  reason,
  note,
  regarding: { kind, name },
  names: { workload },
});

export const SAME: [string, Ev, Ev][] = [
  [
    'pod and workload names (BackOff)',
    pod(
      'BackOff',
      'Back-off restarting failed container app in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'BackOff',
      'Back-off restarting failed container app in pod api-5c8b7d9f6c-q9z7m_pay(0b5c9d52-1a0e-4c1b-9f53-7f8a6f0f2d11)',
      'api-5c8b7d9f6c-q9z7m',
      'api',
    ),
  ],
  [
    'scheduled onto another node and namespace',
    pod(
      'Scheduled',
      'Successfully assigned shop/web-7d9f8c6b5d-x2k4p to ip-10-0-1-23.eu-west-1.compute.internal',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod('Scheduled', 'Successfully assigned data/kafka-2 to gke-prod-pool-1-9f8e7d6c-x2k4', 'kafka-2', 'kafka'),
  ],
  [
    'StatefulSet pods of different StatefulSets',
    obj('StatefulSet', 'SuccessfulCreate', 'create Pod kafka-2 in StatefulSet kafka successful', 'kafka', 'kafka'),
    obj('StatefulSet', 'SuccessfulCreate', 'create Pod redis-0 in StatefulSet redis successful', 'redis', 'redis'),
  ],
  [
    'ReplicaSet scaling, replica counts',
    obj('Deployment', 'ScalingReplicaSet', 'Scaled up replica set web-7d9f8c6b5d from 3 to 5', 'web', 'web'),
    obj('Deployment', 'ScalingReplicaSet', 'Scaled up replica set api-5c8b7d9f6c from 1 to 12', 'api', 'api'),
  ],
  [
    'node names (NodeNotReady), AWS and AKS',
    node(
      'NodeNotReady',
      'Node ip-10-0-1-23.eu-west-1.compute.internal status is now: NodeNotReady',
      'ip-10-0-1-23.eu-west-1.compute.internal',
    ),
    node(
      'NodeNotReady',
      'Node aks-nodepool1-12345678-vmss000003 status is now: NodeNotReady',
      'aks-nodepool1-12345678-vmss000003',
    ),
  ],
  [
    'boot ids',
    node(
      'Rebooted',
      'Node ip-10-0-1-23.eu-west-1.compute.internal has been rebooted, boot id: 6c3e2f1a-8b7d-4c5e-9f10-2a3b4c5d6e7f',
      'ip-10-0-1-23.eu-west-1.compute.internal',
    ),
    node('Rebooted', 'Node worker-3 has been rebooted, boot id: 0b5c9d52-1a0e-4c1b-9f53-7f8a6f0f2d11', 'worker-3'),
  ],
  [
    'service and endpoints names',
    obj(
      'Endpoints',
      'FailedToUpdateEndpoint',
      'Failed to update endpoint shop/web: Operation cannot be fulfilled on endpoints "web": the object has been modified',
      'web',
    ),
    obj(
      'Endpoints',
      'FailedToUpdateEndpoint',
      'Failed to update endpoint payments/ledger: Operation cannot be fulfilled on endpoints "ledger": the object has been modified',
      'ledger',
    ),
  ],
  [
    'load balancer hosts list and node count',
    obj(
      'Service',
      'UpdateLoadBalancerFailed',
      'Error updating load balancer with new hosts [ip-10-0-1-23.eu-west-1.compute.internal ip-10-0-2-7.eu-west-1.compute.internal] [node names limited, total number of nodes: 2], error: Throttling: Rate exceeded',
      'web',
    ),
    obj(
      'Service',
      'UpdateLoadBalancerFailed',
      'Error updating load balancer with new hosts [ip-10-0-3-9.eu-west-1.compute.internal ip-10-0-1-4.eu-west-1.compute.internal ip-10-0-2-8.eu-west-1.compute.internal] [node names limited, total number of nodes: 3], error: Throttling: Rate exceeded',
      'ledger',
    ),
  ],
  [
    'cluster-autoscaler node groups and sizes',
    pod(
      'TriggeredScaleUp',
      'pod triggered scale-up: [{eks-general-2024 6->7 (max: 10)}]',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'TriggeredScaleUp',
      'pod triggered scale-up: [{eks-gpu-a100-20251101 1->3 (max: 4)}]',
      'train-5c8b7d9f6c-q9z7m',
      'train',
    ),
  ],
  [
    'set ordering (unattached volumes)',
    pod(
      'FailedMount',
      'Unable to attach or mount volumes: unmounted volumes=[data config], unattached volumes=[config data kube-api-access-x2k4p]: timed out waiting for the condition',
      'web-0',
      'web',
    ),
    pod(
      'FailedMount',
      'Unable to attach or mount volumes: unmounted volumes=[config data], unattached volumes=[kube-api-access-q9z7m data config]: timed out waiting for the condition',
      'api-0',
      'api',
    ),
  ],
  [
    'scheduler counts',
    pod(
      'FailedScheduling',
      '0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'FailedScheduling',
      '0/12 nodes are available: 12 Insufficient cpu. preemption: 0/12 nodes are available: 12 No preemption victims found for incoming pod.',
      'api-5c8b7d9f6c-q9z7m',
      'api',
    ),
  ],
  [
    'image sizes and pull durations',
    pod(
      'Pulled',
      'Successfully pulled image "nginx:1.27" in 1.627s (1.627s including waiting). Image size: 71012345 bytes.',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'Pulled',
      'Successfully pulled image "registry.example.com/api:v9" in 830ms (2.1s including waiting). Image size: 12345 bytes.',
      'api-5c8b7d9f6c-q9z7m',
      'api',
    ),
  ],
  [
    'job names of different CronJobs',
    obj('CronJob', 'SuccessfulCreate', 'Created job report-29000000', 'report', 'report'),
    obj('CronJob', 'SuccessfulCreate', 'Created job backup-29000060', 'backup', 'backup'),
  ],
  [
    'eviction sizes',
    pod(
      'Evicted',
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91264Ki. Container web was using 1709404Ki, request is 512Mi, has larger consumption of memory.',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'Evicted',
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 12000Ki. Container api was using 900000Ki, request is 256Mi, has larger consumption of memory.',
      'api-5c8b7d9f6c-q9z7m',
      'api',
    ),
  ],
  [
    'route controller: route name, CIDR and node',
    node(
      'FailedToCreateRoute',
      'Could not create route 5a8f1e2c-0b7d-4c3e-9f10-2a3b4c5d6e7f 10.244.3.0/24 for node ip-10-0-1-23.eu-west-1.compute.internal after 1.102s: RouteLimitExceeded',
      'ip-10-0-1-23.eu-west-1.compute.internal',
    ),
    node(
      'FailedToCreateRoute',
      'Could not create route 0b5c9d52-1a0e-4c1b-9f53-7f8a6f0f2d11 10.244.9.0/24 for node worker-9 after 2.5s: RouteLimitExceeded',
      'worker-9',
    ),
  ],
  [
    'taint eviction of pods in other namespaces',
    pod('TaintManagerEviction', 'Marking for deletion Pod shop/web-7d9f8c6b5d-x2k4p', 'web-7d9f8c6b5d-x2k4p', 'web'),
    pod('TaintManagerEviction', 'Marking for deletion Pod data/kafka-2', 'kafka-2', 'kafka'),
  ],
  [
    'DaemonSet failed pod on another node',
    obj(
      'DaemonSet',
      'FailedDaemonPod',
      'Found failed daemon pod kube-system/fluent-bit-x2k4p on node ip-10-0-1-23.eu-west-1.compute.internal, will try to kill it',
      'fluent-bit',
      'fluent-bit',
    ),
    obj(
      'DaemonSet',
      'FailedDaemonPod',
      'Found failed daemon pod monitoring/node-exporter-q9z7m on node worker-3.internal.example, will try to kill it',
      'node-exporter',
      'node-exporter',
    ),
  ],
];

export const DIFFERENT: [string, Ev, Ev][] = [
  [
    'insufficient cpu vs node affinity',
    pod('FailedScheduling', '0/6 nodes are available: 6 Insufficient cpu.', 'web-7d9f8c6b5d-x2k4p', 'web'),
    pod(
      'FailedScheduling',
      "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector.",
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
  ],
  [
    'insufficient cpu vs insufficient memory',
    pod('FailedScheduling', '0/6 nodes are available: 6 Insufficient cpu.', 'web-7d9f8c6b5d-x2k4p', 'web'),
    pod('FailedScheduling', '0/6 nodes are available: 6 Insufficient memory.', 'web-7d9f8c6b5d-x2k4p', 'web'),
  ],
  [
    'liveness vs readiness',
    pod('Unhealthy', 'Liveness probe failed: HTTP probe failed with statuscode: 500', 'web-7d9f8c6b5d-x2k4p', 'web'),
    pod('Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 500', 'web-7d9f8c6b5d-x2k4p', 'web'),
  ],
  [
    'missing secret vs image pull',
    pod('Failed', 'Error: secret "db" not found', 'web-7d9f8c6b5d-x2k4p', 'web'),
    pod(
      'Failed',
      'Failed to pull image "nginx:1.27": rpc error: code = NotFound desc = not found',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
  ],
  [
    'Multi-Attach vs missing configmap',
    pod(
      'FailedMount',
      'MountVolume.SetUp failed for volume "config" : configmap "web-config" not found',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'FailedMount',
      'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: timed out waiting for the condition',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
  ],
  [
    'quota refusal vs webhook refusal',
    obj(
      'ReplicaSet',
      'FailedCreate',
      'Error creating: pods "web-7d9f8c6b5d-x2k4p" is forbidden: exceeded quota: q, requested: requests.cpu=500m',
      'web-7d9f8c6b5d',
      'web',
    ),
    obj(
      'ReplicaSet',
      'FailedCreate',
      'Error creating: admission webhook "validation.gatekeeper.sh" denied the request: missing label',
      'web-7d9f8c6b5d',
      'web',
    ),
  ],
  [
    'taint eviction marked vs cancelled',
    pod('TaintManagerEviction', 'Marking for deletion Pod shop/web-7d9f8c6b5d-x2k4p', 'web-7d9f8c6b5d-x2k4p', 'web'),
    pod('TaintManagerEviction', 'Cancelling deletion of Pod shop/web-7d9f8c6b5d-x2k4p', 'web-7d9f8c6b5d-x2k4p', 'web'),
  ],
  [
    'scale-up refused for max size vs taints',
    pod(
      'NotTriggerScaleUp',
      "pod didn't trigger scale-up: 1 max node group size reached",
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'NotTriggerScaleUp',
      "pod didn't trigger scale-up: 1 node(s) had untolerated taint {dedicated: gpu}",
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
  ],
  [
    'different containers of one pod',
    pod(
      'BackOff',
      'Back-off restarting failed container app in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
    pod(
      'BackOff',
      'Back-off restarting failed container istio-proxy in pod web-7d9f8c6b5d-x2k4p_shop(4c1f0a9e-2b7d-4e31-9a52-0f6d3c2b1a10)',
      'web-7d9f8c6b5d-x2k4p',
      'web',
    ),
  ],
  [
    'memory vs disk eviction',
    pod('Evicted', 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91264Ki.', 'a-0', 'a'),
    pod(
      'Evicted',
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 91264Ki.',
      'a-0',
      'a',
    ),
  ],
];
