// Malformed raw messages for the bad-input suite, and a reader of a stage's dead letters.

import { normalizeEvent } from '@kec/model';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';

export type BadKind =
  | 'invalid-json'
  | 'invalid-utf8'
  | 'empty'
  | 'not-an-object'
  | 'missing-uid'
  | 'missing-schema'
  | 'wrong-type-count'
  | 'wrong-type-object'
  | 'bad-timestamp'
  | 'numeric-timestamp'
  | 'huge';

const KINDS: BadKind[] = [
  'invalid-json',
  'invalid-utf8',
  'empty',
  'not-an-object',
  'missing-uid',
  'missing-schema',
  'wrong-type-count',
  'wrong-type-object',
  'bad-timestamp',
  'numeric-timestamp',
];

/** A valid kec.event/v1 payload (as the watcher publishes) for a made-up Event. */
export function validRaw(
  cluster: string,
  uid: string,
  extra: { reason?: string; message?: string } = {},
): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const obj = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `x.${uid}`, namespace: 'bad', uid, resourceVersion: '1', creationTimestamp: now },
    involvedObject: { kind: 'Pod', namespace: 'bad', name: `pod-${uid}`, uid: `pod-${uid}`, apiVersion: 'v1' },
    reason: extra.reason ?? 'Odd',
    message: extra.message ?? 'odd',
    source: { component: 'e2e' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type: 'Warning',
    reportingComponent: 'e2e',
    reportingInstance: '',
  };
  return normalizeEvent(obj, { cluster, watchType: 'ADDED' }) as unknown as Record<string, unknown>;
}

/** The i-th malformed payload; every `hugeEvery`-th one is a ~1 MB message. */
export function badPayload(cluster: string, i: number, hugeEvery: number): { kind: BadKind; data: Uint8Array } {
  const enc = new TextEncoder();
  const kind: BadKind = i % hugeEvery === hugeEvery - 1 ? 'huge' : KINDS[i % KINDS.length]!;
  const base = validRaw(cluster, `bad-${i}`);
  const json = (v: unknown) => enc.encode(JSON.stringify(v));
  switch (kind) {
    case 'invalid-json':
      return { kind, data: enc.encode(JSON.stringify(base).slice(0, 40 + (i % 50))) };
    case 'invalid-utf8':
      return { kind, data: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]) };
    case 'empty':
      return { kind, data: new Uint8Array() };
    case 'not-an-object':
      return { kind, data: json(i % 2 ? [base] : `\u202e\u0000${i}`) };
    case 'missing-uid': {
      const { uid: _u, ...rest } = base;
      return { kind, data: json(rest) };
    }
    case 'missing-schema': {
      const { schema: _s, ...rest } = base;
      return { kind, data: json(rest) };
    }
    case 'wrong-type-count':
      return { kind, data: json({ ...base, count: 'seven' }) };
    case 'wrong-type-object':
      return { kind, data: json({ ...base, regarding: 'Pod/x', resourceVersion: 12 }) };
    case 'bad-timestamp':
      return { kind, data: json({ ...base, lastTimestamp: i % 2 ? 'yesterday' : '2026-13-45T99:00:00Z' }) };
    case 'numeric-timestamp':
      return { kind, data: json({ ...base, firstTimestamp: 1_764_000_000 + i }) };
    case 'huge':
      return { kind, data: json({ ...base, uid: 7, note: 'x'.repeat(1_000_000) }) };
  }
}

export interface DeadLetter {
  msgId: string;
  error: string;
  reason: string;
  size: number;
}

/** Every dead letter on `<root>.dlq.<stage>` in the DLQ stream. */
export async function readDeadLetters(natsUrl: string, stream: string, subject: string): Promise<DeadLetter[]> {
  const nc: NatsConnection = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream, { subjects_filter: subject }).catch(() => undefined);
    const total = info?.state.subjects?.[subject] ?? 0;
    const out: DeadLetter[] = [];
    if (total === 0) return out;
    const c = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
    const it = await c.consume({ max_messages: 500 });
    for await (const m of it) {
      out.push({
        msgId: m.headers?.get('Kec-Dlq-Msg-Id') ?? '',
        error: m.headers?.get('Kec-Dlq-Error') ?? '',
        reason: m.headers?.get('Kec-Dlq-Reason') ?? '',
        size: m.data.length,
      });
      if (out.length >= total) break;
    }
    await it.close();
    return out;
  } finally {
    await nc.close();
  }
}

export { headers };
