// ./dev sim: start kube-sim, build a realistic cluster, play scenarios at a rate, write the ground truth.
//   ./dev sim --port 6443 --scenario all --rate 20 --duration 10m --seed 7

import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseDuration } from './driver/clock.ts';
import { runScenarios, selectScenarios } from './driver/run.ts';
import { scenarioNames } from './driver/scenarios/index.ts';
import { startKubeSim } from './server/sim.ts';

const num = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative number`);
  return n;
};
const duration = (v: string) => {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const program = new Command()
  .name('dev sim')
  .description('kube-sim with a realistic cluster and the scenario driver')
  .option('--port <port>', 'port to listen on (0 = any free port)', num('port'), 6443)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--scenario <names>', `comma-separated scenarios, "all" or "none" (${scenarioNames().join(', ')})`, 'all')
  .option(
    '--rate <events_per_s>',
    'target event occurrences per virtual second (wall second at --speed 1); noise fills around incidents',
    num('rate'),
    20,
  )
  .option('--duration <d>', 'how long to play, e.g. 30s, 10m, 2h; 0 = until Ctrl-C', duration, 0)
  .option('--speed <x>', 'virtual seconds per wall second (compresses back-offs and series timers)', num('speed'), 1)
  .option('--seed <n>', 'seed for the cluster and the scenarios', '1')
  .option('--event-ttl <s>', 'event TTL in seconds (--event-ttl of kube-apiserver)', num('event-ttl'), 3600)
  .option('--nodes <n>', 'number of nodes', num('nodes'), 6)
  .option('--tls', 'serve HTTPS with a self-signed CA in the kubeconfig', false)
  .option('--token <t>', 'bearer token to accept (random by default)')
  .option('--ground-truth <path>', 'where to write the ground truth JSON (default: in the kubeconfig directory)')
  .option('--no-repeat', 'play each scenario once instead of restarting it')
  .option('--overlap', 'scenarios overlap in time on shared nodes and workloads (pods stay exclusive)', false)
  .option(
    '--history-window <s>',
    'seconds of watch history kept (etcd compaction); older RVs get 410',
    num('history-window'),
    300,
  )
  .option(
    '--bookmark-interval <s>',
    'seconds between the periodic BOOKMARKs sent to watches that asked (cached kinds, as kube-apiserver); 0 = none',
    num('bookmark-interval'),
    60,
  )
  .option('--latency <ms>', 'fault: delay every API request by this many ms', num('latency'), 0)
  .option(
    '--fail-fraction <f>',
    'fault: fail this fraction (0-1) of API requests with --fail-status',
    num('fail-fraction'),
    0,
  )
  .option(
    '--fail-status <code>',
    'fault: status for --fail-fraction, 500 or 429 (with Retry-After)',
    num('fail-status'),
    500,
  )
  .option('--close-watches-every <d>', 'fault: end every open watch cleanly at this interval, e.g. 5m', duration, 0)
  .option('--compact-every <d>', 'fault: compact and close watches silently (no 410) at this interval', duration, 0)
  .option('--watch-410-every <d>', 'fault: answer the next watch with ERROR 410 at this interval', duration, 0)
  .parse();

const o = program.opts<{
  port: number;
  host: string;
  scenario: string;
  rate: number;
  duration: number;
  speed: number;
  seed: string;
  eventTtl: number;
  nodes: number;
  tls: boolean;
  token?: string;
  groundTruth?: string;
  repeat: boolean;
  overlap: boolean;
  historyWindow: number;
  bookmarkInterval: number;
  latency: number;
  failFraction: number;
  failStatus: number;
  closeWatchesEvery: number;
  compactEvery: number;
  watch410Every: number;
}>();
if (o.failFraction > 1) program.error('--fail-fraction must be between 0 and 1');
if (o.failStatus !== 500 && o.failStatus !== 429) program.error('--fail-status must be 500 or 429');

let scenarios: string[] = [];
try {
  scenarios = selectScenarios(o.scenario);
} catch (e) {
  program.error((e as Error).message);
}

const sim = await startKubeSim({
  port: o.port,
  host: o.host,
  eventTtlSeconds: o.eventTtl,
  historyWindowSeconds: o.historyWindow,
  bookmarkIntervalSeconds: o.bookmarkInterval,
  tls: o.tls,
  ...(o.token ? { token: o.token } : {}),
});
const dataDir = sim.kubeconfigPath.replace(/\/kubeconfig$/, '');
const groundTruthPath = o.groundTruth ?? join(dataDir, 'ground-truth.json');
console.log(`kube-sim listening on ${sim.url}`);
console.log(`  kubeconfig:  ${sim.kubeconfigPath}`);
console.log(`  export KUBECONFIG=${sim.kubeconfigPath}`);
if (o.tls) console.log(`  kubectl --kubeconfig ${sim.kubeconfigPath} get events -A --watch`);
else console.log('  kubectl does not send bearer tokens over plain http: start with --tls to use kubectl');
console.log(`  curl -H 'Authorization: Bearer ${sim.token}' ${o.tls ? '-k ' : ''}${sim.url}/api/v1/events`);
console.log(`  admin:       ${sim.url}/_sim/stats (GET), ${sim.url}/_sim/<fault> (POST), see tools/kube-sim/README.md`);

// Faults from the command line: persistent ones now, one-shot ones on a wall-clock schedule.
if (o.latency > 0) sim.faults.setLatency(o.latency);
if (o.failFraction > 0) sim.faults.failFraction(o.failFraction, o.failStatus as 500 | 429);
const schedules: Array<[number, string, () => void]> = [
  [o.closeWatchesEvery, 'closing every watch', () => sim.faults.closeWatches()],
  [o.compactEvery, 'compacting and closing watches silently', () => sim.faults.compactSilently()],
  [o.watch410Every, 'answering the next watch with ERROR 410', () => sim.faults.failNextWatches(1)],
];
const timers = schedules
  .filter(([every]) => every > 0)
  .map(([every, what, fault]) =>
    setInterval(() => {
      console.log(`fault: ${what}`);
      fault();
    }, every),
  );

const ac = new AbortController();
let stopping = false;
const onSignal = () => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log('\nstopping (Ctrl-C again to force)...');
  ac.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const ended = new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
try {
  const result = await runScenarios({
    sim,
    scenarios,
    rate: scenarios.length === 0 ? 0 : o.rate,
    durationMs: o.duration * o.speed, // --duration is wall time; the driver counts virtual time
    speed: o.speed,
    seed: o.seed,
    repeat: o.repeat,
    overlap: o.overlap,
    groundTruthPath,
    signal: ac.signal,
    clusterOptions: { nodes: o.nodes },
    onClusterReady: (m) =>
      console.log(
        `cluster built: ${m.nodes.length} nodes, ${m.namespaces.length} namespaces, ${m.workloads.length} workloads, ${m.pods.length} pods` +
          (scenarios.length
            ? `; playing ${scenarios.join(', ')} at ${o.rate} events/s`
            : '; no scenarios (Ctrl-C to stop)'),
      ),
  });
  const s = result.stats;
  console.log(
    `wrote ${s.creates} creates + ${s.patches} patches (${Math.round(s.writesPerSecond)}/s), ${s.failed} failed; ` +
      `${result.groundTruth.totals.incidents} incidents, ${result.groundTruth.totals.noiseEvents} noise events`,
  );
  if (s.lastError) console.log(`last error: ${s.lastError}`);
  console.log(`ground truth: ${groundTruthPath}`);
  if (scenarios.length === 0 || o.duration === 0) {
    if (!ac.signal.aborted) await ended;
  }
} finally {
  for (const t of timers) clearInterval(t);
  await sim.close();
}
