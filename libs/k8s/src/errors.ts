// Errors of @kec/k8s. Each says whether retrying the same call can succeed.

/** The API answered with a non-2xx status (or an ERROR frame on a watch). `status` is the parsed Status body when JSON. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly code: number;
  readonly reason: string | undefined;
  readonly status: unknown;
  readonly retryable: boolean;
  constructor(message: string, opts: { code: number; reason?: string; status?: unknown; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.code = opts.code;
    this.reason = opts.reason;
    this.status = opts.status;
    // 410 needs a relist (not a retry of the same call); 4xx other than 408/409/429 will not heal by retrying.
    this.retryable = opts.code >= 500 || opts.code === 408 || opts.code === 429 || opts.code === 409 || opts.code === 0;
  }
  /** 410 Gone / Expired: the resourceVersion or continue token is too old. */
  get expired(): boolean {
    return this.code === 410;
  }
}

/** The connection failed, was reset, or timed out before a response. Always retryable. */
export class KubeConnectionError extends Error {
  override name = 'KubeConnectionError';
  readonly retryable = true;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, { cause: opts?.cause });
  }
}

/** Bad configuration (no kubeconfig, no cluster). Not retryable. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
  readonly retryable = false;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, { cause: opts?.cause });
  }
}

export function isExpired(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 410;
}
