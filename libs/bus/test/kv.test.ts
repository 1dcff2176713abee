import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openKv } from '../src/index.ts';
import { randomId, testBus } from './helpers.ts';

test('kv - openKv creates a bucket once and reopens it with its data', async (t) => {
  const tb = await testBus();
  const bucket = `t_${randomId()}`;
  t.after(async () => {
    await tb.bus.kvm.open(bucket).then((kv) => kv.destroy());
    await tb.cleanup();
  });
  const kv = await openKv(tb.bus, bucket, { history: 2, ttlMs: 60_000 });
  const rev = await kv.put('rv.cluster1', '12345');
  const again = await openKv(tb.bus, bucket, { history: 2, ttlMs: 60_000 });
  const e = await again.get('rv.cluster1');
  assert.equal(e?.string(), '12345');
  assert.equal(e?.revision, rev);
  const status = await again.status();
  assert.equal(status.history, 2);
  assert.equal(status.ttl, 60_000);
  // Compare-and-set works on 2.9 (leases use it); a stale revision is rejected.
  await again.update('rv.cluster1', '12346', rev);
  await assert.rejects(again.update('rv.cluster1', '12347', rev));
});
