// @kec/runtime: the service contract and the process that runs services (`kec run <service>|all`).

export type { LifecycleState, RunOptions } from './run.ts';
export { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, runServices } from './run.ts';
export type {
  HealthCheck,
  RunningService,
  ServiceContext,
  ServiceDefinition,
  ServiceSummary,
  SharedConfig,
} from './service.ts';
