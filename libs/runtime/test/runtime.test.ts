import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/two-services.ts', import.meta.url));

interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  logs: () => Record<string, unknown>[];
  waitFor<T>(what: string, find: () => T | undefined, timeoutMs?: number): Promise<T>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function run(env: Record<string, string>, args: string[] = []): Proc {
  const child = spawn(process.execPath, [FIXTURE, ...args], {
    env: { PATH: process.env.PATH ?? '', KEC_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  let err = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    stdout.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': 'exit' can come before the last stdout chunk is read, and the tests read the last lines.
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const logs = () => stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitFor = async <T>(what: string, find: () => T | undefined, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = find();
      if (v !== undefined) return v;
      if (Date.now() > deadline || done) {
        throw new Error(`timed out waiting for ${what}; stdout:\n${stdout.join('\n')}\nstderr:\n${err}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, stdout, stderr: () => err, logs, waitFor, exited };
}

async function portOf(p: Proc): Promise<number> {
  return p.waitFor(
    'telemetry port',
    () => p.logs().find((l) => l['msg'] === 'telemetry listening')?.['port'] as number,
  );
}

async function running(p: Proc): Promise<number> {
  const port = await portOf(p);
  await p.waitFor('kec running', () => p.logs().find((l) => l['msg'] === 'kec running'));
  return port;
}

async function status(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

const tmp = mkdtempSync(join(tmpdir(), 'kec-runtime-test-'));
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('runtime', { concurrency: true }, () => {
  test('runtime - SIGTERM drains both services in reverse start order and exits 0', async () => {
    const p = run({ KEC_CLUSTER: 'rt-test' });
    const port = await running(p);
    assert.deepEqual(await status(port, '/readyz'), { status: 200, body: '{"status":"ok"}\n' });
    assert.equal((await status(port, '/healthz')).status, 200);
    assert.match((await status(port, '/metrics')).body, /^kec_alpha_started_total 1$/m);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0, p.stderr());
    const markers = p.stdout.filter((l) => l.startsWith('STOPPED'));
    assert.deepEqual(markers, ['STOPPED beta aborted=true', 'STOPPED alpha aborted=true']);
    const states = p
      .logs()
      .filter((l) => l['state'] !== undefined)
      .map((l) => `${l['service']}:${l['state']}`);
    assert.deepEqual(states, [
      'kec:starting',
      'alpha:starting',
      'alpha:running',
      'beta:starting',
      'beta:running',
      'kec:running',
      'kec:draining',
      'beta:draining',
      'beta:stopped',
      'alpha:draining',
      'alpha:stopped',
      'kec:stopped',
    ]);
    assert.ok(p.logs().every((l) => l['cluster'] === 'rt-test'));
  });

  test('runtime - each service with a summary logs it at info every KEC_LOG_SUMMARY_INTERVAL_MS', async () => {
    const p = run({ KEC_LOG_SUMMARY_INTERVAL_MS: '100' });
    await running(p);
    const summaries = () => p.logs().filter((l) => l['summary'] === true);
    await p.waitFor('two summaries', () => (summaries().length >= 2 ? true : undefined));
    const [first, second] = summaries();
    assert.equal(first?.['service'], 'alpha');
    assert.equal(first?.['level'], 'info');
    assert.equal(first?.['msg'], '1 summaries so far');
    assert.equal(first?.['in'], 1);
    assert.equal(second?.['msg'], '2 summaries so far');
    assert.ok(
      summaries().every((l) => l['service'] === 'alpha'),
      'a service without summary() logs none',
    );
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

  test('runtime - no summary lines with KEC_LOG_SUMMARY_INTERVAL_MS=0, nothing at warn in a healthy run', async () => {
    const p = run({ KEC_LOG_SUMMARY_INTERVAL_MS: '0' });
    await running(p);
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
    assert.equal(p.logs().filter((l) => l['summary'] === true).length, 0);
    assert.deepEqual(
      p.logs().filter((l) => l['level'] !== 'info'),
      [],
    );
  });

  test('runtime - /readyz is 503 until every service reports ready', async () => {
    const p = run({ FIXTURE_NOT_READY: 'beta' });
    const port = await running(p);
    const r = await status(port, '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { status: 'not ready', reasons: { beta: 'warming up' } });
    assert.equal((await status(port, '/healthz')).status, 200, 'not ready is not unhealthy');
    p.child.kill('SIGUSR2'); // the fixture's beta becomes ready
    const deadline = Date.now() + 10_000;
    let last = r.status;
    while (last !== 200 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 20));
      last = (await status(port, '/readyz')).status;
    }
    assert.equal(last, 200);
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

  test('runtime - bad config exits 2 with one line on stderr', async () => {
    const p = run({ KEC_METRICS_PORT: 'abc' });
    const { code } = await p.exited;
    assert.equal(code, 2);
    assert.equal(p.stderr(), 'kec: config error: KEC_METRICS_PORT: must be an integer from 0 to 65535 (got "abc")\n');
    assert.deepEqual(p.stdout, []);
  });

  test('runtime - --config FILE is read, env still wins', async () => {
    const file = join(tmp, 'kec.yaml');
    writeFileSync(file, 'cluster: from-file\nlogLevel: warn\nmetricsPort: 70000\n');
    const bad = run({ KEC_METRICS_PORT: '' }, ['--config', file]);
    assert.equal((await bad.exited).code, 2);
    assert.equal(
      bad.stderr(),
      `kec: config error: ${file}: metricsPort: must be an integer from 0 to 65535 (got 70000)\n`,
    );
    const p = run({ KEC_METRICS_PORT: '0', KEC_LOG_LEVEL: 'info' }, [`--config=${file}`]);
    await running(p);
    assert.ok(p.logs().every((l) => l['cluster'] === 'from-file'));
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

  test('runtime - a failing start() logs the cause, stops what started, exits 1', async () => {
    const p = run({ FIXTURE_FAIL_START: 'beta' });
    const { code } = await p.exited;
    assert.equal(code, 1);
    const failed = p.logs().find((l) => l['service'] === 'beta' && l['state'] === 'failed');
    assert.ok(failed, 'beta failed is logged');
    const err = failed['err'] as { message: string; stack: string };
    assert.equal(err.message, 'beta cannot connect: ECONNREFUSED 127.0.0.1:1');
    assert.match(err.stack, /caused by: Error: ECONNREFUSED/);
    assert.deepEqual(
      p.stdout.filter((l) => l.startsWith('STOPPED')),
      ['STOPPED alpha aborted=true'],
    );
  });

  test('runtime - a service whose failed promise resolves drains everything and exits 1', async () => {
    const p = run({ FIXTURE_FAIL_RUN: 'alpha' });
    await running(p);
    p.child.kill('SIGHUP');
    const { code } = await p.exited;
    assert.equal(code, 1);
    const failed = p.logs().find((l) => l['service'] === 'alpha' && l['state'] === 'failed');
    assert.equal((failed?.['err'] as { message: string } | undefined)?.message, 'alpha consume loop died');
    assert.equal(failed?.['during'], 'run');
    assert.deepEqual(
      p.stdout.filter((l) => l.startsWith('STOPPED')),
      ['STOPPED beta aborted=true', 'STOPPED alpha aborted=true'],
    );
  });

  test('runtime - a stop() slower than KEC_SHUTDOWN_GRACE_MS exits 1 when the grace expires', async () => {
    const p = run({ FIXTURE_SLOW_STOP_MS: '20000', KEC_SHUTDOWN_GRACE_MS: '300' });
    await running(p);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 1);
    assert.ok(Date.now() - t0 < 10_000, 'exited long before the slow stop would finish');
    const expired = p.logs().find((l) => l['msg'] === 'shutdown grace expired; exiting without a clean stop');
    assert.deepEqual(expired?.['pending'], ['beta']);
  });

  test('runtime - a second signal exits at once', async () => {
    const p = run({ FIXTURE_SLOW_STOP_MS: '20000' });
    await running(p);
    p.child.kill('SIGTERM');
    await p.waitFor('beta draining', () => p.logs().find((l) => l['service'] === 'beta' && l['state'] === 'draining'));
    p.child.kill('SIGINT');
    const { code } = await p.exited;
    assert.equal(code, 1);
    assert.ok(p.logs().some((l) => l['msg'] === 'second signal; exiting now without draining'));
    assert.deepEqual(
      p.stdout.filter((l) => l.startsWith('STOPPED')),
      [],
    );
  });
});
