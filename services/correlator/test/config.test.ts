// Config: the occurrence-state TTL cannot be shorter than what KEC_ENRICHED can still replay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STREAM_CATALOGUE } from '@kec/bus';
import { ConfigError, loadConfig } from '@kec/config';
import { correlatorConfig } from '../src/index.ts';

const enrichedMaxAgeSec = (STREAM_CATALOGUE.find((s) => s.stream === 'KEC_ENRICHED')?.maxAgeMs ?? 0) / 1000;

test('config - the default occurrence TTL outlives a KEC_ENRICHED backlog of an event that lived the event TTL', () => {
  const cfg = loadConfig(correlatorConfig, { env: {} });
  assert.ok(enrichedMaxAgeSec > 0);
  assert.ok(cfg.occurrenceTtlSec >= enrichedMaxAgeSec + 3600, String(cfg.occurrenceTtlSec));
});

test('config - an occurrence TTL shorter than KEC_ENRICHED max_age + the event TTL is refused at load', () => {
  assert.throws(
    () => loadConfig(correlatorConfig, { env: { KEC_CORRELATOR_OCCURRENCE_TTL_SEC: '10800' } }),
    (err: unknown) => err instanceof ConfigError && /OCCURRENCE_TTL_SEC/.test(err.message),
  );
  const ok = loadConfig(correlatorConfig, {
    env: { KEC_CORRELATOR_OCCURRENCE_TTL_SEC: String(enrichedMaxAgeSec + 3600) },
  });
  assert.equal(ok.occurrenceTtlSec, enrichedMaxAgeSec + 3600);
});
