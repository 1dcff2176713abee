// Silences in the alerter's KV bucket (`s.<id>`), managed by `kec silence add|ls|expire`. The running alerters watch
// the bucket, so a silence takes effect at their next tick.
import { randomUUID } from 'node:crypto';
import { type Bus, openKv } from '@kec/bus';
import { AlerterError } from './errors.ts';
import { formatMatcher, parseMatchers } from './matchers.ts';
import { type Silence, SilenceValidator } from './schema.ts';

/** The alerter's bucket: its name, and the replicas it gets when this call creates it (KEC_STREAM_REPLICAS). */
export type SilenceBucket = string | { name: string; replicas?: number | undefined };

const open = (bus: Bus, b: SilenceBucket) =>
  typeof b === 'string' ? openKv(bus, b) : openKv(bus, b.name, { replicas: b.replicas ?? 1 });

export interface NewSilence {
  /** Matcher strings, e.g. `namespace="shop"`, `alertname=~"Kec.*"` (ANDed). */
  matchers: string[];
  startsAt?: Date | undefined;
  endsAt: Date;
  createdBy: string;
  comment: string;
}

export async function addSilence(bus: Bus, bucket: SilenceBucket, s: NewSilence, now = new Date()): Promise<Silence> {
  const matchers = s.matchers.flatMap((m) => parseMatchers(m));
  if (matchers.length === 0) throw new AlerterError('a silence needs at least one matcher');
  const startsAt = s.startsAt ?? now;
  if (s.endsAt <= startsAt) throw new AlerterError('a silence must end after it starts');
  const silence: Silence = {
    id: randomUUID(),
    matchers,
    startsAt: startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    updatedAt: now.toISOString(),
  };
  const kv = await open(bus, bucket);
  await kv.create(`s.${silence.id}`, JSON.stringify(silence));
  return silence;
}

export async function listSilences(bus: Bus, bucket: SilenceBucket): Promise<Silence[]> {
  const kv = await open(bus, bucket);
  const out: Silence[] = [];
  for await (const key of await kv.keys('s.>')) {
    const e = await kv.get(key);
    if (e?.operation !== 'PUT') continue;
    const v = e.json<unknown>();
    if (SilenceValidator.Check(v)) out.push(v);
  }
  return out.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}

/** Ends a silence now (a compare-and-set on its revision); an expired silence stays listed as expired. */
export async function expireSilence(bus: Bus, bucket: SilenceBucket, id: string, now = new Date()): Promise<Silence> {
  const kv = await open(bus, bucket);
  for (let i = 0; i < 5; i++) {
    const e = await kv.get(`s.${id}`);
    if (e?.operation !== 'PUT') throw new AlerterError(`no silence ${id}`);
    const s = e.json<Silence>();
    if (Date.parse(s.endsAt) <= now.getTime()) return s;
    const next: Silence = { ...s, endsAt: now.toISOString(), updatedAt: now.toISOString() };
    try {
      await kv.update(`s.${id}`, JSON.stringify(next), e.revision);
      return next;
    } catch {
      // lost a race with another writer: read again
    }
  }
  throw new AlerterError(`silence ${id}: could not be updated (concurrent changes)`, { retryable: true });
}

export function formatSilenceMatchers(s: Silence): string {
  return s.matchers.map(formatMatcher).join(', ');
}
