// @kec/kube-sim: a Kubernetes API simulator (server) and a scenario driver.
// Biome keeps these exports sorted by path: ./driver/* belongs to the driver (DRIVER.md), ./server/* to the server
// (README.md). Add exports anywhere; the sort places them.

export type { Clock } from './driver/clock.ts';
export { microTime, parseDuration, VirtualClock } from './driver/clock.ts';
export type { ClusterModel, ClusterOptions, NodeModel, ObjectRef, PodModel, WorkloadModel } from './driver/cluster.ts';
export { applyCluster, planCluster, UidMap } from './driver/cluster.ts';
export { DriverConfigError, KubeApiError } from './driver/errors.ts';
export type { GroundTruth, GtEvent, GtIncident, Tag } from './driver/ground-truth.ts';
export { GROUND_TRUTH_SCHEMA, GroundTruthLedger } from './driver/ground-truth.ts';
export { KubeClient } from './driver/http.ts';
export type { CoreRecorderOptions, WriteStats } from './driver/recorders.ts';
export { COMBINED_PREFIX, CoreRecorder, EventSink, EventsRecorder } from './driver/recorders.ts';
export type { RunOptions, RunResult, SimHandle } from './driver/run.ts';
export { runScenarios, selectScenarios } from './driver/run.ts';
export { SCENARIOS, scenarioNames } from './driver/scenarios/index.ts';
export { WriteQueue } from './driver/write-queue.ts';
export type { StatusBody } from './server/errors.ts';
export { KubeStatusError } from './server/errors.ts';
export type { DenyRule, RequestLogEntry } from './server/server.ts';
export type { InProcessStore, KubeSim, KubeSimOptions, SimClock, SimFaults, SimStats } from './server/sim.ts';
export { startKubeSim } from './server/sim.ts';
