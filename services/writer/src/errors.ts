// Writer errors.

/** A message whose payload fails the contract (dead-lettered at once, never retried). */
export class PayloadError extends Error {
  override name = 'PayloadError';
  readonly retryable = false;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}
