// The scenario catalogue.
import type { ScenarioContext } from '../context.ts';
import { hpaMetrics, hpaRescale, jobFailure, pdbNoPods } from './controllers.ts';
import { kernelProblems, nodeFailure, schedulingNoScaleUp, schedulingScaleUp, volumeTrouble } from './infra.ts';
import { crashLoop, imagePull, oomKilled, probeFailures, rollout } from './workload.ts';

export interface Scenario {
  name: string;
  summary: string;
  run: (ctx: ScenarioContext) => Promise<void>;
}

export const SCENARIOS: Scenario[] = [
  { name: 'crashloop', summary: 'a container exits non-zero and enters CrashLoopBackOff', run: crashLoop },
  { name: 'image-pull', summary: 'a Deployment rolls to an image tag that does not exist', run: imagePull },
  { name: 'oomkilled', summary: 'a container is OOMKilled repeatedly and backs off', run: oomKilled },
  {
    name: 'scheduling-scaleup',
    summary: 'pods pending on cpu; cluster-autoscaler adds a node',
    run: schedulingScaleUp,
  },
  { name: 'scheduling-noscaleup', summary: 'pods pending; cluster-autoscaler cannot help', run: schedulingNoScaleUp },
  { name: 'node-failure', summary: 'memory pressure, evictions, NotReady, taint-manager evictions', run: nodeFailure },
  { name: 'volume', summary: 'FailedAttachVolume / FailedMount; pod stuck ContainerCreating', run: volumeTrouble },
  { name: 'rollout', summary: 'a healthy rolling update of a Deployment', run: rollout },
  { name: 'probes', summary: 'readiness and liveness probe failures with restarts', run: probeFailures },
  { name: 'pdb-nopods', summary: 'a PodDisruptionBudget matching no pods, NoPods counting for days', run: pdbNoPods },
  { name: 'job-failure', summary: "a CronJob's Job fails until BackoffLimitExceeded", run: jobFailure },
  { name: 'hpa-rescale', summary: 'the HPA scales a Deployment out on cpu', run: hpaRescale },
  { name: 'hpa-metrics', summary: 'the HPA cannot get cpu metrics', run: hpaMetrics },
  { name: 'kernel', summary: 'node-problem-detector: KernelOops, TaskHung or OOMKilling', run: kernelProblems },
];

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}
