import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { EventNamer } from '../../src/driver/clock.ts';
import {
  COMBINED_PREFIX,
  CoreRecorder,
  EventSink,
  EventsRecorder,
  GroundTruthLedger,
  KubeClient,
  type KubeSim,
  startKubeSim,
  UidMap,
  VirtualClock,
  WriteQueue,
} from '../../src/index.ts';

let sim: KubeSim;
before(async () => {
  sim = await startKubeSim({ port: 0 });
});
after(async () => {
  await sim?.close();
});

function setup(startMs = Date.parse('2026-11-22T07:00:00Z')) {
  const client = new KubeClient({ url: sim.url, token: sim.token });
  const clock = new VirtualClock(startMs);
  const sink = new EventSink(client, new WriteQueue({ concurrency: 8 }), new UidMap(), new GroundTruthLedger(), clock);
  return { client, clock, sink };
}

const rnd = () => Math.random().toString(36).slice(2, 8);
const podRef = (ns: string, name: string) => ({
  kind: 'Pod',
  namespace: ns,
  name,
  uid: crypto.randomUUID(),
  apiVersion: 'v1',
});

interface Frame {
  type: string;
  object: { metadata: { name: string; resourceVersion: string }; count?: number; message?: string };
}

/** Watches a path from an RV and collects frames until `done` says so or the deadline passes. */
function watch(path: string, rv: string, done: (frames: Frame[]) => boolean, timeoutMs = 10_000): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const url = new URL(`${sim.url}${path}?watch=true&resourceVersion=${rv}`);
    const req = http.get(url, { headers: { Authorization: `Bearer ${sim.token}` } }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        let i = buf.indexOf('\n');
        while (i >= 0) {
          frames.push(JSON.parse(buf.slice(0, i)) as Frame);
          buf = buf.slice(i + 1);
          i = buf.indexOf('\n');
        }
        if (done(frames)) {
          clearTimeout(timer);
          req.destroy();
          resolve(frames);
        }
      });
    });
    req.on('error', (e) => {
      if (!done(frames)) reject(e);
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(frames);
    }, timeoutMs);
  });
}

test('core recorder - first occurrence is a create, repeats PATCH count/lastTimestamp/message (MODIFIED on a watch)', async () => {
  const { client, clock, sink } = setup();
  const ns = `rec-${rnd()}`;
  const rv = sim.resourceVersion();
  const frames = watch(`/api/v1/namespaces/${ns}/events`, rv, (f) => f.length >= 4);
  const kubelet = new CoreRecorder(sink, { component: 'kubelet', host: 'node-1' });
  const ref = podRef(ns, 'web-7d9c6b8f5d-x2k4p');
  const msg = 'Back-off restarting failed container app in pod web-7d9c6b8f5d-x2k4p_x(1)';
  const names = new Set<string>();
  for (let i = 0; i < 4; i++) {
    names.add(
      kubelet.event({ ...ref, fieldPath: 'spec.containers{app}' }, 'Warning', 'BackOff', msg, { incident: null })!,
    );
    clock.advance(10_000);
  }
  await sink.queue.drain();
  assert.equal(names.size, 1, 'all repeats go to one event object');
  const [name] = [...names];
  assert.match(name!, /^web-7d9c6b8f5d-x2k4p\.[0-9a-f]{15,16}$/);
  const got = await frames;
  assert.deepEqual(
    got.map((f) => f.type),
    ['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED'],
  );
  assert.deepEqual(
    got.map((f) => f.object.count),
    [1, 2, 3, 4],
  );
  const rvs = got.map((f) => Number(f.object.metadata.resourceVersion));
  assert.deepEqual(
    [...rvs].sort((a, b) => a - b),
    rvs,
    'resourceVersions rise',
  );
  const ev = (await client.must('GET', `/api/v1/namespaces/${ns}/events/${name}`)) as Record<string, unknown>;
  assert.equal(ev['count'], 4);
  assert.equal(ev['firstTimestamp'], '2026-11-22T07:00:00Z');
  assert.equal(ev['lastTimestamp'], '2026-11-22T07:00:30Z');
  assert.equal(ev['reportingComponent'], 'kubelet');
  assert.equal(ev['reportingInstance'], 'node-1');
  assert.deepEqual(ev['source'], { component: 'kubelet', host: 'node-1' });
  assert.equal(sink.stats.creates, 1);
  assert.equal(sink.stats.patches, 3);
  client.close();
});

test('core recorder - 10 similar events within 600 s produce a "(combined from similar events)" event', async () => {
  const { client, clock, sink } = setup();
  const ns = `agg-${rnd()}`;
  const npd = new CoreRecorder(sink, { component: 'kernel-monitor', host: 'node-2' });
  const ref = { kind: 'Node', name: `node-${rnd()}`, uid: 'node-2', apiVersion: 'v1', namespace: ns };
  const names: string[] = [];
  for (let i = 0; i < 12; i++) {
    names.push(
      npd.event(ref, 'Warning', 'TaskHung', `task containerd:${1000 + i} blocked for more than 120 seconds.`, {
        incident: null,
      })!,
    );
    clock.advance(30_000);
  }
  await sink.queue.drain();
  assert.equal(new Set(names.slice(0, 9)).size, 9, 'the first 9 distinct messages are separate events');
  assert.equal(names[9], names[10], 'from the 10th on, one combined event');
  assert.equal(names[10], names[11]);
  const combined = (await client.must('GET', `/api/v1/namespaces/${ns}/events/${names[11]}`)) as Record<
    string,
    unknown
  >;
  assert.equal(combined['message'], `${COMBINED_PREFIX}task containerd:1011 blocked for more than 120 seconds.`);
  assert.equal(combined['count'], 3);
  assert.equal(combined['reportingComponent'], '', 'client-go builds the aggregate without reportingController');
  const list = (await client.must('GET', `/api/v1/namespaces/${ns}/events`)) as { items: unknown[] };
  assert.equal(list.items.length, 10);
  // A gap longer than 600 s resets the aggregation.
  clock.advance(601_000);
  const fresh = npd.event(ref, 'Warning', 'TaskHung', 'task containerd:2000 blocked for more than 120 seconds.', {
    incident: null,
  });
  assert.ok(fresh && !names.includes(fresh));
  await sink.queue.drain();
  client.close();
});

test('core recorder - a PATCH answered 404 (expired event) recreates the event with the same name and count', async () => {
  const { client, clock, sink } = setup();
  const ns = `gone-${rnd()}`;
  const rec = new CoreRecorder(sink, { component: 'controllermanager' });
  const ref = {
    kind: 'PodDisruptionBudget',
    namespace: ns,
    name: 'pdb',
    uid: crypto.randomUUID(),
    apiVersion: 'policy/v1',
  };
  const name = rec.event(ref, 'Normal', 'NoPods', 'No matching pods found', { incident: null })!;
  await sink.queue.drain();
  await client.must('DELETE', `/api/v1/namespaces/${ns}/events/${name}`);
  clock.advance(30_000);
  rec.event(ref, 'Normal', 'NoPods', 'No matching pods found', { incident: null });
  await sink.queue.drain();
  const ev = (await client.must('GET', `/api/v1/namespaces/${ns}/events/${name}`)) as Record<string, unknown>;
  assert.equal(ev['count'], 2);
  assert.equal(sink.stats.recreates, 1);
  client.close();
});

test('events.k8s.io recorder - create without series, PATCH series count 2, then memory only until refresh/finish', async () => {
  const { client, clock, sink } = setup(Date.parse('2026-11-22T07:00:00.123456Z'));
  const ns = `series-${rnd()}`;
  const sched = new EventsRecorder(sink, 'default-scheduler', 'default-scheduler-cp-1');
  const ref = podRef(ns, 'nginx-abc');
  const note =
    '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
  const path = `/apis/events.k8s.io/v1/namespaces/${ns}/events`;
  const emit = () =>
    sched.eventf(ref, undefined, 'Warning', 'FailedScheduling', 'Scheduling', note, { incident: null });
  const name = emit();
  await sink.queue.drain();
  let ev = (await client.must('GET', `${path}/${name}`)) as Record<string, unknown>;
  assert.match(String(ev['eventTime']), /^2026-11-22T07:00:00\.\d{6}Z$/);
  assert.equal(ev['series'], undefined);
  assert.equal(ev['reportingController'], 'default-scheduler');
  assert.equal(ev['action'], 'Scheduling');
  clock.advance(10_000);
  emit();
  await sink.queue.drain();
  ev = (await client.must('GET', `${path}/${name}`)) as Record<string, unknown>;
  assert.equal((ev['series'] as { count: number }).count, 2);
  for (let i = 0; i < 5; i++) {
    clock.advance(10_000);
    emit();
  }
  await sink.queue.drain();
  ev = (await client.must('GET', `${path}/${name}`)) as Record<string, unknown>;
  assert.equal((ev['series'] as { count: number }).count, 2, 'repeats after the second stay in memory');
  sched.refreshSeries(); // the 30-minute heartbeat
  await sink.queue.drain();
  ev = (await client.must('GET', `${path}/${name}`)) as Record<string, unknown>;
  assert.equal((ev['series'] as { count: number }).count, 7);
  clock.advance(10_000);
  emit();
  sched.finishSeries(); // not idle for 6 minutes yet: nothing written, still cached
  await sink.queue.drain();
  assert.equal(sched.cached, 1);
  clock.advance(6 * 60_000 + 1);
  sched.finishSeries();
  await sink.queue.drain();
  assert.equal(sched.cached, 0, 'a finished series leaves the cache');
  ev = (await client.must('GET', `${path}/${name}`)) as Record<string, unknown>;
  const series = ev['series'] as { count: number; lastObservedTime: string };
  assert.equal(series.count, 8, 'finish writes the final count');
  assert.match(series.lastObservedTime, /\.\d{6}Z$/);
  // Core view of the same object.
  const core = (await client.must('GET', `/api/v1/namespaces/${ns}/events/${name}`)) as Record<string, unknown>;
  assert.equal(core['reportingComponent'], 'default-scheduler');
  assert.equal(core['message'], note);
  // After the finish, the same event starts a new object.
  clock.advance(1000);
  assert.notEqual(emit(), name);
  await sink.queue.drain();
  client.close();
});

test('event names - the creation nanoseconds grow with each name within a virtual millisecond, unique per object', () => {
  const namer = new EventNamer();
  const ms = Date.parse('2026-11-22T07:00:00Z');
  const nanos = (name: string) => BigInt(`0x${name.slice(name.lastIndexOf('.') + 1)}`);
  // one scheduling cycle: several pods' events in the same millisecond, named in the order they were created
  const names = ['web-1', 'web-2', 'web-3', 'web-1'].map((o) => namer.name(o, ms));
  for (let i = 1; i < names.length; i++) assert.ok(nanos(names[i - 1]!) < nanos(names[i]!), names.join(' '));
  assert.equal(new Set(names).size, names.length);
  // the nanoseconds stay within the event's millisecond, and a name about an old event keeps its own time
  assert.equal(nanos(names[0]!) / 1_000_000n, BigInt(ms));
  const old = namer.name('pdb', ms - 86_400_000);
  assert.equal(nanos(old) / 1_000_000n, BigInt(ms - 86_400_000));
});
