/**
 * The gateway's per-item validation: one pass over the wire bytes checks every span, log record
 * or data point against the limits. The common case (all valid, nothing to truncate) returns the
 * very same bytes, having built no objects; otherwise the rejected items are cut out and long
 * attribute values truncated on the wire, and the outcome is an OTLP partial success.
 */
import { OtlpDecodeError, REQUEST_SPECS } from '../../otlp/index.ts';
import type { Signal } from '../../telemetry/signals.ts';
import { IngestError } from '../ingest-error.ts';
import type { ValidationLimits } from './limits.ts';
import { scanRequest } from './request.ts';
import { applyEdits } from './rewrite.ts';

export interface ValidationResult {
  /** The request to route: the input itself when nothing changed, else the edited bytes. */
  payload: Uint8Array;
  /** Items kept. */
  accepted: number;
  /** Items rejected individually. */
  rejected: number;
  /** The partial-success message: rejections by reason, and truncations; '' when there were none. */
  message: string;
}

/** Throws IngestError('invalid') when the request is malformed as a whole (broken wire format). */
export function validateRequest(signal: Signal, payload: Uint8Array, limits: ValidationLimits, nowMs: number): ValidationResult {
  if (!(payload instanceof Uint8Array)) throw new IngestError('invalid', 'malformed OTLP payload: expected protobuf bytes');
  let scan;
  try {
    scan = scanRequest(signal, payload, limits, nowMs);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new IngestError('invalid', `malformed OTLP payload: ${err.message}`);
    throw err;
  }
  const rejected = scan.tally.rejected;
  const accepted = scan.items - rejected;
  if (scan.editCount === 0) return { payload, accepted, rejected, message: '' };
  let truncated = 0;
  for (const repl of scan.editRepl) if (repl !== null) truncated++;
  const edits = { start: scan.editStart, end: scan.editEnd, repl: scan.editRepl };
  return {
    payload: applyEdits(REQUEST_SPECS[signal], payload, edits),
    accepted,
    rejected,
    message: scan.tally.message(signal, limits, truncated),
  };
}
