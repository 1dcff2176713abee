// Owner chains read from names (pure), and the event time the informer check uses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeEvent } from '@kec/model';
import { eventTime } from '../src/enricher.ts';
import { inferOwners, pickChain } from '../src/infer.ts';

const none = () => undefined;
const chainOf = (kind: string, name: string, cached: (k: string, n: string) => string | undefined = none) =>
  pickChain(inferOwners(kind, name), cached);

describe('inferOwners / pickChain', () => {
  test('a CronJob pod: <cronjob>-<scheduled minutes>-<5> -> Job -> CronJob', () => {
    const c = chainOf('Pod', 'report-export-29383920-x7kq2');
    assert.equal(c?.rule, 'cronjob-pod');
    assert.deepEqual(c?.owners, [
      { kind: 'Job', name: 'report-export-29383920', uid: '' },
      { kind: 'CronJob', name: 'report-export', uid: '' },
    ]);
  });

  test('a Deployment pod: <deployment>-<pod-template-hash>-<5> -> ReplicaSet -> Deployment', () => {
    const c = chainOf('Pod', 'web-7d9c6b8f5d-x2k4p');
    assert.equal(c?.rule, 'deployment-pod');
    assert.deepEqual(c?.owners, [
      { kind: 'ReplicaSet', name: 'web-7d9c6b8f5d', uid: '' },
      { kind: 'Deployment', name: 'web', uid: '' },
    ]);
    // a hyphenated deployment name keeps its hyphens
    assert.equal(chainOf('Pod', 'checkout-api-5f6b8c9d47-9zq8w')?.owners[1]?.name, 'checkout-api');
  });

  test('a StatefulSet pod: <statefulset>-<ordinal>', () => {
    assert.deepEqual(chainOf('Pod', 'postgres-0')?.owners, [{ kind: 'StatefulSet', name: 'postgres', uid: '' }]);
    assert.deepEqual(chainOf('Pod', 'kafka-broker-12')?.owners, [
      { kind: 'StatefulSet', name: 'kafka-broker', uid: '' },
    ]);
  });

  test('<name>-<5> is a DaemonSet or Job pod only when that owner is cached (its uid is taken)', () => {
    assert.equal(chainOf('Pod', 'node-exporter-x7kq2'), undefined);
    const ds = chainOf('Pod', 'node-exporter-x7kq2', (k, n) =>
      k === 'DaemonSet' && n === 'node-exporter' ? 'ds-uid' : undefined,
    );
    assert.deepEqual(ds?.owners, [{ kind: 'DaemonSet', name: 'node-exporter', uid: 'ds-uid' }]);
    const job = chainOf('Pod', 'db-migrate-x7kq2', (k) => (k === 'Job' ? 'job-uid' : undefined));
    assert.deepEqual(job?.owners, [{ kind: 'Job', name: 'db-migrate', uid: 'job-uid' }]);
  });

  test('a cached top owner gives its uid; the intermediate owner keeps an empty uid', () => {
    const c = chainOf('Pod', 'web-7d9c6b8f5d-x2k4p', (k) => (k === 'Deployment' ? 'd-uid' : undefined));
    assert.deepEqual(c?.owners, [
      { kind: 'ReplicaSet', name: 'web-7d9c6b8f5d', uid: '' },
      { kind: 'Deployment', name: 'web', uid: 'd-uid' },
    ]);
  });

  test('ReplicaSets and Jobs: their Deployment and CronJob', () => {
    assert.deepEqual(chainOf('ReplicaSet', 'web-7d9c6b8f5d')?.owners, [{ kind: 'Deployment', name: 'web', uid: '' }]);
    assert.deepEqual(chainOf('Job', 'nightly-backup-29383920')?.owners, [
      { kind: 'CronJob', name: 'nightly-backup', uid: '' },
    ]);
  });

  test('names no controller gives are not guessed', () => {
    for (const [kind, name] of [
      ['Pod', 'gone-long-ago'],
      ['Pod', 'canary'],
      ['Pod', 'web-7d9c6b8f5d-x2k4'], // 4-character suffix
      ['Pod', 'web-aeiou-x2k4p'], // vowels are not in the hash alphabet
      ['ReplicaSet', 'web'],
      ['Job', 'db-migrate'],
      ['Node', 'ip-10-0-1-7.eu-west-1.compute.internal'],
      ['Deployment', 'web-7d9c6b8f5d'],
    ] as const)
      assert.equal(chainOf(kind, name), undefined, `${kind} ${name}`);
  });
});

describe('eventTime', () => {
  const ev = (first: string, observedAt: string) =>
    normalizeEvent(
      {
        metadata: { name: 'p.1', namespace: 'default', uid: 'u', resourceVersion: '1', creationTimestamp: first },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', uid: 'p' },
        reason: 'Started',
        message: 'm',
        source: { component: 'kubelet' },
        firstTimestamp: first,
        lastTimestamp: first,
        count: 1,
        type: 'Normal',
      },
      { cluster: 'c', watchType: 'ADDED', clock: () => new Date(observedAt) },
    );

  test('the first timestamp, when it is before the watcher saw the event', () => {
    assert.equal(eventTime(ev('2026-11-22T07:00:00Z', '2026-11-22T07:00:05Z')), Date.parse('2026-11-22T07:00:00Z'));
  });

  test('when the watcher saw it, for an event stamped in the future (a clock ahead, kube-sim at --speed 10)', () => {
    assert.equal(eventTime(ev('2026-11-22T08:00:00Z', '2026-11-22T07:00:05Z')), Date.parse('2026-11-22T07:00:05Z'));
  });
});
