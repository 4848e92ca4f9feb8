/**
 * The one error type the OTLP codecs throw for bad input, so callers (the gateway) can answer
 * 400 for it and treat anything else as a bug.
 */
export class OtlpDecodeError extends Error {
  /** Where in the input the problem is: a JSON path (`resourceSpans[0].scopeSpans[1]...`) or a byte offset. */
  readonly where: string | undefined;

  constructor(message: string, where?: string, options?: { cause?: unknown }) {
    super(where === undefined ? message : `${where}: ${message}`, options);
    this.name = 'OtlpDecodeError';
    this.where = where;
  }
}
