// Metrics of the alerter (OpenTelemetry; exported by the runtime on /metrics).
import type { Meter } from '@opentelemetry/api';

export function alerterMetrics(meter: Meter) {
  return {
    transitions: meter.createCounter('kec_alerter_transitions_total', {
      description: 'Alert transitions, by rule source and new state (firing, resolved)',
    }),
    alerts: meter.createObservableGauge('kec_alerter_alerts', {
      description: 'Alerts in the shared state, by state (firing, resolved, inactive counters) and whether muted',
    }),
    notifications: meter.createCounter('kec_alerter_notifications_total', {
      description: 'Notifications put in the outbox (KEC_NOTIFICATIONS), by receiver and status',
    }),
    notificationLag: meter.createHistogram('kec_alerter_notification_delay_seconds', {
      description: 'From the newest alert change in a notification to its outbox publish ack',
    }),
    inputs: meter.createCounter('kec_alerter_inputs_total', { description: 'Input messages handled, by stream' }),
    conflicts: meter.createObservableCounter('kec_alerter_state_conflicts_total', {
      description: 'Compare-and-set races lost (retried) on the KV state',
    }),
    tickDuration: meter.createHistogram('kec_alerter_tick_duration_seconds', {
      description: 'Duration of one evaluation of timers, groups and the outbox',
    }),
    silences: meter.createObservableGauge('kec_alerter_silences', { description: 'Silences, by state' }),
  };
}

export type AlerterMetrics = ReturnType<typeof alerterMetrics>;
