// Runs every test of the repo with Node's test runner (one runner for the whole repo).
// Usage: node scripts/run-tests.ts [PATH_PREFIX...]   e.g. node scripts/run-tests.ts libs/bus
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const prefixes = process.argv.slice(2);
const files = globSync(['libs/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts'])
  .filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no test files match ${prefixes.join(' ') || 'the repo'}\n`);
  process.exit(1);
}
// Integration tests wait on I/O far more than they use CPU, so run more files than cores.
const concurrency = process.env.KEC_TEST_CONCURRENCY ?? '4';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
