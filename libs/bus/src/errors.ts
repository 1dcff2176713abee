// Error classes of @kec/bus. Each sets `name`, accepts `{ cause }` and says whether retrying can help.

/** Base class: every error thrown by @kec/bus is a BusError. */
export class BusError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BusError';
    this.retryable = options.retryable ?? false;
  }
}

/** A subject or token could not be built or parsed (a programming or input error). */
export class SubjectError extends BusError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'SubjectError';
  }
}

/** The first connection to NATS failed (later disconnects are retried forever by the client). */
export class BusConnectError extends BusError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
    this.name = 'BusConnectError';
  }
}

/** A stream or consumer could not be provisioned (e.g. a field the server cannot change in place). */
export class ProvisionError extends BusError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options);
    this.name = 'ProvisionError';
  }
}

/**
 * A publish failed. `retryable` is false for rejections that will repeat (message too large, a failed
 * expectation, an invalid subject, a permission error, a payload that cannot be encoded); true otherwise
 * (timeouts, disconnects, "no stream answered" while a stream is created or a leader is elected, 5xx).
 */
export class PublishError extends BusError {
  readonly subject: string;
  constructor(message: string, options: { subject: string; cause?: unknown; retryable: boolean }) {
    super(message, options);
    this.name = 'PublishError';
    this.subject = options.subject;
  }
}

/** Input that will never be processed successfully: bad JSON, a failed validation. Dead-lettered at once. */
export class PoisonMessageError extends BusError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'PoisonMessageError';
  }
}

/** A consumer could not be bound or its pull loop failed. */
export class ConsumeError extends BusError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options);
    this.name = 'ConsumeError';
  }
}

/** True when an error says retrying may help: its own `retryable` flag, else false for JSON syntax errors, else true. */
export function isRetryableError(err: unknown): boolean {
  if (err !== null && typeof err === 'object' && 'retryable' in err && typeof err.retryable === 'boolean') {
    return err.retryable;
  }
  if (err instanceof SyntaxError) return false;
  return true;
}
