// kube-sim write and list throughput. Runs the simulator in a child process so client and server do not share
// an event loop, writes events over keep-alive HTTP with many requests in flight (creates plus recorder-style
// PATCHes), then lists the whole store in pages. Prints figures; not pass/fail.
//   node tools/kube-sim/bench/writes.ts [--events 200000] [--concurrency 64] [--page 500] [--watchers 0]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { startKubeSim } from '../src/index.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

if (process.argv.includes('--serve')) {
  const sim = await startKubeSim({ historyMaxEvents: 100_000 });
  process.stdout.write(`${JSON.stringify({ url: sim.url, token: sim.token })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
} else {
  const total = arg('events', 200_000);
  const concurrency = arg('concurrency', 64);
  const pageSize = arg('page', 500);
  const watchers = arg('watchers', 0);
  const child = spawn(process.execPath, [process.argv[1]!, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve) => {
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const call = (
    method: string,
    path: string,
    body?: unknown,
    ct = 'application/json',
  ): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        `${url}${path}`,
        { method, agent, headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': ct } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  const nss = Array.from({ length: 20 }, (_, i) => `team-${i}`);
  const event = (i: number) => {
    const ns = nss[i % nss.length]!;
    const pod = `web-7d9c6b8f5d-${(i % 5000).toString(36)}`;
    return {
      ns,
      name: `${pod}.${(0x17c8a9f0e3b1d2a4n + BigInt(i)).toString(16)}`,
      body: {
        metadata: { name: `${pod}.${(0x17c8a9f0e3b1d2a4n + BigInt(i)).toString(16)}`, namespace: ns },
        involvedObject: {
          kind: 'Pod',
          namespace: ns,
          name: pod,
          uid: '9a2b',
          apiVersion: 'v1',
          fieldPath: 'spec.containers{app}',
        },
        reason: 'BackOff',
        message: `Back-off restarting failed container app in pod ${pod}_${ns}(9a2b)`,
        source: { component: 'kubelet', host: `node-${i % 50}` },
        firstTimestamp: '2026-05-01T12:00:00Z',
        lastTimestamp: '2026-05-01T12:00:00Z',
        count: 1,
        type: 'Warning',
        reportingComponent: 'kubelet',
        reportingInstance: `node-${i % 50}`,
      },
    };
  };
  // Optional watchers of all events (core and events.k8s.io alternately) that count frames.
  let frames = 0;
  const watchReqs: http.ClientRequest[] = [];
  for (let i = 0; i < watchers; i++) {
    const path = i % 2 ? '/apis/events.k8s.io/v1/events' : '/api/v1/events';
    const req = http.get(
      `${url}${path}?watch=true&resourceVersion=0`,
      { headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.on('data', (c: Buffer) => {
          for (const b of c) if (b === 10) frames++;
        });
      },
    );
    req.on('error', () => {});
    watchReqs.push(req);
  }
  // Writes: every 5th write is a recorder-style strategic-merge PATCH of an event created earlier.
  let next = 0;
  let created = 0;
  let patches = 0;
  let failed = 0;
  const t0 = performance.now();
  let ops = 0;
  const done: number[] = [];
  const worker = async () => {
    while (next < total) {
      if (ops++ % 5 === 4 && created > 10) {
        const e = event(done[Math.floor(Math.random() * done.length)]!);
        const r = await call(
          'PATCH',
          `/api/v1/namespaces/${e.ns}/events/${e.name}`,
          { count: 2, lastTimestamp: '2026-05-01T12:05:00Z' },
          'application/strategic-merge-patch+json',
        );
        if (r.status === 200) patches++;
        else failed++;
        continue;
      }
      const i = next++;
      const e = event(i);
      const r = await call('POST', `/api/v1/namespaces/${e.ns}/events`, e.body);
      if (r.status === 201) {
        created++;
        done.push(i);
      } else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  const writes = created + patches;
  const stats1 = JSON.parse((await call('GET', '/_sim/stats')).text);
  console.log(
    `writes: ${writes} (${created} creates, ${patches} patches, ${failed} failed) in ${secs.toFixed(1)} s = ${Math.round(writes / secs)} writes/s (concurrency ${concurrency}, ${watchers} watchers, ${frames} watch frames received)`,
  );
  console.log(
    `server memory after writes: rss ${Math.round(stats1.memory.rss / 2 ** 20)} MiB, heap ${Math.round(stats1.memory.heapUsed / 2 ** 20)} MiB, events ${stats1.objects.events}`,
  );
  // List all events in pages while writes continue, checking snapshot consistency.
  const t1 = performance.now();
  let cont = '';
  let pages = 0;
  let items = 0;
  let rv = '';
  let maxPageMs = 0;
  let background = true;
  const writer = (async () => {
    let j = total;
    while (background) {
      const e = event(j++);
      await call('POST', `/api/v1/namespaces/${e.ns}/events`, e.body);
    }
  })();
  for (;;) {
    const p0 = performance.now();
    const r = await call(
      'GET',
      `/api/v1/events?limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
    );
    maxPageMs = Math.max(maxPageMs, performance.now() - p0);
    if (r.status !== 200) throw new Error(`page ${pages}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    const j = JSON.parse(r.text);
    if (!rv) rv = j.metadata.resourceVersion;
    if (j.metadata.resourceVersion !== rv) throw new Error('snapshot RV changed between pages');
    pages++;
    items += j.items.length;
    cont = j.metadata.continue ?? '';
    if (!cont) break;
  }
  background = false;
  await writer;
  const listSecs = (performance.now() - t1) / 1000;
  const stats2 = JSON.parse((await call('GET', '/_sim/stats')).text);
  console.log(
    `list: ${items} events in ${pages} pages of ${pageSize} in ${listSecs.toFixed(1)} s (slowest page ${maxPageMs.toFixed(0)} ms), one snapshot RV ${rv}, with writes running`,
  );
  console.log(
    `server memory after list: rss ${Math.round(stats2.memory.rss / 2 ** 20)} MiB, heap ${Math.round(stats2.memory.heapUsed / 2 ** 20)} MiB`,
  );
  for (const r of watchReqs) r.destroy();
  agent.destroy();
  child.stdin.end();
}
