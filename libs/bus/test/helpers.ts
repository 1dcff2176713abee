// Test helpers: a Bus on a random subject root with randomly prefixed streams, removed afterwards.
import { randomBytes } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import { pino } from 'pino';
import {
  type Bus,
  connectBus,
  consumerSpec,
  ensureConsumer,
  ensureStream,
  type StreamSpec,
  streamSpec,
} from '../src/index.ts';

export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';

export function randomId(): string {
  return randomBytes(5).toString('hex');
}

export interface TestBus {
  bus: Bus;
  prefix: string;
  /** Creates a catalogue stream (e.g. KEC_RAW) under this test's prefix and root, small limits. */
  stream(name: string, overrides?: Partial<Omit<StreamSpec, 'name' | 'subjects'>>): Promise<StreamSpec>;
  /** Creates a durable on a stream with the given limits. */
  durable(
    stream: string,
    name: string,
    opts?: { ackWaitMs?: number; maxDeliver?: number; maxAckPending?: number; filterSubject?: string },
  ): Promise<void>;
  /** Registers something to stop before cleanup (a consumer handle). */
  track<T extends { stop(): Promise<void> }>(h: T): T;
  /** Stops tracked handles, deletes every stream this test created and closes the connection. */
  cleanup(): Promise<void>;
}

export async function testBus(name = 'bus-test', opts: { meter?: Meter } = {}): Promise<TestBus> {
  const id = randomId();
  const bus = await connectBus({
    url: NATS_URL,
    name,
    root: `t${id}`,
    logger: pino({ level: 'silent' }),
    ...(opts.meter ? { meter: opts.meter } : {}),
  });
  const prefix = `T${id}_`;
  const created: string[] = [];
  const handles: Array<{ stop(): Promise<void> }> = [];
  return {
    bus,
    prefix,
    async stream(stream, overrides = {}) {
      const spec = streamSpec(stream, bus.root, prefix, {
        overrides: { [stream]: { max_bytes: 64 * 1024 * 1024, ...overrides } },
      });
      await ensureStream(bus.jsm, spec);
      created.push(spec.name);
      return spec;
    },
    async durable(stream, durable, opts = {}) {
      await ensureConsumer(bus.jsm, stream, consumerSpec(durable, opts));
    },
    track(h) {
      handles.push(h);
      return h;
    },
    async cleanup() {
      await Promise.allSettled(handles.map((h) => h.stop()));
      for (const s of created) {
        try {
          await bus.jsm.streams.delete(s);
        } catch {
          // already gone
        }
      }
      await bus.close();
    },
  };
}

/** Waits until `cond()` is true, polling every 10 ms; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
