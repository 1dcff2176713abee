// ./dev up --demo end to end, on a private nats-server so the demo and then `kec run all` can both use their
// default stream and subject names: kube-sim + scenarios + `kec run all` (embedded store); every printed `kec sql`
// command runs and answers; Ctrl-C as a terminal sends it (SIGINT to the whole process group) drains kec, then
// kube-sim, each exiting 0; then `kec run all` with the default names starts on the same NATS, beside the demo's
// streams.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { cleanup, type Isolation, Proc, ROOT, ready, startKec, startSimProcess, waitFor } from '../src/index.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A nats-server with JetStream of the test's own, on a free port. */
async function privateNats(dir: string): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const proc = new Proc('nats-server', 'nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
    ...process.env,
  });
  const url = `nats://127.0.0.1:${port}`;
  await waitFor(
    'private nats-server',
    async () => {
      const nc = await connect({ servers: url, timeout: 1000 });
      await nc.close();
      return true;
    },
    20_000,
  );
  return { url, proc };
}

async function streamNames(url: string): Promise<string[]> {
  const nc = await connect({ servers: url, timeout: 3000 });
  try {
    const names: string[] = [];
    for await (const s of (await jetstreamManager(nc)).streams.list()) names.push(s.config.name);
    return names.sort();
  } finally {
    await nc.close();
  }
}

/** A pid the demo printed for one of its children (`kube-sim (pid N)`, `kec (pid N)`). */
function childPid(output: string, name: string): number | undefined {
  const m = new RegExp(`^${name} \\(pid (\\d+)\\)`, 'm').exec(output);
  return m ? Number(m[1]) : undefined;
}

test('demo - ./dev up --demo lands events, its printed SQL works, a terminal Ctrl-C drains each process, and kec then starts with its defaults on the same NATS', async () => {
  const id = randomBytes(4).toString('hex');
  const tmp = mkdtempSync(join(tmpdir(), `kec-demo-${id}-`));
  const nats = await privateNats(join(tmp, 'nats'));
  const redisPrefix = `kec:e2e:${id}:`;
  const [metricsPort, sqlPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEC_NATS_URL: nats.url,
    KEC_METRICS_PORT: String(metricsPort),
    KEC_SQL_PORT: String(sqlPort),
    KEC_API_PORT: String(await freePort()),
    KEC_DEMO_REDIS_PREFIX: `${redisPrefix}demo:`,
    KEC_DEMO_STREAM_MAX_BYTES: String(128 * 1024 * 1024),
    // A quarter of the demo's rate: the test checks the wiring, not throughput, on a machine other tests share.
    KEC_DEMO_RATE: '5',
    KEC_DEMO_DATA_DIR: join(tmp, 'demo'),
  };
  delete env.KEC_DEMO_ROOT;
  delete env.KEC_DEMO_PREFIX;
  // The demo leads its own process group, as a shell's foreground job does: Ctrl-C is SIGINT to that group.
  const demo = new Proc('demo', process.execPath, [join(ROOT, 'e2e/src/demo.ts')], env, ROOT, { detached: true });
  const others: Proc[] = [];
  try {
    await demo.waitOutput(/DEMO READY/, 240_000);
    const commands = [...demo.output.matchAll(/^ {2}(KEC_API_PORT=\d+ \.\/dev kec sql .*)$/gm)].map((m) => m[1]!);
    assert.ok(commands.length >= 4, `printed SQL commands:\n${demo.output}`);
    assert.match(demo.output, /kecdemo\.events\.demo\.> +correlated events.*\(stream DEMO_KEC_EVENTS\)/);
    assert.match(demo.output, new RegExp(`http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    for (const cmd of commands) {
      const { stdout } = await run('sh', ['-c', cmd], { cwd: ROOT, env });
      assert.match(stdout, /\(\d+ rows?\)/, `${cmd}\n${stdout}`);
    }
    // The history lines: each answers with exit 0 and the rows it names (the incident, its root cause's object).
    const history = [...demo.output.matchAll(/^ {2}(KEC_API_URL=\S+ \.\/dev kec (?!sql).*)$/gm)].map((m) => m[1]!);
    const line = (re: RegExp) => {
      const l = history.find((h) => re.test(h));
      assert.ok(l, `no printed line matches ${re}:\n${history.join('\n')}`);
      return l;
    };
    const id = /describe incident (\S+)/.exec(line(/describe incident /))?.[1] as string;
    const checks: [RegExp, (out: string) => void][] = [
      [/get events -n \S+$/, (o) => assert.match(o, /^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE\n.+/)],
      [/get events -A --types Warning/, (o) => assert.match(o, /^NAMESPACE +LAST SEEN +TYPE +REASON/)],
      [/get incidents$/, (o) => assert.ok(o.includes(id), o)],
      [
        /describe incident /,
        (o) => assert.match(o, new RegExp(`${id}[\\s\\S]*Root Cause:[\\s\\S]*Events \\(oldest first\\):\\n.+\\n.+`)),
      ],
      [/timeline \S+\/\S+/, (o) => assert.match(o, /\d{2}:\d{2}:\d{2}/)],
      [/top reasons/, (o) => assert.match(o, /^REASON/)],
    ];
    for (const [re, check] of checks) {
      const cmd = line(re);
      const { stdout } = await run('sh', ['-c', cmd], { cwd: ROOT, env });
      check(stdout);
    }
    const first = (await run('sh', ['-c', commands[0]!], { cwd: ROOT, env })).stdout;
    const events = Number(first.split('\n')[1]!.trim().split(/\s+/)[0]);
    assert.ok(events > 0, first);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /kec_writer_rows_written_total\{table="events"\} [1-9]/);

    demo.killGroup('SIGINT');
    assert.equal(await demo.exited, 0, demo.output.slice(-3000));
    assert.match(demo.output, /kec exited 0, kube-sim exited 0/);
    assert.doesNotMatch(demo.output, /without draining|second signal/);
    // At Ctrl-C the demo prints the enrichment coverage: the objects of >= 95 % of the stored events were seen.
    const cov = /enrichment after \d+ s: [\d,]+ events: .*\(hit\+tombstone\+fetched ([\d.]+) %\)/.exec(demo.output);
    assert.ok(cov && Number(cov[1]) >= 95, `coverage line: ${cov?.[0]}`);
    // A healthy run logs nothing at warn or above.
    const loud = demo.output.split('\n').filter((l) => /"level":"(warn|error|fatal)"/.test(l));
    assert.deepEqual(loud, []);
    const demoStreams = await streamNames(nats.url);
    assert.ok(demoStreams.includes('DEMO_KEC_RAW'), demoStreams.join(', '));

    // kec with its default stream prefix, subject root and KV bucket, on the NATS the demo used.
    const sim = await startSimProcess(['--scenario', 'none']);
    others.push(sim);
    const kecEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(kecEnv)) if (k.startsWith('KEC_') && k !== 'KEC_NODE') delete kecEnv[k];
    Object.assign(kecEnv, {
      KUBECONFIG: sim.kubeconfig,
      KEC_NATS_URL: nats.url,
      KEC_METRICS_PORT: '0',
      KEC_SQL_PORT: '0',
      KEC_API_PORT: '0',
      KEC_DATA_DIR: join(tmp, 'kec'),
      KEC_ENRICHER_REDIS_PREFIX: `${redisPrefix}cache:`,
      KEC_CORRELATOR_REDIS_PREFIX: `${redisPrefix}corr:`,
    });
    const kec = await startKec('kec', ['all'], kecEnv);
    others.push(kec);
    await waitFor('kec with defaults ready', () => ready(kec.metricsPort), 60_000);
    const all = await streamNames(nats.url);
    for (const s of ['KEC_RAW', 'KEC_ENRICHED', 'KEC_EVENTS', 'DEMO_KEC_RAW', 'DEMO_KEC_EVENTS']) {
      assert.ok(all.includes(s), `${s} in ${all.join(', ')}`);
    }
    assert.equal(await kec.stop('SIGTERM', 40_000), 0, kec.output.slice(-3000));
  } finally {
    for (const name of ['kube-sim', 'kec']) {
      const pid = childPid(demo.output, name);
      if (pid) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    demo.killGroup('SIGKILL');
    await Promise.all(others.map((p) => p.stop('SIGKILL', 1000)));
    await nats.proc.stop('SIGTERM', 5000);
    const iso: Isolation = {
      id,
      root: 'unused',
      prefix: 'unused',
      redisPrefix,
      kvBucket: 'unused',
      dataDir: tmp,
      cluster: 'default',
    };
    await cleanup(iso, 'nats://127.0.0.1:1');
    rmSync(tmp, { recursive: true, force: true });
  }
});
