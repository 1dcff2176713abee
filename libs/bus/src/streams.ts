// Declarative JetStream streams and durable pull consumers, provisioned idempotently.
// Every field used here exists in nats-server 2.9 (no subject_transform, metadata, compression, filter_subjects).
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { type Logger, pino } from 'pino';
import { ProvisionError } from './errors.ts';
import { DEFAULT_ROOT, type SubjectKind, subjects } from './subjects.ts';

/** The stream fields kec manages. Durations are nanoseconds, as the server stores them. */
export type StreamSpec = Pick<
  StreamConfig,
  | 'name'
  | 'subjects'
  | 'description'
  | 'retention'
  | 'storage'
  | 'discard'
  | 'max_age'
  | 'max_bytes'
  | 'max_msgs'
  | 'max_msg_size'
  | 'duplicate_window'
  | 'num_replicas'
  | 'allow_direct'
>;

/** The consumer fields kec manages for a durable pull consumer. Durations in nanoseconds. */
export type ConsumerSpec = Required<
  Pick<ConsumerConfig, 'durable_name' | 'ack_wait' | 'max_deliver' | 'max_ack_pending'>
> &
  Partial<
    Pick<
      ConsumerConfig,
      'filter_subject' | 'description' | 'deliver_policy' | 'max_waiting' | 'backoff' | 'inactive_threshold'
    >
  >;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface StreamDefaults {
  stream: string;
  kind: SubjectKind;
  description: string;
  maxAgeMs: number;
  maxBytes: number;
  duplicateWindowMs: number;
}

/**
 * The catalogue. Duplicate windows: the server keeps every Nats-Msg-Id seen inside the window in memory
 * (roughly 100-150 bytes each), so a window costs ~rate x window entries; see README for the reasoning.
 */
export const STREAM_CATALOGUE: readonly StreamDefaults[] = [
  {
    stream: 'KEC_RAW',
    kind: 'raw',
    description: 'watcher output: Kubernetes Events as observed (Nats-Msg-Id <cluster>/<uid>/<resourceVersion>)',
    maxAgeMs: DAY,
    maxBytes: 8 * GiB,
    duplicateWindowMs: 15 * MIN,
  },
  {
    stream: 'KEC_ENRICHED',
    kind: 'enriched',
    description: 'enricher output: events with object metadata and owner chain',
    maxAgeMs: DAY,
    maxBytes: 8 * GiB,
    duplicateWindowMs: 10 * MIN,
  },
  {
    stream: 'KEC_EVENTS',
    kind: 'events',
    description: 'classified events (public contract)',
    maxAgeMs: 3 * DAY,
    maxBytes: 8 * GiB,
    duplicateWindowMs: 10 * MIN,
  },
  {
    stream: 'KEC_INCIDENTS',
    kind: 'incidents',
    description: 'incident opens, updates and resolves (public contract)',
    maxAgeMs: 7 * DAY,
    maxBytes: 1 * GiB,
    duplicateWindowMs: 10 * MIN,
  },
  {
    stream: 'KEC_PATTERNS',
    kind: 'patterns',
    description: 'storms and first-seen patterns',
    maxAgeMs: 3 * DAY,
    maxBytes: 1 * GiB,
    duplicateWindowMs: 10 * MIN,
  },
  {
    stream: 'KEC_GAPS',
    kind: 'gaps',
    description: 'gap records: windows in which events may have been missed',
    maxAgeMs: 30 * DAY,
    maxBytes: 256 * MiB,
    duplicateWindowMs: HOUR,
  },
  {
    stream: 'KEC_DLQ',
    kind: 'dlq',
    description: 'dead letters of every stage (original data + Kec-Dlq-* headers)',
    maxAgeMs: 14 * DAY,
    maxBytes: 1 * GiB,
    duplicateWindowMs: HOUR,
  },
];

export const MAX_MSG_SIZE = 1 * MiB;

export interface StreamSpecOptions {
  /** Replicas per stream (default 1; 3 in a clustered production deployment). */
  replicas?: number;
  /** Overrides by catalogue name (e.g. `KEC_RAW`): any managed field except name and subjects. */
  overrides?: Partial<Record<string, Partial<Omit<StreamSpec, 'name' | 'subjects'>>>>;
}

/**
 * The stream catalogue for a subject root and a stream-name prefix (`''` in production, a random
 * prefix in tests so parallel tests do not share streams).
 */
export function streamSpecs(root: string = DEFAULT_ROOT, prefix = '', opts: StreamSpecOptions = {}): StreamSpec[] {
  const subj = subjects(root);
  return STREAM_CATALOGUE.map((d) => ({
    name: prefix + d.stream,
    subjects: [subj.all(d.kind)],
    description: d.description,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(d.maxAgeMs),
    max_bytes: d.maxBytes,
    max_msgs: -1,
    max_msg_size: MAX_MSG_SIZE,
    duplicate_window: nanos(d.duplicateWindowMs),
    num_replicas: opts.replicas ?? 1,
    allow_direct: true,
    ...opts.overrides?.[d.stream],
  }));
}

/** One spec of the catalogue by its unprefixed name (e.g. `KEC_RAW`). */
export function streamSpec(
  stream: string,
  root: string = DEFAULT_ROOT,
  prefix = '',
  opts: StreamSpecOptions = {},
): StreamSpec {
  const spec = streamSpecs(root, prefix, opts).find((s) => s.name === prefix + stream);
  if (!spec) throw new ProvisionError(`no stream ${stream} in the catalogue`);
  return spec;
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const sa = [...a].map(String).sort();
    const sb = [...b].map(String).sort();
    return sa.every((v, i) => v === sb[i]);
  }
  return a === b;
}

/** Fields of `spec` whose value differs from `current` (missing in current counts as different). */
export function configDiff(spec: object, current: object): string[] {
  const cur = current as Record<string, unknown>;
  return Object.entries(spec)
    .filter(([k, v]) => v !== undefined && !same(v, cur[k]))
    .map(([k]) => k);
}

const IMMUTABLE_STREAM_FIELDS = new Set(['storage', 'retention']);

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

export type EnsureResult = 'created' | 'updated' | 'unchanged';

/**
 * Limits ensureStream only ever raises on an existing stream. Services share streams and each may configure its own
 * limit; lowering one with discard-old would delete data nobody has consumed yet, and alternating starts would flip
 * the stream between values. Shrinking is a deliberate operator action (`nats stream edit`).
 */
export const GROW_ONLY_STREAM_FIELDS = ['max_bytes', 'max_age', 'max_msgs', 'max_msg_size'] as const;

// -1 (and 0 for max_age) mean unlimited in JetStream.
function limitValue(field: string, v: unknown): number {
  const n = Number(v);
  if (n < 0 || (field === 'max_age' && n === 0)) return Number.POSITIVE_INFINITY;
  return n;
}

let defaultLogger: Logger | undefined;
const warnedShrinks = new Set<string>();

/**
 * `spec` with every grow-only limit that would shrink the existing stream replaced by the current value, plus the
 * fields that were kept.
 */
export function withoutShrinks<T extends Partial<StreamSpec>>(
  spec: T,
  current: Partial<StreamConfig>,
): { spec: T; kept: Array<{ field: string; configured: number; current: number }> } {
  const out = { ...spec };
  const kept: Array<{ field: string; configured: number; current: number }> = [];
  for (const f of GROW_ONLY_STREAM_FIELDS) {
    const want = spec[f];
    const have = current[f];
    if (want === undefined || have === undefined) continue;
    if (limitValue(f, want) < limitValue(f, have)) {
      (out as Record<string, unknown>)[f] = have;
      kept.push({ field: f, configured: Number(want), current: Number(have) });
    }
  }
  return { spec: out, kept };
}

/** Whether two subjects (with `*` and `>` wildcards) can match a common subject. */
export function subjectsCollide(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const s = x[i];
    const t = y[i];
    if (s === '>' || t === '>') return s !== undefined && t !== undefined;
    if (s === undefined || t === undefined) return false;
    if (s !== '*' && t !== '*' && s !== t) return false;
  }
  return true;
}

/** Other streams whose subjects overlap the wanted stream's, with the overlapping subjects. */
async function overlappingStreams(
  jsm: JetStreamManager,
  wanted: StreamSpec,
): Promise<Array<{ name: string; subjects: string[] }>> {
  const out: Array<{ name: string; subjects: string[] }> = [];
  for await (const s of jsm.streams.list()) {
    if (s.config.name === wanted.name) continue;
    const hit = (s.config.subjects ?? []).filter((t) => (wanted.subjects ?? []).some((w) => subjectsCollide(t, w)));
    if (hit.length > 0) out.push({ name: s.config.name, subjects: hit });
  }
  return out;
}

function overlapError(wanted: StreamSpec, holders: Array<{ name: string; subjects: string[] }>, cause: unknown) {
  const list = holders.map((h) => `${h.name} (${h.subjects.join(', ')})`).join(', ');
  const first = holders[0]!.name;
  return new ProvisionError(
    `stream ${wanted.name}: cannot be created: its subjects ${(wanted.subjects ?? []).join(', ')} are held by ` +
      `stream ${list}. If that stream is left over (e.g. from an older demo), delete it: \`nats stream rm ${first}\`; ` +
      'if it belongs to another kec on this NATS, give this one its own subject root and stream prefix ' +
      '(KEC_<SERVICE>_SUBJECT_ROOT, KEC_<SERVICE>_STREAM_PREFIX)',
    { cause },
  );
}

/**
 * Creates the stream, or updates it when a managed field differs. Never deletes a stream or its data:
 * a change the server cannot apply in place (storage, retention) is a ProvisionError, and the limits in
 * GROW_ONLY_STREAM_FIELDS are never lowered on an existing stream (the larger value is kept and a warning logged
 * once per stream, field and value).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  wanted: StreamSpec,
  opts: { logger?: Logger } = {},
): Promise<{ result: EnsureResult; info: StreamInfo }> {
  const name = wanted.name;
  for (let attempt = 0; attempt < 3; attempt++) {
    let current: StreamInfo | undefined;
    try {
      current = await jsm.streams.info(name);
    } catch (err) {
      if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) {
        throw new ProvisionError(`stream ${name}: info failed`, { cause: err, retryable: true });
      }
    }
    if (!current) {
      try {
        return { result: 'created', info: await jsm.streams.add(wanted) };
      } catch (err) {
        const holders = await overlappingStreams(jsm, wanted).catch(() => []);
        if (holders.length > 0) throw overlapError(wanted, holders, err);
        // Another replica may have created it at the same moment: look again.
        if (attempt < 2 && err instanceof JetStreamApiError) continue;
        throw new ProvisionError(`stream ${name}: create failed`, { cause: err });
      }
    }
    const { spec, kept } = withoutShrinks(wanted, current.config);
    for (const k of kept) {
      const key = `${spec.name}/${k.field}/${k.configured}`;
      if (warnedShrinks.has(key)) continue;
      warnedShrinks.add(key);
      defaultLogger ??= pino({ name: 'kec-bus' });
      (opts.logger ?? defaultLogger).warn(
        { stream: spec.name, field: k.field, configured: k.configured, current: k.current },
        `stream ${spec.name}: configured ${k.field} ${k.configured} is lower than the current ${k.current}; keeping ` +
          `${k.current} (lowering it would discard stored messages). Shrink it deliberately with ` +
          `\`nats stream edit ${spec.name} --${k.field.replace(/_/g, '-')} ...\``,
      );
    }
    const diff = configDiff(spec, current.config);
    if (diff.length === 0) return { result: 'unchanged', info: current };
    const immutable = diff.filter((f) => IMMUTABLE_STREAM_FIELDS.has(f));
    if (immutable.length > 0) {
      throw new ProvisionError(
        `stream ${spec.name}: ${immutable.join(', ')} differ and cannot be changed in place; migrate it by hand`,
      );
    }
    const { name: _name, ...update } = spec;
    try {
      return { result: 'updated', info: await jsm.streams.update(spec.name, update) };
    } catch (err) {
      throw new ProvisionError(`stream ${spec.name}: update of ${diff.join(', ')} failed`, { cause: err });
    }
  }
  throw new ProvisionError(`stream ${name}: could not be created`, { retryable: true });
}

/** Ensures every stream of a catalogue, in order. */
export async function ensureStreams(
  jsm: JetStreamManager,
  specs: StreamSpec[],
): Promise<Array<{ name: string; result: EnsureResult }>> {
  const out: Array<{ name: string; result: EnsureResult }> = [];
  for (const s of specs) out.push({ name: s.name, result: (await ensureStream(jsm, s)).result });
  return out;
}

/** A durable pull consumer spec with kec's defaults (explicit ack, deliver all, ack_wait 30 s, 5 deliveries). */
export function consumerSpec(
  durable: string,
  opts: {
    filterSubject?: string;
    ackWaitMs?: number;
    maxDeliver?: number;
    maxAckPending?: number;
    description?: string;
  } = {},
): ConsumerSpec {
  return {
    durable_name: durable,
    ack_wait: nanos(opts.ackWaitMs ?? 30_000),
    max_deliver: opts.maxDeliver ?? 5,
    max_ack_pending: opts.maxAckPending ?? 1000,
    ...(opts.filterSubject === undefined ? {} : { filter_subject: opts.filterSubject }),
    ...(opts.description === undefined ? {} : { description: opts.description }),
  };
}

// Fields the server refuses to change on an existing consumer.
const IMMUTABLE_CONSUMER_FIELDS = new Set(['deliver_policy', 'durable_name']);

/**
 * Creates the durable pull consumer (explicit ack), or updates it when a managed field differs.
 * Never deletes it (that would lose its position): an unchangeable difference is a ProvisionError.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  spec: ConsumerSpec,
): Promise<{ result: EnsureResult; info: ConsumerInfo }> {
  const full: ConsumerSpec & Pick<ConsumerConfig, 'ack_policy' | 'replay_policy'> = {
    deliver_policy: DeliverPolicy.All,
    ...spec,
    ack_policy: AckPolicy.Explicit,
    replay_policy: ReplayPolicy.Instant,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let current: ConsumerInfo | undefined;
    try {
      current = await jsm.consumers.info(stream, spec.durable_name);
    } catch (err) {
      if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) {
        throw new ProvisionError(`consumer ${stream}/${spec.durable_name}: info failed`, {
          cause: err,
          retryable: !isNotFound(err, JetStreamApiCodes.StreamNotFound),
        });
      }
    }
    if (!current) {
      try {
        return { result: 'created', info: await jsm.consumers.add(stream, full) };
      } catch (err) {
        if (attempt < 2 && err instanceof JetStreamApiError) continue;
        throw new ProvisionError(`consumer ${stream}/${spec.durable_name}: create failed`, { cause: err });
      }
    }
    // With a backoff list the server sets ack_wait to its first element, so ack_wait is not compared then.
    const diff = configDiff(full, current.config).filter((f) => !(f === 'ack_wait' && full.backoff?.length));
    if (diff.length === 0) return { result: 'unchanged', info: current };
    const immutable = diff.filter((f) => IMMUTABLE_CONSUMER_FIELDS.has(f));
    if (immutable.length > 0) {
      throw new ProvisionError(
        `consumer ${stream}/${spec.durable_name}: ${immutable.join(', ')} cannot be changed in place; ` +
          'create a consumer with a new durable name instead',
      );
    }
    const { durable_name: _d, ack_policy: _a, replay_policy: _r, deliver_policy: _p, ...update } = full;
    try {
      return { result: 'updated', info: await jsm.consumers.update(stream, spec.durable_name, update) };
    } catch (err) {
      throw new ProvisionError(`consumer ${stream}/${spec.durable_name}: update of ${diff.join(', ')} failed`, {
        cause: err,
      });
    }
  }
  throw new ProvisionError(`consumer ${stream}/${spec.durable_name}: could not be created`, { retryable: true });
}
