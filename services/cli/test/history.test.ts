// The history commands against a real running API (services/api's app listening on a free port, on an embedded
// store the writer's own row mapping filled): what `kec get events`, `get incidents`, `describe incident`,
// `timeline` and `top` print, their paging, -o json round trip, exit codes and one-line errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp, sha256Hex, TokenStore } from '@kec/api';
import { migrate, openStore, type Store } from '@kec/store';
import { createLogger } from '@kec/telemetry';
import { eventBatchRows, incidentRow, type KecEventsPayload } from '@kec/writer';
import { parse as yamlParse } from 'yaml';
import { runCli } from '../src/index.ts';

const TOKEN = 'kec_cli_history_test_token_0123456789';
const NOW = Date.parse('2026-12-07T12:00:00Z');
const MIN = 60_000;
const ts = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** One observation of an Event as the correlator publishes it (only what the printers show varies). */
function observation(o: {
  ns: string;
  uid: string;
  rv: number;
  count: number;
  first: number;
  at: number;
  reason: string;
  type: 'Normal' | 'Warning';
  kind: string;
  object: string;
  note: string;
  incident?: string;
}): KecEventsPayload {
  return {
    schema: 'kec.events/v1',
    cluster: 'c1',
    observedAt: new Date(o.at + 1000).toISOString().replace('Z', '000Z'),
    sourceApi: 'core/v1',
    watchType: o.count === 1 ? 'ADDED' : 'MODIFIED',
    resourceVersion: String(o.rv),
    uid: o.uid,
    name: `${o.object}.${o.uid}`,
    namespace: o.ns,
    creationTimestamp: ts(o.first),
    labels: {},
    annotations: {},
    eventTime: null,
    series: null,
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
    action: '',
    reason: o.reason,
    regarding: {
      kind: o.kind,
      namespace: o.ns,
      name: o.object,
      uid: `u-${o.object}`,
      apiVersion: 'v1',
      resourceVersion: '1',
      fieldPath: '',
    },
    related: null,
    note: o.note,
    type: o.type,
    deprecatedSource: { component: 'kubelet', host: 'node-1' },
    deprecatedFirstTimestamp: ts(o.first),
    deprecatedLastTimestamp: ts(o.at),
    deprecatedCount: o.count,
    count: o.count,
    firstTimestamp: ts(o.first),
    lastTimestamp: ts(o.at),
    combined: false,
    enrichment: {
      status: 'hit',
      object: { labels: { app: 'web' }, annotations: {}, deleted: false },
      workload: { kind: 'Deployment', name: 'web' },
      node: { name: 'node-1', zone: 'z1' },
      namespaceLabels: {},
    },
    classification: {
      severity: o.type === 'Warning' ? 'error' : 'info',
      category: 'health',
      actionable: o.type === 'Warning',
      ruleId: 'test',
      rulesetVersion: '1',
      fields: {},
    },
    fingerprint: { id: `fp-${o.reason}`, template: o.reason },
    occurrences: 1,
    incidentId: o.incident ?? null,
  };
}

/** The API's NATS subscriptions, fed by the tests (the app's injection point for NATS, as in services/api's tests). */
const listeners = new Map<string, Set<(data: Uint8Array) => void>>();
function publish(subject: string, payload: unknown): void {
  for (const [pattern, cbs] of listeners) {
    if (subject.startsWith(pattern.replace(/>$/, ''))) for (const cb of cbs) cb(Buffer.from(JSON.stringify(payload)));
  }
}
const subscribed = (prefix: string) => [...listeners].some(([p, cbs]) => p.startsWith(prefix) && cbs.size > 0);

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const INCIDENT = {
  schema: 'kec.incident/v1' as const,
  id: 'inc-1',
  cluster: 'c1',
  namespace: 'shop',
  title: 'web: BackOff in shop',
  severity: 'error' as const,
  category: 'health',
  rootCause: { eventUid: 'e-backoff', reason: 'BackOff', object: 'Pod/shop/web-1', why: 'first Warning of web' },
  affected: ['Pod/shop/web-1'],
  firstSeen: ts(NOW - 60 * MIN),
  lastSeen: ts(NOW - 5 * MIN),
  eventCount: 1,
  occurrenceCount: 12,
  state: 'open' as const,
  version: 1,
};

let dir: string;
let store: Store;
let app: Awaited<ReturnType<typeof buildApp>>;
let url: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kec-cli-history-'));
  store = await openStore({ dataDir: dir });
  await migrate(store);
  const batch: KecEventsPayload[] = [];
  // a crash loop: one Event whose count grows to 12 over the last hour, in incident inc-1
  for (let c = 1; c <= 12; c++) {
    batch.push(
      observation({
        ns: 'shop',
        uid: 'e-backoff',
        rv: 100 + c,
        count: c,
        first: NOW - 60 * MIN,
        at: NOW - 60 * MIN + (c - 1) * 5 * MIN,
        reason: 'BackOff',
        type: 'Warning',
        kind: 'Pod',
        object: 'web-1',
        note: 'Back-off restarting failed container app in pod web-1',
        incident: 'inc-1',
      }),
    );
  }
  batch.push(
    observation({
      ns: 'shop',
      uid: 'e-scheduled',
      rv: 90,
      count: 1,
      first: NOW - 125 * MIN,
      at: NOW - 125 * MIN,
      reason: 'Scheduled',
      type: 'Normal',
      kind: 'Pod',
      object: 'web-1',
      note: 'Successfully assigned shop/web-1 to node-1',
    }),
  );
  // 30 more single events in another namespace, for paging
  for (let i = 0; i < 30; i++) {
    batch.push(
      observation({
        ns: 'batch',
        uid: `e-${String(i).padStart(2, '0')}`,
        rv: 200 + i,
        count: 1,
        first: NOW - (40 - i) * MIN,
        at: NOW - (40 - i) * MIN,
        reason: 'Pulled',
        type: 'Normal',
        kind: 'Pod',
        object: `job-${i}`,
        note: `Successfully pulled image "busybox:${i}"`,
      }),
    );
  }
  const { events, occurrences } = eventBatchRows(batch);
  await store.insert('events', events);
  await store.insert('occurrences', occurrences);
  await store.insert('incidents', [incidentRow(INCIDENT)]);
  app = await buildApp({
    logger: createLogger({ service: 'api', level: 'silent' }),
    store: () => store,
    sqlStore: () => store,
    tokens: TokenStore.load({ env: `${sha256Hex(TOKEN)} read cli`, anonymous: false }),
    sqlMaxRows: 1000,
    maxBodyBytes: 65_536,
    subjectRoot: 'kec',
    subscribe: (subject, cb) => {
      const set = listeners.get(subject) ?? new Set();
      listeners.set(subject, set);
      set.add(cb);
      return { unsubscribe: () => set.delete(cb) };
    },
    now: () => NOW,
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function kec(
  args: string[],
  env: Record<string, string> = {},
  stop?: AbortSignal,
  onOut?: (all: string) => void,
) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'kec', ...args], {
    ...(stop ? { stop } : {}),
    env: { KEC_API_URL: url, KEC_API_TOKEN: TOKEN, KEC_CLI_CONFIG_DIR: dir, ...env },
    stdout: (t) => {
      stdout += t;
      onOut?.(stdout);
    },
    stderr: (t) => {
      stderr += t;
    },
    now: () => NOW,
  });
  return { code, stdout, stderr };
}

describe('cli history commands against the API', () => {
  test('cli history - get events prints kubectl events columns, oldest first, with the x-over notation', async () => {
    const r = await kec(['get', 'events', '-n', 'shop', '--since', '1d']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'LAST SEEN           TYPE      REASON      OBJECT      MESSAGE',
        '125m                Normal    Scheduled   Pod/web-1   Successfully assigned shop/web-1 to node-1',
        '5m (x12 over 60m)   Warning   BackOff     Pod/web-1   Back-off restarting failed container app in pod web-1',
        '',
      ].join('\n'),
    );
  });

  test('cli history - get events walks the API pages up to --limit and says what it left out', async () => {
    const all = await kec(['get', 'events', '-n', 'batch', '--since', '1d', '-o', 'json']);
    assert.equal(all.code, 0, all.stderr);
    const doc = JSON.parse(all.stdout) as { kind: string; items: { uid: string; lastSeen: string }[] };
    assert.equal(doc.kind, 'EventList');
    assert.equal(doc.items.length, 30);
    const times = doc.items.map((i) => Date.parse(i.lastSeen));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'oldest first',
    );
    const some = await kec(['get', 'events', '-n', 'batch', '--since', '1d', '--limit', '7', '--no-headers']);
    assert.equal(some.code, 0, some.stderr);
    const lines = some.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 7);
    assert.match(lines[6] ?? '', /busybox:29/, 'the newest is last');
    assert.match(some.stderr, /the newest 7 events/);
    const yaml = await kec(['get', 'events', '-n', 'batch', '--since', '1d', '-o', 'yaml']);
    assert.deepEqual(yamlParse(yaml.stdout), doc);
  });

  test('cli history - get incidents and describe incident show the root cause and members', async () => {
    const list = await kec(['get', 'incidents', '--since', '1d']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAMESPACE\s+ID\s+SEVERITY\s+STATE/);
    assert.match(
      list.stdout,
      /shop\s+inc-1\s+error\s+open\s+5m \(over 60m\)\s+1\s+BackOff Pod\/shop\/web-1\s+web: BackOff in shop/,
    );
    const d = await kec(['describe', 'incident', 'inc-1']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^ID:\s+inc-1$/m);
    assert.match(d.stdout, /^ {2}Why:\s+first Warning of web$/m);
    assert.match(
      d.stdout,
      /Events \(oldest first\):\n {2}FIRST SEEN\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n {2}60m\s+5m \(x12 over 60m\)\s+Warning\s+BackOff/,
    );
    const missing = await kec(['describe', 'incident', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^kec: .*\(HTTP 404\)\n$/);
  });

  test('cli history - timeline and top print what the store holds', async () => {
    const t = await kec(['timeline', 'po/web-1', '-n', 'shop', '--since', '1d']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^Pod\/web-1 in shop, /);
    assert.match(t.stdout, /13 observations, 13 occurrences, 1 object/);
    assert.match(t.stdout, /^ {2}09:55:00\s+Normal\s+Scheduled\s+Successfully assigned/m);
    assert.match(t.stdout, /^ {2}11:55:00\s+Warning\s+BackOff\s+x12\s+Back-off/m);
    const top = await kec(['top', 'reasons', '--since', '1d']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(
      top.stdout,
      /^REASON\s+TYPE\s+OCCURRENCES\s+EVENTS\nPulled\s+Normal\s+30\s+30\nBackOff\s+Warning\s+12\s+1\nScheduled\s+Normal\s+1\s+1\n$/,
    );
  });

  test('cli history - errors are one line: no token 401 (exit 1), bad flags exit 2, unreachable exit 1', async () => {
    const noToken = await kec(['get', 'events'], { KEC_API_TOKEN: '' });
    assert.equal(noToken.code, 1);
    assert.match(
      noToken.stderr,
      /^kec: Unauthorized: .* \(set KEC_API_TOKEN or token: in ~\/\.kec\/config\) \(HTTP 401\)\n$/,
    );
    const badFor = await kec(['get', 'events', '--for', 'web-1']);
    assert.deepEqual([badFor.code, badFor.stderr], [2, 'kec: --for must be in resource/name form\n']);
    const badSince = await kec(['get', 'events', '--since', 'yesterday']);
    assert.equal(badSince.code, 2);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = await kec(['get', 'events'], { KEC_API_URL: `http://127.0.0.1:${port}` });
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr,
      `kec: cannot reach the kec API at http://127.0.0.1:${port} (ECONNREFUSED); set --server or KEC_API_URL\n`,
    );
    const empty = await kec(['get', 'events', '-n', 'nothing-here', '--since', '1d']);
    assert.deepEqual([empty.code, empty.stdout, empty.stderr], [0, '', 'No events found in nothing-here namespace.\n']);
  });

  test('cli history - tail prints new occurrences and incident changes as they come, filtered; the stop signal ends it with 0', async () => {
    const ac = new AbortController();
    let seen = '';
    const running = kec(['tail', '-n', 'shop'], {}, ac.signal, (all) => {
      seen = all;
    });
    const stopAnyway = setTimeout(() => ac.abort(), 60_000);
    await waitFor(() => subscribed('kec.events') && subscribed('kec.incidents'), 'the watch subscriptions');
    const at = NOW + MIN;
    publish(
      'kec.events.c1.batch.Pod.Normal.Pulled',
      observation({
        ns: 'batch',
        uid: 'e-x',
        rv: 900,
        count: 1,
        first: at,
        at,
        reason: 'Pulled',
        type: 'Normal',
        kind: 'Pod',
        object: 'job-x',
        note: 'not in shop',
      }),
    );
    publish(
      'kec.events.c1.shop.Pod.Warning.BackOff',
      observation({
        ns: 'shop',
        uid: 'e-backoff',
        rv: 113,
        count: 13,
        first: NOW - 60 * MIN,
        at,
        reason: 'BackOff',
        type: 'Warning',
        kind: 'Pod',
        object: 'web-1',
        note: 'Back-off restarting failed container app in pod web-1',
        incident: 'inc-1',
      }),
    );
    publish('kec.incidents.c1.shop', { ...INCIDENT, eventCount: 1, occurrenceCount: 13, lastSeen: ts(at), version: 2 });
    await waitFor(() => seen.includes('incident inc-1'), 'the incident line').finally(() => ac.abort());
    clearTimeout(stopAnyway);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      '12:01:00   shop   Warning   BackOff   Pod/web-1 (x13)   Back-off restarting failed container app in pod web-1\n' +
        '12:01:00   incident inc-1 open error: web: BackOff in shop (1 events)\n',
    );
  });

  test('cli history - get events -w lists, then adds the watched rows', async () => {
    const ac = new AbortController();
    let seen = '';
    const running = kec(['get', 'events', '-n', 'shop', '--since', '1d', '-w'], {}, ac.signal, (all) => {
      seen = all;
    });
    const stopAnyway = setTimeout(() => ac.abort(), 60_000);
    await waitFor(() => seen.includes('BackOff') && subscribed('kec.events'), 'the list and the watch');
    const at = NOW;
    publish(
      'kec.events.c1.shop.Pod.Normal.Pulled',
      observation({
        ns: 'shop',
        uid: 'e-new',
        rv: 950,
        count: 1,
        first: at,
        at,
        reason: 'Pulled',
        type: 'Normal',
        kind: 'Pod',
        object: 'web-2',
        note: 'Successfully pulled image "web:2"',
      }),
    );
    await waitFor(() => seen.includes('web-2'), 'the watched row').finally(() => ac.abort());
    clearTimeout(stopAnyway);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[3] ?? '', /^0s\s+Normal\s+Pulled\s+Pod\/web-2\s+Successfully pulled image "web:2"$/);
  });
});
