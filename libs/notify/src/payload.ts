// The notification outbox contract between the alerter (producer) and the sender of @kec/notify (consumer).
//
// The alerter publishes one JetStream message per notification to `<root>.notifications.<receiver>` (stream
// KEC_NOTIFICATIONS) with `Nats-Msg-Id = <receiver>/<groupKey>/<version>`; the data is a `kec.notification/v1`
// object. `version` increases with every notification of one (receiver, groupKey): the sender delivers the versions
// of a group in order and never delivers a version lower than one it already delivered.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

export const NOTIFICATION_SCHEMA = 'kec.notification/v1';

/** The name of the outbox stream (the alerter creates it; `notificationsStreamSpec` describes it). */
export const NOTIFICATIONS_STREAM = 'KEC_NOTIFICATIONS';

/** Receiver names are used as subject tokens and consumer names: lowercase letters, digits, `-` and `_`. */
export const RECEIVER_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

const StringMap = Type.Record(Type.String(), Type.String());
const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339' });

export const AlertStatusSchema = Type.Union([Type.Literal('firing'), Type.Literal('resolved')]);

export const NotificationAlertSchema = Type.Object(
  {
    /** Stable identity of the alert (rule + grouping labels), the same across notifications. */
    id: Type.String({ minLength: 1 }),
    status: AlertStatusSchema,
    labels: StringMap,
    annotations: StringMap,
    startsAt: Timestamp,
    /** Set when resolved (the resolution time); for Alertmanager the sender fills it while firing. */
    endsAt: Type.Optional(Timestamp),
    /** Link to the incident (or rule) in kec. */
    generatorURL: Type.Optional(Type.String()),
    incidentId: Type.Optional(Type.String()),
    /** Counters the rule attached, e.g. { occurrences: 1234, pods: 200 }. */
    counts: Type.Optional(Type.Record(Type.String(), Type.Number())),
  },
  { additionalProperties: false },
);

export const NotificationSchema = Type.Object(
  {
    schema: Type.Literal(NOTIFICATION_SCHEMA),
    receiver: Type.String({ pattern: RECEIVER_NAME_PATTERN }),
    /** Identity of the group within the receiver's route (e.g. `{}:{alertname="X", namespace="shop"}`). */
    groupKey: Type.String({ minLength: 1 }),
    groupLabels: StringMap,
    /** Increases with every notification of (receiver, groupKey). */
    version: Type.Integer({ minimum: 0 }),
    /** `firing` when at least one alert fires, else `resolved`. */
    status: AlertStatusSchema,
    commonLabels: StringMap,
    commonAnnotations: StringMap,
    /** Base URL of kec's UI/API, for links. */
    externalURL: Type.Optional(Type.String()),
    /** Alerts left out of `alerts` because of a size limit. */
    truncatedAlerts: Type.Integer({ minimum: 0 }),
    alerts: Type.Array(NotificationAlertSchema),
  },
  { additionalProperties: false },
);

export type AlertStatus = Static<typeof AlertStatusSchema>;
export type NotificationAlert = Static<typeof NotificationAlertSchema>;
export type Notification = Static<typeof NotificationSchema>;

const check = Compile(NotificationSchema);

/** Validation problems of a notification, as `path: message` lines; empty when it is valid. */
export function notificationErrors(value: unknown): string[] {
  if (check.Check(value)) return [];
  return [...check.Errors(value)].slice(0, 20).map((e) => `${e.instancePath || '/'}: ${e.message}`);
}

export function isNotification(value: unknown): value is Notification {
  return check.Check(value);
}

/** `Nats-Msg-Id` of a notification: `<receiver>/<groupKey>/<version>`. */
export function notificationMsgId(n: Pick<Notification, 'receiver' | 'groupKey' | 'version'>): string {
  return `${n.receiver}/${n.groupKey}/${n.version}`;
}

/** The subject a notification for `receiver` is published on: `<root>.notifications.<receiver>`. */
export function notificationSubject(root: string, receiver: string): string {
  return `${root}.notifications.${receiver}`;
}
