// Driver throughput: event writes/s (creates + strategic-merge PATCHes) into kube-sim over HTTP keep-alive.
// kube-sim runs in its own process (as with ./dev sim), the driver here; both share the machine.
//   node tools/kube-sim/bench/driver.ts [--writes 50000] [--concurrency 8] [--in-process | --url U --token T]
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runScenarios, startKubeSim } from '../src/index.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
};
const writes = Number(arg('writes', '50000'));
const concurrency = Number(arg('concurrency', '8'));
const inProcess = process.argv.includes('--in-process');
const rate = 5000;

let url: string;
let token: string;
let stop: () => Promise<void>;
if (process.argv.includes('--url')) {
  url = arg('url', '');
  token = arg('token', '');
  stop = async () => {};
} else if (inProcess) {
  const sim = await startKubeSim({ port: 0 });
  ({ url, token } = sim);
  stop = () => sim.close();
} else {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, [main, '--port', '0', '--scenario', 'none', '--nodes', '3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const out = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('Bearer ')) resolve(buf);
    });
    child.once('exit', (code) => reject(new Error(`kube-sim exited with ${code}`)));
  });
  url = /listening on (\S+)/.exec(out)![1]!;
  token = /Bearer ([^']+)'/.exec(out)![1]!;
  stop = async () => {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  };
}

let clusterReadyAt = 0;
const result = await runScenarios({
  url,
  token,
  scenarios: 'none',
  rate,
  durationMs: (writes / rate) * 1000,
  speed: Number.POSITIVE_INFINITY,
  seed: 'bench',
  concurrency,
  onClusterReady: () => {
    clusterReadyAt = performance.now();
  },
});
const end = performance.now();
const s = result.stats;
const n = s.creates + s.patches;
const secs = (end - clusterReadyAt) / 1000;
console.log(
  `kube-sim ${inProcess ? 'in-process' : 'separate process'}, concurrency ${concurrency}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cpus`,
);
console.log(
  `event writes: ${n} (${s.creates} creates, ${s.patches} patches), failed ${s.failed}, in ${secs.toFixed(2)} s`,
);
console.log(`achieved: ${Math.round(n / secs)} writes/s`);
await stop();
