// What the sender needs of a notifier: how to build one attempt's request and how to read a 2xx answer.
import type { ReceiverType } from '../config.ts';
import type { HttpAnswer, HttpRequest } from '../http.ts';
import type { Notification } from '../payload.ts';

export interface AttemptContext {
  /** Unique id of the notification: its Nats-Msg-Id (`<receiver>/<groupKey>/<version>`). */
  id: string;
  /** Time of this attempt. */
  now: Date;
}

export interface Notifier {
  readonly name: string;
  readonly type: ReceiverType;
  /** Names the target without secrets, for logs and errors (e.g. `slack receiver ops (https://hooks.slack.com/…)`). */
  readonly describe: string;
  /** The request of one attempt (built anew per attempt: DingTalk signs with the current time). */
  request(n: Notification, ctx: AttemptContext): HttpRequest;
  /** Reads a 2xx answer; throws DeliveryError when the body reports a failure (DingTalk's errcode). */
  check?(answer: HttpAnswer): void;
}
