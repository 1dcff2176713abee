// Error classes of the scenario driver. Each says whether retrying the same operation can help.

export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly status: number;
  readonly retryable: boolean;
  constructor(message: string, opts: { status: number; retryable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.status = opts.status;
    this.retryable = opts.retryable;
  }
}

export class DriverConfigError extends Error {
  override name = 'DriverConfigError';
  readonly retryable = false;
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
  }
}
