// Errors of @kec/config. A bad configuration is never retryable: the process must exit and be fixed.

/** Where a configuration value came from. */
/** `secret-file`: a secret read from the file named by `KEC_<KEY>_FILE` (or `<key>File` in the YAML file). */
export type ConfigSource = 'env' | 'file' | 'secret-file' | 'default';

export interface ConfigErrorOptions extends ErrorOptions {
  /** The name the user wrote: the env var (`KEC_METRICS_PORT`), the YAML key (`watcher.pageSize`) or the file path. */
  key: string;
  /** Why the value is wrong, phrased to follow the key: `must be an integer from 0 to 65535 (got "abc")`. */
  reason: string;
  /** Set when the bad value came from the YAML file. */
  file?: string;
}

/**
 * Thrown by `loadConfig` when a value is unparsable, out of range, not allowed, missing while required,
 * or when the YAML file is unreadable or holds an unknown key. `message` is `<key>: <reason>`
 * (`<file>: <key>: <reason>` for values read from the YAML file).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly key: string;
  readonly reason: string;
  readonly file: string | undefined;
  readonly retryable = false;

  constructor(options: ConfigErrorOptions) {
    const where =
      options.file !== undefined && options.file !== options.key ? `${options.file}: ${options.key}` : options.key;
    super(`${where}: ${options.reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.key = options.key;
    this.reason = options.reason;
    this.file = options.file;
  }
}
