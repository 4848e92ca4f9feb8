/** The validating walk of one LogRecord. */
import { R_ATTRIBUTES, R_BODY_DEPTH, R_DEPTH, R_NO_TIME, R_SPAN_ID_LENGTH, R_TRACE_ID_LENGTH } from './reasons.ts';
import { fields, type Scanner } from './scanner.ts';

const LOG_FIELDS = fields(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);

/** Checks a log record whose bytes end at `end` (r.pos at its first field); failures land in s.reason. */
export function scanLogRecord(s: Scanner, end: number): void {
  const r = s.r;
  let timeNs = 0;
  let observedNs = 0;
  let traceLen = 0;
  let spanLen = 0;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    switch (tag) {
      case 0x09:
        timeNs = s.fixed64(end);
        break;
      case 0x59:
        observedNs = s.fixed64(end);
        break;
      case 0x10: // severity_number
      case 0x38: // dropped_attributes_count
        r.skipVarint(end);
        break;
      case 0x1a: // severity_text
      case 0x62: // event_name
        s.string(end);
        break;
      case 0x2a: {
        // The body is the record itself, not metadata: its nesting is bounded, its strings are kept whole.
        const len = s.len(end);
        s.depthReason = R_BODY_DEPTH;
        s.truncating = false;
        s.anyValue(r.pos + len, 1);
        s.depthReason = R_DEPTH;
        s.truncating = true;
        break;
      }
      case 0x32:
        attributes++;
        s.attribute(end);
        break;
      case 0x45: // flags, fixed32
        r.fixed(4, end);
        break;
      case 0x4a:
        traceLen = s.len(end);
        r.pos += traceLen;
        break;
      case 0x52:
        spanLen = s.len(end);
        r.pos += spanLen;
        break;
      default:
        s.other(tag, at, end, LOG_FIELDS, 'LogRecord');
    }
  }
  if (s.reason !== 0) return;
  // Ids are optional on a log record (not every log is in a trace), but when present they must be whole.
  if (traceLen !== 0 && traceLen !== 16) s.reject(R_TRACE_ID_LENGTH);
  if (spanLen !== 0 && spanLen !== 8) s.reject(R_SPAN_ID_LENGTH);
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
  // The event time when the source knew it, else when it was observed (what storage files it
  // under); a record with neither would be filed in 1970, so it is refused instead.
  s.checkTime(timeNs !== 0 ? timeNs : observedNs, R_NO_TIME);
}
