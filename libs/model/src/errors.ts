// Errors of @kec/model. Every error says whether retrying the same input could succeed.

export interface ModelValidationErrorOptions {
  cause?: unknown;
}

/**
 * Thrown when an input is not a valid Kubernetes Event, KecEvent or timestamp.
 * `path` is a JSON pointer into the input ("" for the input itself); `reason` says what is wrong.
 * Never retryable: the same bytes fail the same way, so a consumer should dead-letter (term) the message.
 */
export class ModelValidationError extends Error {
  readonly path: string;
  readonly reason: string;
  readonly retryable = false;

  constructor(path: string, reason: string, options?: ModelValidationErrorOptions) {
    super(`${reason} at ${path === '' ? '(root)' : path}`, options);
    this.name = 'ModelValidationError';
    this.path = path;
    this.reason = reason;
  }
}
