import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isKecEvent,
  type KecEvent,
  ModelValidationError,
  normalizeCoreV1,
  normalizeEvent,
  normalizeEventsV1,
  toCoreV1,
  toEventsV1,
} from '../src/index.ts';
import { clock, fixture, OBSERVED_AT, withoutManagedFields } from './fixtures.ts';

type Obj = Record<string, unknown>;
const env = { cluster: 'prod-eu1', watchType: 'MODIFIED' as const, clock };

function frameObject(name: string): Obj {
  return (fixture(name) as { object: Obj }).object;
}

function assertValid(ev: KecEvent): void {
  assert.ok(isKecEvent(ev), `not a valid KecEvent: ${JSON.stringify(ev)}`);
}

describe('normalize core/v1', () => {
  test('normalize - kubelet BackOff MODIFIED frame maps every field', () => {
    const frame = fixture('core-v1-backoff-modified.frame.json') as { type: 'MODIFIED'; object: Obj };
    const ev = normalizeCoreV1(frame.object, { cluster: 'prod-eu1', watchType: frame.type, clock });
    assertValid(ev);
    assert.deepEqual(ev, {
      schema: 'kec.event/v1',
      cluster: 'prod-eu1',
      observedAt: OBSERVED_AT,
      sourceApi: 'core/v1',
      watchType: 'MODIFIED',
      resourceVersion: '48213',
      uid: '3f1c2a7e-5b0d-4c1e-9a3f-2d7b8e6c4a10',
      name: 'web-7d9c6b8f5d-x2k4p.17c8a9f0e3b1d2a4',
      namespace: 'shop',
      creationTimestamp: '2026-05-01T12:00:00Z',
      labels: {},
      annotations: {},
      eventTime: null,
      series: null,
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
      action: '',
      reason: 'BackOff',
      regarding: {
        kind: 'Pod',
        namespace: 'shop',
        name: 'web-7d9c6b8f5d-x2k4p',
        uid: '9a2e4b6c-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
        apiVersion: 'v1',
        resourceVersion: '48190',
        fieldPath: 'spec.containers{app}',
      },
      related: null,
      note: 'Back-off restarting failed container app in pod web-7d9c6b8f5d-x2k4p_shop(9a2e4b6c-1d3f-4a5b-8c7d-0e1f2a3b4c5d)',
      type: 'Warning',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
      deprecatedFirstTimestamp: '2026-05-01T12:00:00Z',
      deprecatedLastTimestamp: '2026-05-01T12:05:10Z',
      deprecatedCount: 7,
      count: 7,
      firstTimestamp: '2026-05-01T12:00:00Z',
      lastTimestamp: '2026-05-01T12:05:10Z',
      combined: false,
    });
  });

  test('normalize - PodDisruptionBudget NoPods LIST item (no kind/apiVersion) keeps count 109050 and drops managedFields', () => {
    const item = fixture('core-v1-pdb-nopods.list-item.json') as Obj;
    const ev = normalizeEvent(item, { cluster: 'prod-eu1', watchType: 'LISTED', clock });
    assertValid(ev);
    assert.equal(ev.sourceApi, 'core/v1');
    assert.equal(ev.watchType, 'LISTED');
    assert.equal(ev.reason, 'NoPods');
    assert.equal(ev.note, 'No matching pods found');
    assert.equal(ev.regarding.kind, 'PodDisruptionBudget');
    assert.equal(ev.regarding.apiVersion, 'policy/v1');
    assert.equal(ev.regarding.fieldPath, '');
    assert.equal(ev.count, 109050);
    assert.equal(ev.deprecatedCount, 109050);
    assert.equal(ev.firstTimestamp, '2022-01-09T06:26:12Z');
    assert.equal(ev.lastTimestamp, '2022-02-16T03:11:21Z');
    assert.deepEqual(ev.deprecatedSource, { component: 'controllermanager', host: '' });
    assert.equal(ev.reportingController, '');
    assert.equal(ev.type, 'Normal');
    assert.ok(!('managedFields' in ev));
    assert.ok(!JSON.stringify(ev).includes('managedFields'));
  });

  test('normalize - kubelet SandboxChanged on node minikube', () => {
    const ev = normalizeEvent(fixture('core-v1-sandboxchanged.json'), env);
    assertValid(ev);
    assert.equal(ev.reason, 'SandboxChanged');
    assert.equal(ev.note, 'Pod sandbox changed, it will be killed and re-created.');
    assert.equal(ev.type, 'Normal');
    assert.deepEqual(ev.deprecatedSource, { component: 'kubelet', host: 'minikube' });
    assert.equal(ev.reportingInstance, 'minikube');
    assert.equal(ev.count, 1);
    assert.equal(ev.firstTimestamp, ev.lastTimestamp);
  });

  test('normalize - ImagePullBackOff sequence for one pod keeps order, reasons, types and messages', () => {
    const items = fixture('core-v1-imagepullbackoff-sequence.json') as Obj[];
    const evs = items.map((o) => normalizeEvent(o, { cluster: 'minikube', watchType: 'ADDED', clock }));
    for (const ev of evs) assertValid(ev);
    assert.deepEqual(
      evs.map((e) => [e.reason, e.type]),
      [
        ['Pulling', 'Normal'],
        ['Failed', 'Warning'],
        ['Failed', 'Warning'],
        ['Failed', 'Warning'],
        ['BackOff', 'Normal'],
      ],
    );
    assert.equal(evs[0]!.note, 'Pulling image "nginx:doesnotexist"');
    assert.match(
      evs[1]!.note,
      /^Failed to pull image "nginx:doesnotexist": rpc error: code = NotFound desc = .*: not found$/,
    );
    assert.equal(evs[2]!.note, 'Error: ErrImagePull');
    assert.equal(evs[3]!.note, 'Error: ImagePullBackOff');
    assert.equal(evs[4]!.note, 'Back-off pulling image "nginx:doesnotexist"');
    // all about the same container of the same pod
    assert.equal(new Set(evs.map((e) => `${e.regarding.uid}/${e.regarding.fieldPath}`)).size, 1);
    assert.equal(new Set(evs.map((e) => e.uid)).size, 5);
  });

  test('normalize - the "(combined from similar events): " prefix sets combined and keeps the note unchanged', () => {
    const obj = fixture('core-v1-combined-unhealthy.json') as Obj;
    const ev = normalizeEvent(obj, env);
    assertValid(ev);
    assert.equal(ev.combined, true);
    assert.equal(ev.note, obj['message']);
    assert.ok(ev.note.startsWith('(combined from similar events): Readiness probe failed'));
    const plain = normalizeEvent(fixture('core-v1-sandboxchanged.json'), env);
    assert.equal(plain.combined, false);
    // the prefix must be at the start
    const mid = { ...obj, message: 'x (combined from similar events): y' };
    assert.equal(normalizeEvent(mid, env).combined, false);
  });
});

describe('normalize events.k8s.io/v1', () => {
  test('normalize - FailedScheduling with series: count and lastTimestamp come from the series', () => {
    const ev = normalizeEventsV1(fixture('events-v1-failedscheduling.json'), env);
    assertValid(ev);
    assert.equal(ev.sourceApi, 'events.k8s.io/v1');
    assert.equal(ev.eventTime, '2026-05-01T12:00:00.123456Z');
    assert.deepEqual(ev.series, { count: 3, lastObservedTime: '2026-05-01T12:04:00.654321Z' });
    assert.equal(ev.count, 3);
    assert.equal(ev.deprecatedCount, null);
    assert.equal(ev.deprecatedFirstTimestamp, null);
    assert.equal(ev.deprecatedLastTimestamp, null);
    assert.equal(ev.firstTimestamp, '2026-05-01T12:00:00.123456Z');
    assert.equal(ev.lastTimestamp, '2026-05-01T12:04:00.654321Z');
    assert.equal(ev.reportingController, 'default-scheduler');
    assert.equal(ev.reportingInstance, 'default-scheduler-cp-1');
    assert.equal(ev.action, 'Scheduling');
    assert.deepEqual(ev.deprecatedSource, { component: '', host: '' });
    assert.equal(ev.regarding.fieldPath, '');
  });

  test('normalize - the same object read through core/v1 (count absent, null timestamps) gives the same KecEvent', () => {
    const viaEvents = normalizeEvent(fixture('events-v1-failedscheduling.json'), env);
    const viaCore = normalizeEvent(fixture('core-v1-failedscheduling.json'), env);
    assertValid(viaCore);
    assert.equal(viaCore.sourceApi, 'core/v1');
    assert.equal(viaCore.deprecatedCount, null);
    assert.equal(viaCore.count, 3);
    assert.deepEqual({ ...viaCore, sourceApi: 'events.k8s.io/v1' }, viaEvents);
  });

  test('normalize - related object is kept in full', () => {
    const ev = normalizeEvent(fixture('events-v1-preempted.json'), env);
    assertValid(ev);
    assert.deepEqual(ev.related, {
      kind: 'Pod',
      namespace: 'shop',
      name: 'checkout-0',
      uid: 'e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9',
      apiVersion: 'v1',
      resourceVersion: '60200',
      fieldPath: '',
    });
    assert.equal(ev.series, null);
    assert.equal(ev.count, 1);
    assert.equal(ev.firstTimestamp, '2026-05-01T09:30:17.482913Z');
    assert.equal(ev.lastTimestamp, '2026-05-01T09:30:17.482913Z');
  });
});

describe('round trip', () => {
  const coreFixtures: Array<[string, () => Obj]> = [
    ['kubelet BackOff', () => frameObject('core-v1-backoff-modified.frame.json')],
    ['FailedScheduling via core/v1', () => fixture('core-v1-failedscheduling.json') as Obj],
    ['combined Unhealthy', () => fixture('core-v1-combined-unhealthy.json') as Obj],
    ['SandboxChanged', () => fixture('core-v1-sandboxchanged.json') as Obj],
    ...(fixture('core-v1-imagepullbackoff-sequence.json') as Obj[]).map((o, i): [string, () => Obj] => [
      `ImagePullBackOff #${i}`,
      () => structuredClone(o),
    ]),
  ];
  for (const [name, load] of coreFixtures) {
    test(`round trip - core/v1 ${name}: toCoreV1(normalize(x)) equals x`, () => {
      const obj = load();
      assert.deepEqual(toCoreV1(normalizeEvent(obj, env)), obj);
    });
  }

  test('round trip - core/v1 LIST item: equal except managedFields (dropped) and kind/apiVersion (LIST items omit them)', () => {
    const item = fixture('core-v1-pdb-nopods.list-item.json') as Obj;
    const rendered = toCoreV1(normalizeEvent(item, { ...env, watchType: 'LISTED' }));
    assert.deepEqual(rendered, { kind: 'Event', apiVersion: 'v1', ...withoutManagedFields(item) });
  });

  for (const name of ['events-v1-failedscheduling.json', 'events-v1-preempted.json']) {
    test(`round trip - events.k8s.io/v1 ${name}: toEventsV1(normalize(x)) equals x`, () => {
      const obj = fixture(name) as Obj;
      assert.deepEqual(toEventsV1(normalizeEvent(obj, env)), obj);
    });
  }

  test('round trip - across APIs: the core/v1 view renders as the events.k8s.io/v1 view and back', () => {
    const core = fixture('core-v1-failedscheduling.json') as Obj;
    const events = fixture('events-v1-failedscheduling.json') as Obj;
    assert.deepEqual(toEventsV1(normalizeEvent(core, env)), events);
    assert.deepEqual(toCoreV1(normalizeEvent(events, env)), core);
  });

  test('round trip - a legacy core/v1 event renders as events.k8s.io/v1 the way the server converts it', () => {
    const ev = normalizeEvent(frameObject('core-v1-backoff-modified.frame.json'), env);
    const rendered = toEventsV1(ev);
    assert.equal(rendered['note'], ev.note);
    assert.deepEqual(rendered['deprecatedSource'], { component: 'kubelet', host: 'node-1' });
    assert.equal(rendered['deprecatedCount'], 7);
    assert.equal(rendered['deprecatedFirstTimestamp'], '2026-05-01T12:00:00Z');
    assert.equal(rendered['eventTime'], null);
    assert.equal(rendered['reportingController'], 'kubelet');
    assert.ok(!('involvedObject' in rendered) && !('message' in rendered) && !('count' in rendered));
    // and back again, losslessly
    assert.deepEqual(toCoreV1(normalizeEvent(rendered, env)), frameObject('core-v1-backoff-modified.frame.json'));
  });

  test('round trip - labels and annotations survive', () => {
    const obj = fixture('core-v1-sandboxchanged.json') as Obj;
    (obj['metadata'] as Obj)['labels'] = { app: 'coredns' };
    (obj['metadata'] as Obj)['annotations'] = { 'example.com/note': 'x' };
    const ev = normalizeEvent(obj, env);
    assert.deepEqual(ev.labels, { app: 'coredns' });
    assert.deepEqual(toCoreV1(ev), obj);
  });

  test('round trip - documented zero-value normalisation: absent/null/"" collapse to the omitempty form', () => {
    const obj = fixture('core-v1-sandboxchanged.json') as Obj;
    const noisy: Obj = {
      ...obj,
      related: null,
      series: null,
      action: '',
      count: 0,
      involvedObject: { ...(obj['involvedObject'] as Obj), fieldPath: '' },
    };
    delete noisy['source'];
    const ev = normalizeEvent(noisy, env);
    assertValid(ev);
    assert.equal(ev.count, 1); // count 0 still means one occurrence
    assert.equal(ev.deprecatedCount, 0);
    const expected: Obj = { ...obj, source: {} };
    delete expected['count'];
    assert.deepEqual(toCoreV1(ev), expected);
  });
});

describe('timestamps from client-node', () => {
  test('normalize - Date objects (client-node ObjectSerializer) become RFC3339 strings of the right precision', () => {
    const obj = frameObject('core-v1-backoff-modified.frame.json');
    const meta = obj['metadata'] as Obj;
    meta['creationTimestamp'] = new Date('2026-05-01T12:00:00Z');
    obj['firstTimestamp'] = new Date('2026-05-01T12:00:00Z');
    obj['lastTimestamp'] = new Date('2026-05-01T12:05:10Z');
    obj['eventTime'] = new Date('2026-05-01T12:05:10.123Z');
    const ev = normalizeEvent(obj, env);
    assertValid(ev);
    assert.equal(ev.creationTimestamp, '2026-05-01T12:00:00Z');
    assert.equal(ev.deprecatedFirstTimestamp, '2026-05-01T12:00:00Z');
    assert.equal(ev.deprecatedLastTimestamp, '2026-05-01T12:05:10Z');
    assert.equal(ev.eventTime, '2026-05-01T12:05:10.123000Z');
  });

  test('normalize - timestamps with offsets and odd fraction lengths are converted to UTC', () => {
    const obj = fixture('events-v1-failedscheduling.json') as Obj;
    obj['eventTime'] = '2026-05-01T14:00:00.1234567+02:00';
    (obj['series'] as Obj)['lastObservedTime'] = '2026-05-01T12:04:00.6Z';
    const ev = normalizeEvent(obj, env);
    assertValid(ev);
    assert.equal(ev.eventTime, '2026-05-01T12:00:00.123456Z');
    assert.equal(ev.series?.lastObservedTime, '2026-05-01T12:04:00.600000Z');
  });
});

describe('envelope and choice of API', () => {
  test('normalize - observedAt comes from the injected clock with 6 fraction digits', () => {
    const ev = normalizeEvent(fixture('core-v1-sandboxchanged.json'), {
      cluster: 'c1',
      watchType: 'DELETED',
      clock: () => new Date('2030-01-02T03:04:05.006Z'),
    });
    assert.equal(ev.observedAt, '2030-01-02T03:04:05.006000Z');
    assert.equal(ev.watchType, 'DELETED');
    assert.equal(ev.cluster, 'c1');
  });

  test('normalize - default clock gives a current observedAt', () => {
    const before = Date.now();
    const ev = normalizeEvent(fixture('core-v1-sandboxchanged.json'), { cluster: 'c1', watchType: 'ADDED' });
    const t = Date.parse(ev.observedAt);
    assert.ok(t >= before - 1 && t <= Date.now() + 1, ev.observedAt);
    assertValid(ev);
  });

  test('normalize - cluster names that would break a NATS subject or the dedup id are rejected', () => {
    for (const cluster of ['a.b', 'a*', 'a>', 'a b', 'a/b', '']) {
      assert.throws(
        () => normalizeEvent(fixture('core-v1-sandboxchanged.json'), { cluster, watchType: 'ADDED', clock }),
        (e: unknown) => e instanceof ModelValidationError && e.path === '/cluster',
        cluster,
      );
    }
  });

  test('normalize - BOOKMARK as watchType is rejected (bookmarks are not events)', () => {
    assert.throws(
      () =>
        normalizeEvent(fixture('core-v1-sandboxchanged.json'), {
          cluster: 'c',
          watchType: 'BOOKMARK' as 'ADDED',
          clock,
        }),
      (e: unknown) => e instanceof ModelValidationError && e.path === '/watchType',
    );
  });

  test('normalize - apiVersion decides even when the shape is ambiguous; unknown shapes are rejected', () => {
    const events = fixture('events-v1-failedscheduling.json') as Obj;
    delete events['apiVersion'];
    delete events['kind'];
    assert.equal(normalizeEvent(events, env).sourceApi, 'events.k8s.io/v1'); // LIST item: by shape
    const bare = { metadata: { name: 'x', uid: 'u', resourceVersion: '1' } };
    assert.throws(() => normalizeEvent(bare, env), ModelValidationError);
    assert.equal(normalizeEvent({ ...bare, apiVersion: 'v1' }, env).sourceApi, 'core/v1');
    assert.throws(
      () => normalizeEvent({ ...bare, apiVersion: 'apps/v1' }, env),
      (e: unknown) => e instanceof ModelValidationError && e.path === '/apiVersion',
    );
  });
});
