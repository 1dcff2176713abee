// Runs every test of the repo with Node's test runner (one runner for the whole repo).
// Usage: node scripts/run-tests.ts [PATH_PREFIX...]   e.g. node scripts/run-tests.ts libs/bus
// Besides the spec output on the terminal, TAP reports with every failure's details go to .run/test-report*.tap.
import { spawnSync } from 'node:child_process';
import { globSync, mkdirSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const prefixes = process.argv.slice(2);
const files = globSync([
  'libs/*/test/**/*.test.ts',
  'services/*/test/**/*.test.ts',
  'tools/*/test/**/*.test.ts',
  'deploy/test/**/*.test.ts',
  'e2e/test/**/*.test.ts',
])
  .filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no test files match ${prefixes.join(' ') || 'the repo'}\n`);
  process.exit(1);
}

// Test streams and buckets carry a random 8-hex-digit id (T<id>_KEC_RAW, KV_<name>_<id>) and are deleted by their
// tests. A test process killed mid-run leaves them behind, and JetStream reserves each stream's max_bytes on disk,
// so leftovers would starve later runs of storage. Sweep those older than an hour (a concurrent run's are younger).
async function sweepStaleTestStreams(): Promise<void> {
  const testName = /^(?:[A-Z][0-9a-f]{8}_.+|KV_.+_[0-9a-f]{8})$/;
  const cutoff = Date.now() - 3600_000;
  let nc: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    nc = await connect({ servers: process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222', timeout: 3000 });
    const jsm = await jetstreamManager(nc);
    let swept = 0;
    for await (const s of jsm.streams.list()) {
      if (testName.test(s.config.name) && Date.parse(s.created) < cutoff) {
        await jsm.streams.delete(s.config.name);
        swept++;
      }
    }
    if (swept > 0) process.stderr.write(`[tests] removed ${swept} stale test streams left by killed test runs\n`);
  } catch (err) {
    process.stderr.write(`[tests] could not sweep stale test streams: ${(err as Error).message}\n`);
  } finally {
    await nc?.close();
  }
}
await sweepStaleTestStreams();

mkdirSync('.run', { recursive: true });
// The full variants (KEC_TEST_FULL=1, `./dev test --full`) run for minutes per test: 9 min for the 244,000-event
// pipeline, 7 min for the fault suite with its 60 s outages.
const FULL = process.env.KEC_TEST_FULL === '1';
const TEST_TIMEOUT_MS = FULL ? 30 * 60_000 : 5 * 60_000;
const RUN_DEADLINE_MS = Number(process.env.KEC_TEST_DEADLINE_MS ?? (FULL ? 120 : 30) * 60_000);
// Integration tests wait on I/O far more than they use CPU, so run more files than cores. End-to-end files each
// start a whole pipeline of processes: they run afterwards, one at a time, so they do not starve each other.
function run(label: string, group: string[], concurrency: string, tap: string): number {
  if (group.length === 0) return 0;
  process.stderr.write(`[tests] ${label}: ${group.length} files\n`);
  const result = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...group,
    ],
    // A file that leaves a handle open would hang the run: fail it as a whole after a deadline instead.
    // (--test-force-exit is not an option: it can end the run before every file was started, and exit 0.)
    { stdio: 'inherit', timeout: RUN_DEADLINE_MS, killSignal: 'SIGKILL' },
  );
  if (result.error || result.signal) {
    process.stderr.write(`[tests] ${label} did not finish: ${result.error?.message ?? result.signal}\n`);
    return 1;
  }
  return result.status ?? 1;
}

// deploy/test/grafana-sql.test.ts runs a scenario through the whole pipeline too.
const isE2e = (f: string) => f.startsWith('e2e/') || f === 'deploy/test/grafana-sql.test.ts';
const failed =
  run(
    'unit and integration',
    files.filter((f) => !isE2e(f)),
    process.env.KEC_TEST_CONCURRENCY ?? '4',
    '.run/test-report.tap',
  ) | run('end to end', files.filter(isE2e), '1', '.run/test-report-e2e.tap');
process.exit(failed ? 1 : 0);
