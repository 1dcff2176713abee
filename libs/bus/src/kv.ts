// A thin helper over @nats-io/kv: open a bucket, creating it when missing.
import type { KV, KvOptions } from '@nats-io/kv';
import type { Bus } from './connect.ts';
import { BusError } from './errors.ts';

export type { KV };

export interface OpenKvOptions {
  /** Values kept per key (default 1). */
  history?: number;
  /**
   * Bucket-wide max age in ms (the stream's max_age): every value expires this long after it was written.
   * Per-key TTL (`kv.create(k, v, ttl)`) and delete markers need nats-server 2.11; 2.9 silently ignores them.
   */
  ttlMs?: number;
  /** Replicas (default 1). */
  replicas?: number;
  /** Bucket size limit in bytes (default unlimited). */
  maxBytes?: number;
}

/**
 * Opens `bucket`, creating it with these options when it does not exist. An existing bucket is used as it
 * is: its limits are not changed here.
 */
export async function openKv(bus: Bus, bucket: string, opts: OpenKvOptions = {}): Promise<KV> {
  const o: Partial<KvOptions> = { history: opts.history ?? 1, replicas: opts.replicas ?? 1 };
  if (opts.ttlMs !== undefined) o.ttl = opts.ttlMs;
  if (opts.maxBytes !== undefined) o.max_bytes = opts.maxBytes;
  try {
    return await bus.kvm.create(bucket, o);
  } catch (cause) {
    throw new BusError(`cannot open KV bucket ${bucket}`, { cause, retryable: true });
  }
}
