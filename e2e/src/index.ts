export type { Isolation, KecProc, SimProc } from './harness.ts';
export {
  cleanup,
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
  sql,
  startKec,
  startSimProcess,
  WaitAborted,
  waitFor,
} from './harness.ts';
