/** The validating walk of one Span (with its events and links). */
import { wireError } from '../../otlp/index.ts';
import {
  R_ATTRIBUTES,
  R_END_BEFORE_START,
  R_EVENT_ATTRIBUTES,
  R_EVENTS,
  R_LINK_ATTRIBUTES,
  R_LINKS,
  R_NO_END,
  R_NO_START,
  R_PARENT_ID_LENGTH,
  R_SPAN_ID_EMPTY,
  R_SPAN_ID_LENGTH,
  R_SPAN_ID_ZERO,
  R_TRACE_ID_EMPTY,
  R_TRACE_ID_LENGTH,
  R_TRACE_ID_ZERO,
} from './reasons.ts';
import { fields, type Scanner } from './scanner.ts';

const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT_FIELDS = fields(1, 2, 3, 4);
const LINK_FIELDS = fields(1, 2, 3, 4, 5, 6);
const STATUS_FIELDS = fields(2, 3);
const STATUS_WIRE_TYPES = [-1, -1, 2, 0];
const STATUS_STRINGS = fields(2);

/** Checks a span whose bytes end at `end` (r.pos at its first field); failures land in s.reason. */
export function scanSpan(s: Scanner, end: number): void {
  const r = s.r;
  const b = s.buf;
  let traceAt = 0;
  let traceLen = 0;
  let spanAt = 0;
  let spanLen = 0;
  let parentLen = 0;
  let startNs = 0;
  let endNs = 0;
  let attributes = 0;
  let events = 0;
  let links = 0;
  // The position lives in a local for the common fields (one-byte tags and lengths, read
  // inline); anything else goes through the reader, with r.pos synced around it.
  let p = r.pos;
  while (p < end) {
    const at = p;
    const tag = b[p];
    if (tag === 0x4a) {
      // The hot field (~10 per span): plain attributes inline, the rest through the general walk.
      const next = s.plainAttribute(p + 1, end);
      attributes++;
      if (next !== -1) {
        p = next;
      } else {
        r.pos = p + 1;
        s.attribute(end);
        p = r.pos;
      }
      continue;
    }
    if (tag === 0x39 || tag === 0x41) {
      if (end - p < 9) throw wireError('truncated 64-bit value', p + 1);
      const ns = s.fixed64At(p + 1);
      if (tag === 0x39) startNs = ns;
      else endNs = ns;
      p += 9;
      continue;
    }
    if (tag === 0x30 && p + 1 < end && b[p + 1] < 0x80) {
      p += 2; // kind, a one-byte varint
      continue;
    }
    if (tag === 0x7a && p + 1 < end && b[p + 1] === 0) {
      p += 2; // an empty status (code unset)
      continue;
    }
    if ((tag === 0x0a || tag === 0x12 || tag === 0x22 || tag === 0x2a) && p + 1 < end && b[p + 1] < 0x80) {
      const len = b[p + 1];
      const content = p + 2;
      if (len > end - content) throw wireError(`length ${len} exceeds the ${end - content} bytes left`, p + 1);
      if (tag === 0x0a) {
        traceAt = content;
        traceLen = len;
      } else if (tag === 0x12) {
        spanAt = content;
        spanLen = len;
      } else if (tag === 0x22) {
        parentLen = len;
      } else {
        // name: a string, so UTF-8
        s.text.utf8(content, content + len);
      }
      p = content + len;
      continue;
    }
    r.pos = p;
    const full = s.tag(end); // the whole tag: it may be longer than the byte read above
    switch (full) {
      case 0x0a: // trace_id
        traceLen = s.len(end);
        traceAt = r.pos;
        r.pos += traceLen;
        break;
      case 0x12: // span_id
        spanLen = s.len(end);
        spanAt = r.pos;
        r.pos += spanLen;
        break;
      case 0x22: // parent_span_id
        parentLen = s.len(end);
        r.pos += parentLen;
        break;
      case 0x1a: // trace_state
      case 0x2a: // name
        s.string(end);
        break;
      case 0x39: // start_time_unix_nano, when its tag was not the one byte read above
        startNs = s.fixed64(end);
        break;
      case 0x41: // end_time_unix_nano
        endNs = s.fixed64(end);
        break;
      case 0x4a:
        attributes++;
        s.attribute(end);
        break;
      case 0x30: // kind
      case 0x50: // dropped_attributes_count
      case 0x60: // dropped_events_count
      case 0x70: // dropped_links_count
        r.skipVarint(end);
        break;
      case 0x5a: {
        events++;
        const len = s.len(end);
        scanEvent(s, r.pos + len);
        break;
      }
      case 0x6a: {
        links++;
        const len = s.len(end);
        scanLink(s, r.pos + len);
        break;
      }
      case 0x7a: {
        const len = s.len(end);
        s.flat(r.pos + len, STATUS_FIELDS, STATUS_WIRE_TYPES, 0, STATUS_STRINGS, 'Status');
        break;
      }
      case 0x85: // flags, fixed32 (field 16)
        r.fixed(4, end);
        break;
      default:
        s.other(full, at, end, SPAN_FIELDS, 'Span');
    }
    p = r.pos;
  }
  r.pos = p;
  if (s.reason !== 0) return;
  if (traceLen === 0) s.reject(R_TRACE_ID_EMPTY);
  else if (traceLen !== 16) s.reject(R_TRACE_ID_LENGTH);
  else if (s.isZero(traceAt, 16)) s.reject(R_TRACE_ID_ZERO);
  if (spanLen === 0) s.reject(R_SPAN_ID_EMPTY);
  else if (spanLen !== 8) s.reject(R_SPAN_ID_LENGTH);
  else if (s.isZero(spanAt, 8)) s.reject(R_SPAN_ID_ZERO);
  if (parentLen !== 0 && parentLen !== 8) s.reject(R_PARENT_ID_LENGTH);
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
  if (events > s.maxEvents) s.reject(R_EVENTS);
  if (links > s.maxLinks) s.reject(R_LINKS);
  s.checkTime(startNs, R_NO_START);
  s.checkTime(endNs, R_NO_END);
  if (endNs < startNs) s.reject(R_END_BEFORE_START);
}

function scanEvent(s: Scanner, end: number): void {
  const r = s.r;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    if (tag === 0x1a) {
      attributes++;
      s.attribute(end);
    } else if (tag === 0x09) {
      r.fixed(8, end);
    } else if (tag === 0x12) {
      s.string(end); // name
    } else if (tag === 0x20) {
      r.skipVarint(end);
    } else {
      s.other(tag, at, end, EVENT_FIELDS, 'Span.Event');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_EVENT_ATTRIBUTES);
}

function scanLink(s: Scanner, end: number): void {
  const r = s.r;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    if (tag === 0x22) {
      attributes++;
      s.attribute(end);
    } else if (tag === 0x0a || tag === 0x12) {
      s.skipLen(end); // trace_id, span_id: bytes
    } else if (tag === 0x1a) {
      s.string(end); // trace_state
    } else if (tag === 0x28) {
      r.skipVarint(end);
    } else if (tag === 0x35) {
      r.fixed(4, end);
    } else {
      s.other(tag, at, end, LINK_FIELDS, 'Span.Link');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_LINK_ATTRIBUTES);
}
