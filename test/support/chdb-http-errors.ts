/**
 * Errors of the chDB test server in ClickHouse's HTTP shape: the body `Code: N. DB::Exception:
 * ... (NAME)`, the header X-ClickHouse-Exception-Code, and the HTTP status ClickHouse gives that
 * code, so @clickhouse/client raises the same ClickHouseError it would against a real server.
 */

/** The error codes this server raises itself (numbers as ClickHouse's errorCodeToName has them). */
export const ERROR_CODES = {
  SYNTAX_ERROR: 62,
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  UNKNOWN_SETTING: 115,
  AUTHENTICATION_FAILED: 516,
  UNKNOWN_EXCEPTION: 1002,
} as const;

export type ErrorName = keyof typeof ERROR_CODES;

/**
 * HTTP status per exception code: ClickHouse's own table (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp),
 * everything else 500. Kept so a caller that branches on the status sees what production gives it.
 */
const STATUS_BY_CODE = new Map<number, number>([
  // REQUIRED_PASSWORD
  [194, 401],
  // UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, ACCESS_DENIED
  ...[192, 193, 516, 497].map((c): [number, number] => [c, 403]),
  // BAD_ARGUMENTS, CANNOT_PARSE_* , DUPLICATE_COLUMN, ILLEGAL_COLUMN, THERE_IS_NO_COLUMN,
  // SYNTAX_ERROR, INCORRECT_DATA, TYPE_MISMATCH, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  ...[36, 6, 25, 26, 27, 38, 41, 72, 376, 15, 44, 8, 62, 117, 53, 321].map((c): [number, number] => [c, 400]),
  // UNKNOWN_TABLE, UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_TYPE, UNKNOWN_STORAGE,
  // UNKNOWN_DATABASE, UNKNOWN_SETTING, UNKNOWN_AGGREGATE_FUNCTION, UNKNOWN_FORMAT, UNKNOWN_DATABASE_ENGINE
  ...[60, 46, 47, 50, 56, 81, 115, 63, 73, 336].map((c): [number, number] => [c, 404]),
  // NOT_IMPLEMENTED
  [48, 501],
  // TIMEOUT_EXCEEDED
  [159, 408],
]);

export function httpStatusFor(code: number): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}

/** An error with a ClickHouse exception code and a message in ClickHouse's text form. */
export class ClickHouseHttpError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }

  /** An error this server raises itself, formatted as ClickHouse formats its exceptions. */
  static of(name: ErrorName, detail: string): ClickHouseHttpError {
    const code = ERROR_CODES[name];
    return new ClickHouseHttpError(code, `Code: ${code}. DB::Exception: ${detail}. (${name})`);
  }

  /**
   * From whatever chDB threw: its messages already read `Code: N. DB::Exception: ... (NAME)`;
   * anything else (a closed session, a file error) becomes UNKNOWN_EXCEPTION with its text.
   */
  static from(err: unknown): ClickHouseHttpError {
    if (err instanceof ClickHouseHttpError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const code = /^Code: (\d+)\./.exec(message);
    if (code) return new ClickHouseHttpError(Number(code[1]), message);
    return ClickHouseHttpError.of('UNKNOWN_EXCEPTION', message);
  }
}
