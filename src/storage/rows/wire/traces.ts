/** ExportTraceServiceRequest bytes -> otel_traces JSONEachRow bytes (same rows as ../traces.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { TRACES_TABLE } from '../../schema.ts';
import { Ranges, checkAttributes, writeAttributes } from './any-value-bytes.ts';
import { skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { JsonBytes, fragment } from './json-bytes.ts';
import { bytesOf, resourceColumnsBytes, scopeScratch, walkExport, type SignalRows } from './resource-scope.ts';
import { EXPORT_TRACES, RESOURCE_SPANS, SCOPE_SPANS, SPAN, SPAN_EVENT, SPAN_LINK, STATUS } from './specs.ts';
import { checkUtf8, jsonQuote } from './text.ts';
import type { TextRowSink } from './text-sink.ts';

const SPAN_KINDS = ['"Unspecified"', '"Internal"', '"Server"', '"Client"', '"Producer"', '"Consumer"'].map(fragment);
const STATUS_CODES = ['"Unset"', '"Ok"', '"Error"'].map(fragment);

const F_TIMESTAMP = fragment('"Timestamp":"');
const F_TRACE_ID = fragment('","TraceId":"');
const F_SPAN_ID = fragment('","SpanId":"');
const F_PARENT_SPAN_ID = fragment('","ParentSpanId":"');
const F_TRACE_STATE = fragment('","TraceState":');
const F_SPAN_NAME = fragment(',"SpanName":');
const F_SPAN_KIND = fragment(',"SpanKind":');
const F_SPAN_ATTRIBUTES = fragment(',"SpanAttributes":');
const F_DURATION = fragment(',"Duration":"');
const F_STATUS_CODE = fragment('","StatusCode":');
const F_STATUS_MESSAGE = fragment(',"StatusMessage":');
const F_NO_EVENTS = fragment(',"Events.Timestamp":[],"Events.Name":[],"Events.Attributes":[]');
const F_NO_LINKS = fragment(',"Links.TraceId":[],"Links.SpanId":[],"Links.TraceState":[],"Links.Attributes":[]');
const F_EVENTS_TIMESTAMP = fragment(',"Events.Timestamp":[');
const F_EVENTS_NAME = fragment('],"Events.Name":[');
const F_EVENTS_ATTRIBUTES = fragment('],"Events.Attributes":[');
const F_LINKS_TRACE_ID = fragment(',"Links.TraceId":[');
const F_LINKS_SPAN_ID = fragment('],"Links.SpanId":[');
const F_LINKS_TRACE_STATE = fragment('],"Links.TraceState":[');
const F_LINKS_ATTRIBUTES = fragment('],"Links.Attributes":[');
const F_CLOSE = fragment(']');
const F_SCOPE_NAME = fragment(',"ScopeName":');
const F_SCOPE_VERSION = fragment(',"ScopeVersion":');
const F_ROW_END = fragment('}\n');

const spanAttrs = new Ranges();
const subAttrs = new Ranges();

const TRACE_ROWS: SignalRows<JsonBytes, Buffer, Buffer> = {
  request: EXPORT_TRACES,
  resourceX: RESOURCE_SPANS,
  scopeX: SCOPE_SPANS,
  keepsSchemaUrls: false,
  resourceText: (c, _head, attrs) => bytesOf(resourceColumnsBytes(c, attrs)),
  scopeText(c, resource, scope) {
    // otel_traces keeps no scope attributes, but they must be as valid as the codec requires.
    checkAttributes(c, scope.attrs);
    const w = scopeScratch(resource);
    w.raw(F_SCOPE_NAME);
    w.utf8(scope.nameJson);
    w.raw(F_SCOPE_VERSION);
    w.utf8(scope.versionJson);
    w.raw(F_ROW_END);
    return bytesOf(w);
  },
  item(c, start, end, _head, tail, out) {
    out.raw(head);
    span(c, start, end, out);
    out.raw(tail);
    out.rows++;
    return 1;
  },
};

/** The row head of the record being mapped ('{"TenantId":...,'). */
let head: Buffer = Buffer.alloc(0);

// A span's events and links, written as they are met (parallel arrays of the Nested columns).
const evTimes = new JsonBytes(1 << 12);
const evNames = new JsonBytes(1 << 12);
const evAttrs = new JsonBytes(1 << 14);
const lkTraces = new JsonBytes(1 << 12);
const lkSpans = new JsonBytes(1 << 12);
const lkStates = new JsonBytes(1 << 12);
const lkAttrs = new JsonBytes(1 << 14);
let evCount = 0;
let lkCount = 0;
let statusCode = 0;
let statusS = 0;
let statusE = 0;

/** Writes the columns of one span (between TenantId and ServiceName), without braces. */
function span(c: WireCursor, start: number, end: number, w: JsonBytes): void {
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let parentS = 0;
  let parentE = 0;
  let stateS = 0;
  let stateE = 0;
  let nameS = 0;
  let nameE = 0;
  let kind = 0;
  let startHi = 0;
  let startLo = 0;
  let endHi = 0;
  let endLo = 0;
  spanAttrs.n = 0;
  evCount = 0;
  lkCount = 0;
  statusCode = 0;
  statusS = statusE = 0;
  const b = c.b;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x0a:
        traceS = c.skipDelimited(end);
        traceE = c.pos;
        break;
      case 0x12:
        spanS = c.skipDelimited(end);
        spanE = c.pos;
        break;
      case 0x1a:
        // A string replaced by a later occurrence is never written, so it is validated now.
        if (stateE !== stateS) checkUtf8(b, stateS, stateE);
        stateS = c.skipDelimited(end);
        stateE = c.pos;
        break;
      case 0x22:
        parentS = c.skipDelimited(end);
        parentE = c.pos;
        break;
      case 0x2a:
        if (nameE !== nameS) checkUtf8(b, nameS, nameE);
        nameS = c.skipDelimited(end);
        nameE = c.pos;
        break;
      case 0x30:
        kind = c.varint(end) | 0;
        break;
      case 0x39:
        startLo = c.fixed64(end);
        startHi = c.hi;
        break;
      case 0x41:
        endLo = c.fixed64(end);
        endHi = c.hi;
        break;
      case 0x4a:
        spanAttrs.pushField(c, end);
        break;
      case 0x5a: {
        const e = c.delimited(end);
        event(c, c.pos, e);
        c.pos = e;
        break;
      }
      case 0x6a: {
        const e = c.delimited(end);
        link(c, c.pos, e);
        c.pos = e;
        break;
      }
      case 0x7a: {
        const e = c.delimited(end);
        status(c, c.pos, e);
        c.pos = e;
        break;
      }
      default:
        skipField(c, tag, end, SPAN, 0);
    }
  }
  w.raw(F_TIMESTAMP);
  w.nanos(startHi, startLo);
  w.raw(F_TRACE_ID);
  w.hex(b, traceS, traceE);
  w.raw(F_SPAN_ID);
  w.hex(b, spanS, spanE);
  w.raw(F_PARENT_SPAN_ID);
  w.hex(b, parentS, parentE);
  w.raw(F_TRACE_STATE);
  w.jsonString(b, stateS, stateE);
  w.raw(F_SPAN_NAME);
  w.jsonString(b, nameS, nameE);
  w.raw(F_SPAN_KIND);
  w.raw(kind >= 0 && kind < SPAN_KINDS.length ? SPAN_KINDS[kind] : SPAN_KINDS[0]);
  w.raw(F_SPAN_ATTRIBUTES);
  writeAttributes(c, w, spanAttrs, false);
  w.raw(F_DURATION);
  if (endHi < startHi || (endHi === startHi && endLo <= startLo)) w.byte(0x30);
  else if (endLo >= startLo) w.u64(endHi - startHi, endLo - startLo);
  else w.u64(endHi - startHi - 1, endLo - startLo + 4294967296);
  w.raw(F_STATUS_CODE);
  w.raw(statusCode >= 0 && statusCode < STATUS_CODES.length ? STATUS_CODES[statusCode] : STATUS_CODES[0]);
  w.raw(F_STATUS_MESSAGE);
  w.jsonString(b, statusS, statusE);
  if (evCount === 0) {
    w.raw(F_NO_EVENTS);
  } else {
    w.raw(F_EVENTS_TIMESTAMP);
    w.copy(evTimes.buf, 0, evTimes.pos);
    w.raw(F_EVENTS_NAME);
    w.copy(evNames.buf, 0, evNames.pos);
    w.raw(F_EVENTS_ATTRIBUTES);
    w.copy(evAttrs.buf, 0, evAttrs.pos);
    w.raw(F_CLOSE);
  }
  if (lkCount === 0) {
    w.raw(F_NO_LINKS);
  } else {
    w.raw(F_LINKS_TRACE_ID);
    w.copy(lkTraces.buf, 0, lkTraces.pos);
    w.raw(F_LINKS_SPAN_ID);
    w.copy(lkSpans.buf, 0, lkSpans.pos);
    w.raw(F_LINKS_TRACE_STATE);
    w.copy(lkStates.buf, 0, lkStates.pos);
    w.raw(F_LINKS_ATTRIBUTES);
    w.copy(lkAttrs.buf, 0, lkAttrs.pos);
    w.raw(F_CLOSE);
  }
}

function event(c: WireCursor, start: number, end: number): void {
  let hi = 0;
  let lo = 0;
  let nameS = 0;
  let nameE = 0;
  subAttrs.n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x09) {
      lo = c.fixed64(end);
      hi = c.hi;
    } else if (tag === 0x12) {
      if (nameE !== nameS) checkUtf8(c.b, nameS, nameE);
      nameS = c.skipDelimited(end);
      nameE = c.pos;
    } else if (tag === 0x1a) {
      subAttrs.pushField(c, end);
    } else {
      skipField(c, tag, end, SPAN_EVENT, 0);
    }
  }
  if (evCount++ === 0) {
    evTimes.pos = evNames.pos = evAttrs.pos = 0;
  } else {
    evTimes.byte(0x2c);
    evNames.byte(0x2c);
    evAttrs.byte(0x2c);
  }
  writeAttributes(c, evAttrs, subAttrs, false);
  evTimes.byte(0x22);
  evTimes.nanos(hi, lo);
  evTimes.byte(0x22);
  evNames.jsonString(c.b, nameS, nameE);
}

function link(c: WireCursor, start: number, end: number): void {
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let stateS = 0;
  let stateE = 0;
  subAttrs.n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      traceS = c.skipDelimited(end);
      traceE = c.pos;
    } else if (tag === 0x12) {
      spanS = c.skipDelimited(end);
      spanE = c.pos;
    } else if (tag === 0x1a) {
      if (stateE !== stateS) checkUtf8(c.b, stateS, stateE);
      stateS = c.skipDelimited(end);
      stateE = c.pos;
    } else if (tag === 0x22) {
      subAttrs.pushField(c, end);
    } else {
      skipField(c, tag, end, SPAN_LINK, 0);
    }
  }
  if (lkCount++ === 0) {
    lkTraces.pos = lkSpans.pos = lkStates.pos = lkAttrs.pos = 0;
  } else {
    lkTraces.byte(0x2c);
    lkSpans.byte(0x2c);
    lkStates.byte(0x2c);
    lkAttrs.byte(0x2c);
  }
  writeAttributes(c, lkAttrs, subAttrs, false);
  lkTraces.byte(0x22);
  lkTraces.hex(c.b, traceS, traceE);
  lkTraces.byte(0x22);
  lkSpans.byte(0x22);
  lkSpans.hex(c.b, spanS, spanE);
  lkSpans.byte(0x22);
  lkStates.jsonString(c.b, stateS, stateE);
}

/** Status fields; a status seen twice is merged (last value of each field wins). */
function status(c: WireCursor, start: number, end: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      if (statusE !== statusS) checkUtf8(c.b, statusS, statusE);
      statusS = c.skipDelimited(end);
      statusE = c.pos;
    } else if (tag === 0x18) {
      statusCode = c.varint(end) | 0;
    } else {
      skipField(c, tag, end, STATUS, 0);
    }
  }
}

/** Decodes an ExportTraceServiceRequest and appends one otel_traces line per span; throws OtlpDecodeError on bad bytes. */
export function appendTraceWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  head = fragment('{"TenantId":' + jsonQuote(tenant) + ',');
  return walkExport(new WireCursor(bytes), TRACE_ROWS, '', sink.table(TRACES_TABLE));
}
