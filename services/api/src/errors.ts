// The API's errors. Each carries the HTTP status and the Kubernetes Status reason it is answered with.
import type { StatusReason } from './schemas.ts';

export interface ApiErrorOptions {
  cause?: unknown;
  causes?: { field?: string; reason?: string; message: string }[];
  clickhouseCode?: number;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly retryable: boolean = false;
  readonly statusCode: number;
  readonly reason: StatusReason;
  readonly causes: { field?: string; reason?: string; message: string }[] | undefined;
  readonly clickhouseCode: number | undefined;
  constructor(statusCode: number, reason: StatusReason, message: string, opts: ApiErrorOptions = {}) {
    super(message, { cause: opts.cause });
    this.statusCode = statusCode;
    this.reason = reason;
    this.causes = opts.causes;
    this.clickhouseCode = opts.clickhouseCode;
  }
}

/** 400: a parameter the API cannot use (bad duration, selector, cursor). */
export class BadRequestError extends ApiError {
  override name = 'BadRequestError';
  constructor(message: string, opts: ApiErrorOptions & { field?: string } = {}) {
    super(400, 'BadRequest', message, {
      ...opts,
      causes: opts.causes ?? (opts.field ? [{ field: opts.field, reason: 'FieldValueInvalid', message }] : undefined),
    });
  }
}

/** 403 for a statement POST /sql refuses before or in the engine. */
export class SqlRefusedError extends ApiError {
  override name = 'SqlRefusedError';
  constructor(message: string, opts: ApiErrorOptions = {}) {
    super(403, 'Forbidden', message, opts);
  }
}

/** 503: the store is not open (yet) or not reachable. */
export class UnavailableError extends ApiError {
  override name = 'UnavailableError';
  override readonly retryable = true;
  constructor(message: string, opts: ApiErrorOptions = {}) {
    super(503, 'ServiceUnavailable', message, opts);
  }
}
