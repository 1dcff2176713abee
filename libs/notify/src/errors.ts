// Error classes of @kec/notify. Each sets `name`, accepts `{ cause }` and says whether retrying can help.

/** Base class: every error thrown by @kec/notify is a NotifyError. */
export class NotifyError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NotifyError';
    this.retryable = options.retryable ?? false;
  }
}

/** A receiver config is invalid (schema, a missing secret, a template that does not compile). */
export class ReceiverConfigError extends NotifyError {
  /** The receiver's name, when known. */
  readonly receiver: string | undefined;
  /** JSON pointer of the offending key within the receiver, when known (e.g. `/templates/title`). */
  readonly path: string | undefined;
  constructor(message: string, options: { cause?: unknown; receiver?: string; path?: string } = {}) {
    super(message, { cause: options.cause, retryable: false });
    this.name = 'ReceiverConfigError';
    this.receiver = options.receiver;
    this.path = options.path;
  }
}

/** A secret could not be read (missing file or environment variable, empty value). */
export class SecretError extends NotifyError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'SecretError';
  }
}

/**
 * A delivery attempt failed. `retryable` is true for network errors, timeouts, 408, 429, 5xx and receiver answers
 * that mean "later" (DingTalk's "send too fast"); false for other 4xx and permanent receiver errors.
 */
export class DeliveryError extends NotifyError {
  /** HTTP status, when the receiver answered. */
  readonly status: number | undefined;
  /** The wait the receiver asked for (Retry-After, or a known throttling answer), in ms. */
  readonly retryAfterMs: number | undefined;
  /** Start of the answer body (≤ 512 characters), for the dead letter. Never holds request secrets. */
  readonly responseBody: string | undefined;
  constructor(
    message: string,
    options: {
      cause?: unknown;
      retryable: boolean;
      status?: number;
      retryAfterMs?: number;
      responseBody?: string;
    },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.responseBody = options.responseBody;
  }
}

/** The sender is stopping: the message goes back to the stream (nak) for another replica or the next start. */
export class SenderStoppingError extends NotifyError {
  constructor() {
    super('notification sender stopping', { retryable: true });
    this.name = 'SenderStoppingError';
  }
}
