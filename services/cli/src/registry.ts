// Every service `kec run` knows: name -> a lazy import of its ServiceDefinition.
// Adding a service is one line. Order matters: `kec run all` starts services in this order (pipeline order:
// watcher, enricher, correlator, writer, alerter, api) and stops them in reverse on SIGTERM.
// Imports are lazy so `kec version` or `kec run watcher` never loads the other services' dependencies.
import type { ServiceDefinition } from '@kec/runtime';

export type ServiceLoader = () => Promise<ServiceDefinition>;

export const registry: Readonly<Record<string, ServiceLoader>> = {
  watcher: () => import('@kec/watcher').then((m) => m.watcherService),
  enricher: () => import('@kec/enricher').then((m) => m.enricherService),
  correlator: () => import('@kec/correlator').then((m) => m.correlatorService),
  writer: () => import('@kec/writer').then((m) => m.writerService),
  alerter: () => import('@kec/alerter').then((m) => m.alerterService),
  // HTTP API (events, timelines, incidents, top, series, live stream, read-only SQL); with the embedded store it
  // must run in the process that holds the store, as here.
  api: () => import('@kec/api').then((m) => m.apiService),
  // Read-only SQL over the store (POST /sql), so `kec sql` can query the embedded store this process holds.
  sql: () => import('./sql-service.ts').then((m) => m.sqlService),
};
