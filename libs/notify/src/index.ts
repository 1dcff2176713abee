// @kec/notify: the notification outbox contract, receiver configs, the sender and the notifiers.

export {
  type AlertmanagerAlert,
  type AlertmanagerOptions,
  type AlertmanagerProcess,
  freePort,
  startAlertmanager,
} from './alertmanager-process.ts';
export {
  type AlertmanagerReceiverConfig,
  AlertmanagerReceiverSchema,
  type DingtalkReceiverConfig,
  DingtalkReceiverSchema,
  type Duration,
  DurationSchema,
  durationMs,
  type RateLimit,
  RateLimitSchema,
  RECEIVER_DEFAULTS,
  type ReceiverConfig,
  type ReceiverConfigProblem,
  ReceiverConfigSchema,
  type ReceiverType,
  type RetryConfig,
  RetrySchema,
  receiverConfigProblems,
  type SecretRef,
  SecretRefSchema,
  type SlackReceiverConfig,
  SlackReceiverSchema,
  TemplatesSchema,
  type WebhookReceiverConfig,
  WebhookReceiverSchema,
} from './config.ts';
export {
  DeliveryError,
  NotifyError,
  ReceiverConfigError,
  SecretError,
  SenderStoppingError,
} from './errors.ts';
export { ReceiverGate } from './gate.ts';
export { type FetchLike, type HttpAnswer, type HttpRequest, isRetryableStatus, parseRetryAfter } from './http.ts';
export {
  alertmanagerAlerts,
  DEFAULT_RESEND_INTERVAL_MS,
  type PostableAlert,
} from './notifiers/alertmanager.ts';
export { DINGTALK_ENDPOINT, DINGTALK_TEMPLATES, dingtalkSign, dingtalkSignedUrl } from './notifiers/dingtalk.ts';
export { createNotifier } from './notifiers/index.ts';
export { SLACK_TEMPLATES } from './notifiers/slack.ts';
export type { AttemptContext, Notifier } from './notifiers/types.ts';
export {
  type CloudEventAttributes,
  ceHeaderValue,
  cloudEventAttributes,
  DEFAULT_CLOUDEVENTS_SOURCE,
  DEFAULT_SIGNATURE_HEADER,
  webhookSignature,
} from './notifiers/webhook.ts';
export {
  type AlertStatus,
  AlertStatusSchema,
  isNotification,
  NOTIFICATION_SCHEMA,
  NOTIFICATIONS_STREAM,
  type Notification,
  type NotificationAlert,
  NotificationAlertSchema,
  NotificationSchema,
  notificationErrors,
  notificationMsgId,
  notificationSubject,
  RECEIVER_NAME_PATTERN,
} from './payload.ts';
export { describeSecret, readSecret, redactUrl, type SecretSource } from './secrets.ts';
export {
  alreadyDelivered,
  type DeliveredMark,
  deliveredKey,
  NOTIFY_DLQ_HEADERS,
  type NotificationSender,
  type NotificationSenderOptions,
  type ReceiverStats,
  startNotificationSender,
} from './sender.ts';
export { notificationsStreamSpec } from './stream.ts';
export {
  compileTemplates,
  escapeMarkdown,
  escapePlain,
  escapeSlack,
  SAMPLE_NOTIFICATION,
  type TemplateContext,
  templateContext,
} from './templates.ts';
