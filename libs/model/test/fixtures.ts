import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a JSON fixture from test/fixtures (fresh copy each call, so tests may mutate it). */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));
}

/** A fixed clock for observedAt. */
export const clock = (): Date => new Date('2026-05-01T12:06:00.250Z');
export const OBSERVED_AT = '2026-05-01T12:06:00.250000Z';

/** The object without its managedFields (which kec drops), for round-trip comparison. */
export function withoutManagedFields(obj: Record<string, unknown>): Record<string, unknown> {
  const meta = { ...(obj['metadata'] as Record<string, unknown>) };
  delete meta['managedFields'];
  return { ...obj, metadata: meta };
}
