// The outbox stream's spec, for whoever provisions it (the alerter; tests).
import { MAX_MSG_SIZE, type StreamSpec } from '@kec/bus';
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { NOTIFICATIONS_STREAM } from './payload.ts';

/**
 * KEC_NOTIFICATIONS: `<root>.notifications.>`, limits retention, 7 days, 1 GiB, duplicate window 1 h (a notification
 * re-published after an alerter restart or failover within the hour is dropped by its msg id).
 */
export function notificationsStreamSpec(
  root: string,
  prefix = '',
  overrides: Partial<Omit<StreamSpec, 'name' | 'subjects'>> = {},
): StreamSpec {
  return {
    name: prefix + NOTIFICATIONS_STREAM,
    subjects: [`${root}.notifications.>`],
    description: 'alerter notification outbox: one message per notification and receiver (kec.notification/v1)',
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(7 * 24 * 3_600_000),
    max_bytes: 1024 * 1024 * 1024,
    max_msgs: -1,
    max_msg_size: MAX_MSG_SIZE,
    duplicate_window: nanos(3_600_000),
    num_replicas: 1,
    allow_direct: true,
    ...overrides,
  };
}
