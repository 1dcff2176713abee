// Errors in ClickHouse's own terms: a numeric code, its name, and the HTTP status ClickHouse answers with, so
// @clickhouse/client parses them into a ClickHouseError with the right `code` and `type`.

/** The ClickHouse error codes this server raises itself (the engine's own errors carry theirs). */
export const CODES = {
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  UNKNOWN_FORMAT: 73,
  UNKNOWN_TYPE_OF_QUERY: 78,
  THERE_IS_NO_SESSION: 113,
  UNKNOWN_SETTING: 115,
  READONLY: 164,
  NETWORK_ERROR: 210,
  QUERY_IS_TOO_LARGE: 229,
  CANNOT_DECOMPRESS: 271,
  INTO_OUTFILE_NOT_ALLOWED: 358,
  HTTP_LENGTH_REQUIRED: 381,
  STD_EXCEPTION: 1001,
} as const;

export type CodeName = keyof typeof CODES;

/** ClickHouse codes that mean "try again later" (shutdown, network); everything else is the statement's fault. */
const RETRYABLE = new Set<number>([CODES.NETWORK_ERROR, 159, 202, 209, 236, 241, 252]);

export interface ChdbHttpErrorOptions {
  cause?: unknown;
}

/** An error answered to the client as `Code: <code>. DB::Exception: <message>. (<type>) (version …)`. */
export class ChdbHttpError extends Error {
  override name = 'ChdbHttpError';
  /** ClickHouse error code, e.g. 60. */
  readonly code: number;
  /** ClickHouse error name, e.g. UNKNOWN_TABLE. */
  readonly type: string;
  readonly retryable: boolean;
  constructor(code: number, type: string, message: string, options: ChdbHttpErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.type = type;
    this.retryable = RETRYABLE.has(code);
  }

  static of(name: CodeName, message: string, options: ChdbHttpErrorOptions = {}): ChdbHttpError {
    return new ChdbHttpError(CODES[name], name, message, options);
  }
}

const LEADING = /^(?:Code: \d+\. DB::Exception: )+/;
const TRAILING = /\s*\(([A-Z][A-Z0-9_]*)\)(?:\s*\(version [^)]*\))?\.?\s*$/;

/**
 * Converts what chdb threw into a ChdbHttpError. chdb's messages nest the engine's formatting
 * (`Code: 115. DB::Exception: Code: 115. DB::Exception: <text>. (UNKNOWN_SETTING) (version …). (UNKNOWN_SETTING)`);
 * the text in the middle is what a ClickHouse server puts in its own single `Code: …` line.
 */
export function fromEngineError(err: unknown): ChdbHttpError {
  if (err instanceof ChdbHttpError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  const given = (err as { clickhouseCode?: unknown }).clickhouseCode;
  const parsed = /Code: (\d+)\./.exec(raw);
  let code = typeof given === 'number' ? given : parsed ? Number(parsed[1]) : undefined;
  let text = raw.replace(LEADING, '');
  let type: string | undefined;
  for (;;) {
    const m = TRAILING.exec(text);
    if (!m) break;
    type ??= m[1];
    text = text.slice(0, m.index);
  }
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (code === undefined) {
    // Not an engine exception (a closed session, a binding the addon refused): say so in ClickHouse's terms.
    const closed = name === 'ChdbClosedError' || name === 'ChdbConnectionError';
    code = closed ? CODES.NETWORK_ERROR : CODES.STD_EXCEPTION;
    type = closed ? 'NETWORK_ERROR' : 'STD_EXCEPTION';
  }
  return new ChdbHttpError(code, type ?? 'UNKNOWN_EXCEPTION', text, { cause: err });
}

/** The response body ClickHouse sends for an exception (one line, newline-terminated). */
export function exceptionBody(e: ChdbHttpError, version: string): string {
  return `Code: ${e.code}. DB::Exception: ${e.message}. (${e.type}) (version ${version})\n`;
}

// src/Server/HTTP/exceptionCodeToHTTPStatus.cpp (ClickHouse), by code.
const STATUS_BY_CODE: ReadonlyMap<number, number> = new Map([
  ...[194].map((c) => [c, 401] as const), // REQUIRED_PASSWORD
  // UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, SET_NON_GRANTED_ROLE, ACCESS_DENIED
  ...[192, 193, 516, 512, 497].map((c) => [c, 403] as const),
  // BAD_ARGUMENTS, CANNOT_COMPILE_REGEXP, CANNOT_PARSE_*, DUPLICATE_COLUMN, ILLEGAL_COLUMN, UNKNOWN_ELEMENT_IN_AST,
  // UNKNOWN_TYPE_OF_AST_NODE, THERE_IS_NO_COLUMN, TOO_DEEP_AST, TOO_BIG_AST, UNEXPECTED_AST_STRUCTURE, SYNTAX_ERROR,
  // INCORRECT_DATA, TYPE_MISMATCH, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  ...[36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223, 62, 117, 53, 321].map(
    (c) => [c, 400] as const,
  ),
  // UNKNOWN_TABLE, _FUNCTION, _IDENTIFIER, _TYPE, _STORAGE, _DATABASE, _SETTING, _DIRECTION_OF_SORTING,
  // _AGGREGATE_FUNCTION, _FORMAT, _DATABASE_ENGINE, _TYPE_OF_QUERY, _ROLE
  ...[60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511].map((c) => [c, 404] as const),
  [229, 413], // QUERY_IS_TOO_LARGE
  [48, 501], // NOT_IMPLEMENTED
  [209, 503], // SOCKET_TIMEOUT
  [76, 503], // CANNOT_OPEN_FILE
  [439, 503], // CANNOT_SCHEDULE_TASK
  [381, 411], // HTTP_LENGTH_REQUIRED
  [159, 408], // TIMEOUT_EXCEEDED
  [779, 415], // UNSUPPORTED_MEDIA_TYPE
]);

export function httpStatusFor(code: number): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}
