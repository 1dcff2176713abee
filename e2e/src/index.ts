export { ContractTap, type ContractViolation, PUBLIC_CONTRACTS, type PublicKind } from './contracts.ts';
export type { EnrichmentCoverage, Isolation, KecProc, SimProc } from './harness.ts';
export {
  cleanup,
  createSimEvent,
  ENRICHMENT_STATUSES,
  enrichmentCoverage,
  formatCoverage,
  KEC_BIN,
  kecEnv,
  metricSum,
  NATS_URL,
  newIsolation,
  Proc,
  REDIS_URL,
  ROOT,
  ready,
  scrape,
  simEvent,
  sql,
  startKec,
  startSimProcess,
  WaitAborted,
  waitFor,
} from './harness.ts';
export { freePort, PrivateServer, reachable } from './infra.ts';
export { makePki, type Pki } from './pki.ts';
