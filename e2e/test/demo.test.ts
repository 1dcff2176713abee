// ./dev up --demo end to end: kube-sim + scenarios + `kec run all` (embedded store); every printed `kec sql`
// command runs and answers; SIGINT drains both processes with exit 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { cleanup, newIsolation, Proc, ROOT } from '../src/index.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('demo - ./dev up --demo lands events in the store, its printed SQL works, Ctrl-C drains both processes', async () => {
  const id = randomBytes(4).toString('hex');
  const iso = newIsolation({ id, root: `e${id}`, prefix: `T${id}_` });
  const [metricsPort, sqlPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    KEC_METRICS_PORT: String(metricsPort),
    KEC_SQL_PORT: String(sqlPort),
    KEC_DEMO_ROOT: iso.root,
    KEC_DEMO_PREFIX: iso.prefix,
    KEC_DEMO_STREAM_MAX_BYTES: String(128 * 1024 * 1024),
    KEC_DEMO_DATA_DIR: mkdtempSync(join(tmpdir(), 'kec-demo-')),
  };
  const demo = new Proc('demo', process.execPath, [join(ROOT, 'e2e/src/demo.ts')], env);
  try {
    await demo.waitOutput(/DEMO READY/, 90_000);
    const commands = [...demo.output.matchAll(/^ {2}(KEC_SQL_PORT=\d+ \.\/dev kec sql .*)$/gm)].map((m) => m[1]!);
    assert.ok(commands.length >= 4, `printed SQL commands:\n${demo.output}`);
    assert.match(demo.output, new RegExp(`${iso.root}\\.events\\.demo\\.>`));
    assert.match(demo.output, new RegExp(`http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    for (const cmd of commands) {
      const { stdout } = await run('sh', ['-c', cmd], { cwd: ROOT, env });
      assert.match(stdout, /\(\d+ rows?\)/, `${cmd}\n${stdout}`);
    }
    const first = (await run('sh', ['-c', commands[0]!], { cwd: ROOT, env })).stdout;
    const events = Number(first.split('\n')[1]!.trim().split(/\s+/)[0]);
    assert.ok(events > 0, first);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /kec_writer_rows_written_total\{table="events"\} [1-9]/);
    demo.kill('SIGINT');
    assert.equal(await demo.exited, 0, demo.output.slice(-3000));
    assert.match(demo.output, /kec exited 0, kube-sim exited 0/);
  } finally {
    await demo.stop('SIGKILL');
    await cleanup(iso);
  }
});
