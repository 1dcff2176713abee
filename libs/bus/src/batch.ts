// Helpers for batch handlers that transform each input message into published outputs (the enricher's and the
// correlator's stages): parse the batch, then settle the publishes per input message.
import type { BusMessage } from './consume.ts';
import { isRetryableError } from './errors.ts';

export interface DeadLetter {
  message: BusMessage;
  error: unknown;
}

/** Parses every message; one that fails goes to `deadLetter`. `sources[i]` is the message `items[i]` came from. */
export function parseBatch<T>(
  msgs: readonly BusMessage[],
  parse: (data: Uint8Array) => T,
): { items: T[]; sources: BusMessage[]; deadLetter: DeadLetter[] } {
  const items: T[] = [];
  const sources: BusMessage[] = [];
  const deadLetter: DeadLetter[] = [];
  for (const m of msgs) {
    try {
      items.push(parse(m.data));
      sources.push(m);
    } catch (error) {
      deadLetter.push({ message: m, error });
    }
  }
  return { items, sources, deadLetter };
}

/**
 * Waits for every publish, each tagged with the input message whose output it is. Throws the first retryable failure
 * (the whole batch is nak'ed; msg-ids make republishing what was already published a no-op); returns one dead letter
 * per input message with a permanent failure (e.g. an output over max_msg_size), so only that message is dead-lettered.
 */
export async function settlePublishes(
  pubs: readonly { from: BusMessage; p: Promise<unknown> }[],
): Promise<DeadLetter[]> {
  const results = await Promise.allSettled(pubs.map((x) => x.p));
  let retry: { error: unknown } | undefined;
  const rejected = new Map<BusMessage, unknown>();
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const from = (pubs[i] as { from: BusMessage }).from;
    if (isRetryableError(r.reason)) retry ??= { error: r.reason };
    else if (!rejected.has(from)) rejected.set(from, r.reason);
  });
  if (retry) throw retry.error;
  return [...rejected].map(([message, error]) => ({ message, error }));
}
