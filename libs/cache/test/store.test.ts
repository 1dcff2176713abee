// CacheStore against the real Redis (random prefix, purged afterwards).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CacheStore, compactObject, isNotFound } from '../src/index.ts';

const url = process.env.KEC_REDIS_URL ?? 'redis://127.0.0.1:6379';
let store: CacheStore;
before(async () => {
  store = await CacheStore.connect({ url, cluster: 'c1', prefix: `t${randomBytes(4).toString('hex')}:` });
  assert.ok(store.available);
});
after(async () => {
  await store.purge();
  await store.close();
});

const pod = (uid: string, labels: Record<string, string> = {}) =>
  compactObject('Pod', { metadata: { name: 'p-0', namespace: 'ns', uid, labels } });

test('store - live writes, MGET, index, tombstones by name and uid with a TTL', async () => {
  await store.writeLive([pod('u1', { v: '1' })]);
  const key = store.keys.object('Pod', 'ns', 'p-0');
  const [r] = await store.mget([key, store.keys.object('Pod', 'ns', 'nope')]);
  assert.equal(r && !isNotFound(r) && r.labels.v, '1');
  assert.deepEqual(await store.indexMembers('Pod'), ['ns/p-0']);
  await store.writeTombstones([pod('u1', { v: '1' })], 60_000, 1234);
  const [t, byUid] = await store.mget([key, store.keys.uid('u1')]);
  assert.equal(t && !isNotFound(t) && t.deletedAt, 1234);
  assert.equal(byUid && !isNotFound(byUid) && byUid.uid, 'u1');
  const ttl = await store.redis.pttl(key);
  assert.ok(ttl > 50_000 && ttl <= 60_000);
  assert.deepEqual(await store.indexMembers('Pod'), []);
});

test('store - a tombstone never replaces a live object of another uid that took the name', async () => {
  await store.writeLive([pod('u2', { v: 'new' })]);
  await store.writeTombstones([pod('u-old')], 60_000);
  const [r, old] = await store.mget([store.keys.object('Pod', 'ns', 'p-0'), store.keys.uid('u-old')]);
  assert.equal(r && !isNotFound(r) && r.uid, 'u2');
  assert.equal(r && !isNotFound(r) && r.deletedAt, undefined);
  assert.equal(old && !isNotFound(old) && old.deletedAt !== undefined, true);
  assert.equal(await store.redis.pttl(store.keys.object('Pod', 'ns', 'p-0')), -1, 'live record keeps no TTL');
});

test('store - putIfAbsent does not overwrite the filler; marker and sync state round-trip', async () => {
  const k = store.keys.object('Pod', 'ns', 'p-0');
  assert.equal(await store.putIfAbsent(k, { v: 1, notFound: true, checkedAt: 1 }, 1000), false);
  const k2 = store.keys.object('Pod', 'ns', 'ghost');
  assert.equal(await store.putIfAbsent(k2, { v: 1, notFound: true, checkedAt: 1 }, 1000), true);
  assert.ok(isNotFound((await store.mget([k2]))[0]));
  assert.equal(await store.getMarker(), undefined);
  await store.setMarker('epoch-1');
  assert.equal(await store.getMarker(), 'epoch-1');
  await store.setSync({ Pod: { since: 1, asOf: 2, leader: 'a' } });
  assert.deepEqual(await store.getSync(), { Pod: { since: 1, asOf: 2, leader: 'a' } });
  assert.ok((await store.countObjects()) >= 2);
});

test('store - commands fail fast with CacheUnavailableError when Redis is unreachable', async () => {
  const dead = await CacheStore.connect({ url: 'redis://127.0.0.1:1', cluster: 'c1', connectWaitMs: 50 });
  try {
    assert.equal(dead.available, false);
    await assert.rejects(dead.mget(['x']), { name: 'CacheUnavailableError', retryable: true });
  } finally {
    await dead.close();
  }
});
