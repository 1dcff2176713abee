// The sender's instruments (OpenTelemetry API; labels bounded by the configured receivers).
import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';

export interface NotifyInstruments {
  sent: Counter;
  failed: Counter;
  retried: Counter;
  deadLettered: Counter;
  skipped: Counter;
  latency: Histogram;
  requestDuration: Histogram;
  backlog: ObservableGauge;
  held: ObservableGauge;
}

const cache = new WeakMap<Meter, NotifyInstruments>();

export function notifyInstruments(meter: Meter): NotifyInstruments {
  let i = cache.get(meter);
  if (i) return i;
  i = {
    sent: meter.createCounter('kec_notify_notifications_sent_total', {
      description: 'Notifications delivered (the receiver answered 2xx), by receiver, type and status',
    }),
    failed: meter.createCounter('kec_notify_notifications_failed_total', {
      description: 'Failed delivery attempts, by receiver and retryable (true|false)',
    }),
    retried: meter.createCounter('kec_notify_notifications_retried_total', {
      description: 'Delivery attempts that are retries of an earlier failed attempt, by receiver',
    }),
    deadLettered: meter.createCounter('kec_notify_notifications_dead_lettered_total', {
      description: 'Notifications a receiver rejected permanently, copied to the dead-letter subject, by receiver',
    }),
    skipped: meter.createCounter('kec_notify_notifications_skipped_total', {
      description:
        'Notifications acked without sending, by receiver and why (superseded: a later version of the group was already delivered; send_resolved: resolved notifications are off)',
    }),
    latency: meter.createHistogram('kec_notify_notification_latency_seconds', {
      description: 'From the notification stored in the outbox to the receiver answering 2xx, by receiver',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 1800] },
    }),
    requestDuration: meter.createHistogram('kec_notify_request_duration_seconds', {
      description: 'Duration of one HTTP attempt to a receiver, by receiver',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    }),
    backlog: meter.createObservableGauge('kec_notify_outbox_backlog', {
      description:
        'Notifications in the outbox not yet delivered (consumer num_pending + num_ack_pending), by receiver',
    }),
    held: meter.createObservableGauge('kec_notify_notifications_held', {
      description: 'Notifications this process holds (waiting for their turn, the rate limit or a retry), by receiver',
    }),
  };
  cache.set(meter, i);
  return i;
}
