export type { HealthCheck, RunningService, ServiceContext, ServiceDefinition, SharedConfig } from './service.ts';
