// Injectable time, so tests can control elections and backoff.
import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after ms, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleepTimer(ms, undefined, { signal });
  },
};

export interface BackoffOptions {
  /** First delay in ms; default 500. */
  initialMs?: number;
  /** Cap in ms; default 30 000. */
  maxMs?: number;
}

/** Jittered exponential backoff: a delay in [d/2, d] where d = min(max, initial * 2^attempt). */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const d = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(d / 2 + (random() * d) / 2);
}
