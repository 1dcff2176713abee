// Errors of @kec/cache. Each says whether retrying the same call can succeed.

/** Redis could not be reached, or a command failed or timed out. Retryable: the client reconnects on its own. */
export class CacheUnavailableError extends Error {
  override name = 'CacheUnavailableError';
  readonly retryable = true;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, { cause: opts?.cause });
  }
}

/** Bad options (prefix, cluster, URL). Not retryable. */
export class CacheConfigError extends Error {
  override name = 'CacheConfigError';
  readonly retryable = false;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, { cause: opts?.cause });
  }
}
