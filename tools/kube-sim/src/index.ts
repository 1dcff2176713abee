// @kec/kube-sim: a Kubernetes API simulator (server) and a scenario driver.

export type { StatusBody } from './server/errors.ts';
// --- server (tools/kube-sim/src/server) ---
export { KubeStatusError } from './server/errors.ts';
export type { DenyRule } from './server/server.ts';
export type { InProcessStore, KubeSim, KubeSimOptions, SimClock, SimFaults, SimStats } from './server/sim.ts';
export { startKubeSim } from './server/sim.ts';

// --- driver (tools/kube-sim/src/driver): exports added by the driver engineer below this line ---
