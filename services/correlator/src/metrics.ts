// Metrics of the correlator (OpenTelemetry; exported by the runtime on /metrics).
import type { Meter } from '@opentelemetry/api';

export function correlatorMetrics(meter: Meter) {
  return {
    events: meter.createCounter('kec_correlator_events_total', { description: 'Events correlated, by severity' }),
    occurrences: meter.createCounter('kec_correlator_occurrences_total', { description: 'New occurrences counted' }),
    replays: meter.createCounter('kec_correlator_replays_total', {
      description: 'Observations already processed (same uid+rv)',
    }),
    incidents: meter.createCounter('kec_correlator_incident_updates_total', {
      description: 'Incident versions published, by state',
    }),
    patterns: meter.createCounter('kec_correlator_patterns_total', { description: 'Patterns published, by kind' }),
    batchDuration: meter.createHistogram('kec_correlator_batch_duration_seconds', {
      description: 'Handling time of one batch',
    }),
    lag: meter.createHistogram('kec_correlator_lag_seconds', { description: 'Publish time minus observedAt' }),
  };
}

export type CorrelatorMetrics = ReturnType<typeof correlatorMetrics>;
