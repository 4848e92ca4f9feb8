/**
 * The validating wire pass over a whole Export request: request -> resource entries -> scope
 * entries -> items. Resource and scope attributes are checked like an item's; when they fail,
 * every item under them is rejected. Returns the scanner holding the verdict and the edits.
 *
 * Structural errors (what the codec would refuse) are contained where the enclosing length is
 * intact: inside an item they reject the item; inside a resource, a scope, one of their
 * attributes or a string of an entry, everything the entry holds; in the framing of an entry's
 * own fields, the same, though items after the break cannot be counted (their boundaries are
 * lost); only at the request's own level do they refuse the whole request (OtlpDecodeError).
 */
import type { Signal } from '../../telemetry/signals.ts';
import type { ValidationLimits } from './limits.ts';
import { scanLogRecord } from './logs.ts';
import { scanMetric } from './points.ts';
import { R_MALFORMED, R_MALFORMED_RESOURCE, R_MALFORMED_SCOPE, R_RESOURCE_ATTRIBUTES, R_RESOURCE_DEPTH, R_SCOPE_ATTRIBUTES, R_SCOPE_DEPTH } from './reasons.ts';
import { Scanner, fields } from './scanner.ts';
import { scanSpan } from './spans.ts';

const REQUEST_FIELDS = fields(1);
// ResourceSpans/Metrics/Logs and ScopeSpans/Metrics/Logs share their layout: 1 resource|scope, 2 items, 3 schema_url.
const ENTRY_FIELDS = fields(1, 2, 3);
const RESOURCE_FIELDS = fields(1, 2, 3);
const SCOPE_FIELDS = fields(1, 2, 3, 4);
const ENTITY_REF_FIELDS = fields(1, 2, 3, 4);
const ENTITY_REF_WIRE_TYPES = [-1, 2, 2, 2, 2];

const TRACES = 0;
const LOGS = 1;
const METRICS = 2;
const KIND: Record<Signal, number> = { traces: TRACES, logs: LOGS, metrics: METRICS };

/** Throws OtlpDecodeError when the request's own structure is malformed. */
export function scanRequest(signal: Signal, bytes: Uint8Array, limits: ValidationLimits, nowMs: number): Scanner {
  const s = new Scanner(bytes, limits, nowMs);
  const kind = KIND[signal];
  const r = s.r;
  const end = bytes.length;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    if (tag === 0x0a) {
      const len = s.len(end);
      scanResourceEntry(s, kind, at, r.pos + len);
    } else {
      s.other(tag, at, end, REQUEST_FIELDS, 'Export request');
    }
  }
  return s;
}

function scanResourceEntry(s: Scanner, kind: number, at: number, end: number): void {
  const r = s.r;
  const start = s.containerStart();
  let reason = 0;
  try {
    while (r.pos < end) {
      const fieldAt = r.pos;
      const tag = s.tag(end);
      if (tag === 0x0a) {
        const len = s.len(end);
        const code = scanResource(s, r.pos + len);
        if (reason === 0) reason = code;
      } else if (tag === 0x12) {
        const len = s.len(end);
        scanScopeEntry(s, kind, fieldAt, r.pos + len);
      } else if (tag === 0x1a) {
        const code = s.containerString(end, R_MALFORMED_RESOURCE); // schema_url
        if (reason === 0) reason = code;
      } else {
        s.other(tag, fieldAt, end, ENTRY_FIELDS, 'resource entry');
      }
    }
  } catch (err) {
    const code = s.malformed(err, end, R_MALFORMED_RESOURCE);
    if (reason === 0) reason = code;
  }
  s.settleContainer(start, at, end, reason);
}

/** Returns the reason the resource (spanning up to `end`) fails a check, or 0. */
function scanResource(s: Scanner, end: number): number {
  const r = s.r;
  let attributes = 0;
  let reason = 0;
  try {
    while (r.pos < end) {
      const at = r.pos;
      const tag = s.tag(end);
      if (tag === 0x0a) {
        attributes++;
        const code = s.containerAttribute(end, R_RESOURCE_DEPTH, R_MALFORMED_RESOURCE);
        if (reason === 0) reason = code;
      } else if (tag === 0x10) {
        r.skipVarint(end);
      } else if (tag === 0x1a) {
        const len = s.len(end);
        s.flat(r.pos + len, ENTITY_REF_FIELDS, ENTITY_REF_WIRE_TYPES, 0, ENTITY_REF_FIELDS, 'EntityRef');
      } else {
        s.other(tag, at, end, RESOURCE_FIELDS, 'Resource');
      }
    }
  } catch (err) {
    return s.malformed(err, end, R_MALFORMED_RESOURCE);
  }
  if (reason === 0 && attributes > s.maxAttributes) reason = R_RESOURCE_ATTRIBUTES;
  return reason;
}

/** Walks a scope entry spanning [at, end). */
function scanScopeEntry(s: Scanner, kind: number, at: number, end: number): void {
  const r = s.r;
  const start = s.containerStart();
  let scopeReason = 0;
  try {
    while (r.pos < end) {
      const fieldAt = r.pos;
      const tag = s.tag(end);
      if (tag === 0x12) {
        const len = s.len(end);
        const itemEnd = r.pos + len;
        if (kind === METRICS) {
          scanMetric(s, fieldAt, itemEnd);
        } else {
          s.items++;
          const itemMark = s.editCount;
          s.reason = 0;
          try {
            if (kind === TRACES) scanSpan(s, itemEnd);
            else scanLogRecord(s, itemEnd);
          } catch (err) {
            s.reject(s.malformed(err, itemEnd, R_MALFORMED));
          }
          s.settleItem(itemMark, fieldAt, itemEnd);
        }
      } else if (tag === 0x0a) {
        const len = s.len(end);
        const code = scanScope(s, r.pos + len);
        if (scopeReason === 0) scopeReason = code;
      } else if (tag === 0x1a) {
        const code = s.containerString(end, R_MALFORMED_SCOPE); // schema_url
        if (scopeReason === 0) scopeReason = code;
      } else {
        s.other(tag, fieldAt, end, ENTRY_FIELDS, 'scope entry');
      }
    }
  } catch (err) {
    const code = s.malformed(err, end, R_MALFORMED_SCOPE);
    if (scopeReason === 0) scopeReason = code;
  }
  s.settleContainer(start, at, end, scopeReason);
}

/** InstrumentationScope spanning up to `end`: returns the reason it fails a check, or 0. */
function scanScope(s: Scanner, end: number): number {
  const r = s.r;
  let attributes = 0;
  let reason = 0;
  try {
    while (r.pos < end) {
      const at = r.pos;
      const tag = s.tag(end);
      if (tag === 0x1a) {
        attributes++;
        const code = s.containerAttribute(end, R_SCOPE_DEPTH, R_MALFORMED_SCOPE);
        if (reason === 0) reason = code;
      } else if (tag === 0x0a || tag === 0x12) {
        s.string(end); // name, version
      } else if (tag === 0x20) {
        r.skipVarint(end);
      } else {
        s.other(tag, at, end, SCOPE_FIELDS, 'InstrumentationScope');
      }
    }
  } catch (err) {
    return s.malformed(err, end, R_MALFORMED_SCOPE);
  }
  if (reason === 0 && attributes > s.maxAttributes) reason = R_SCOPE_ATTRIBUTES;
  return reason;
}
