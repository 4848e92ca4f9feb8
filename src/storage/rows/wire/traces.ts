/** ExportTraceServiceRequest bytes -> otel_traces JSONEachRow lines (same rows as ../traces.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { TRACES_TABLE } from '../../schema.ts';
import { Ranges, attributesJson, checkAttributes } from './any-value.ts';
import { skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { durationText, nanosText } from './numbers.ts';
import { resourceColumns, walkExport, type SignalRows } from './resource-scope.ts';
import { EXPORT_TRACES, RESOURCE_SPANS, SCOPE_SPANS, SPAN, SPAN_EVENT, SPAN_LINK, STATUS } from './specs.ts';
import { hexAt, jsonQuote } from './text.ts';
import type { TextRowSink } from './text-sink.ts';

const SPAN_KINDS = ['"Unspecified"', '"Internal"', '"Server"', '"Client"', '"Producer"', '"Consumer"'];
const STATUS_CODES = ['"Unset"', '"Ok"', '"Error"'];

const spanAttrs = new Ranges();
const subAttrs = new Ranges();

const TRACE_ROWS: SignalRows<string[]> = {
  request: EXPORT_TRACES,
  resourceX: RESOURCE_SPANS,
  scopeX: SCOPE_SPANS,
  keepsSchemaUrls: false,
  resourceText: (c, _head, attrs) => resourceColumns(c, attrs),
  scopeText(c, resource, scope) {
    // otel_traces keeps no scope attributes, but they must be as valid as the codec requires.
    checkAttributes(c, scope.attrs);
    return resource + ',"ScopeName":' + scope.nameJson + ',"ScopeVersion":' + scope.versionJson + '}';
  },
  item(c, start, end, head, tail, out) {
    const line = head + span(c, start, end) + tail;
    // Reading a char flattens the concatenation tree now, while its parts are young garbage,
    // instead of keeping thousands of tree nodes alive per line until the batch is joined.
    line.charCodeAt(0);
    out.push(line);
    return 1;
  },
};

// A span's events and links, rendered as they are met (parallel arrays of the Nested columns).
let evCount = 0;
let evTimes = '';
let evNames = '';
let evAttrs = '';
let lkCount = 0;
let lkTraces = '';
let lkSpans = '';
let lkStates = '';
let lkAttrs = '';
let statusCode = 0;
let statusMessageJson = '""';

/** The columns of one span (between TenantId and ServiceName), without braces. */
function span(c: WireCursor, start: number, end: number): string {
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let parentS = 0;
  let parentE = 0;
  let stateJson = '""';
  let nameJson = '""';
  let kind = 0;
  let startHi = 0;
  let startLo = 0;
  let endHi = 0;
  let endLo = 0;
  spanAttrs.n = 0;
  evCount = 0;
  lkCount = 0;
  statusCode = 0;
  statusMessageJson = '""';
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
        stateJson = c.jsonString(end);
        break;
      case 0x22:
        parentS = c.skipDelimited(end);
        parentE = c.pos;
        break;
      case 0x2a:
        nameJson = c.jsonString(end);
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
  const nested =
    evCount === 0
      ? ',"Events.Timestamp":[],"Events.Name":[],"Events.Attributes":[]'
      : ',"Events.Timestamp":[' + evTimes + '],"Events.Name":[' + evNames + '],"Events.Attributes":[' + evAttrs + ']';
  const links =
    lkCount === 0
      ? ',"Links.TraceId":[],"Links.SpanId":[],"Links.TraceState":[],"Links.Attributes":[]'
      : ',"Links.TraceId":[' + lkTraces + '],"Links.SpanId":[' + lkSpans + '],"Links.TraceState":[' + lkStates + '],"Links.Attributes":[' + lkAttrs + ']';
  return (
    '"Timestamp":"' +
    nanosText(startHi, startLo) +
    '","TraceId":"' +
    hexAt(c.b, traceS, traceE) +
    '","SpanId":"' +
    hexAt(c.b, spanS, spanE) +
    '","ParentSpanId":"' +
    hexAt(c.b, parentS, parentE) +
    '","TraceState":' +
    stateJson +
    ',"SpanName":' +
    nameJson +
    ',"SpanKind":' +
    (kind >= 0 && kind < SPAN_KINDS.length ? SPAN_KINDS[kind] : SPAN_KINDS[0]) +
    ',"SpanAttributes":' +
    attributesJson(c, spanAttrs, false) +
    ',"Duration":"' +
    durationText(endHi, endLo, startHi, startLo) +
    '","StatusCode":' +
    (statusCode >= 0 && statusCode < STATUS_CODES.length ? STATUS_CODES[statusCode] : STATUS_CODES[0]) +
    ',"StatusMessage":' +
    statusMessageJson +
    nested +
    links
  );
}

function event(c: WireCursor, start: number, end: number): void {
  let hi = 0;
  let lo = 0;
  let nameJson = '""';
  subAttrs.n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x09) {
      lo = c.fixed64(end);
      hi = c.hi;
    } else if (tag === 0x12) {
      nameJson = c.jsonString(end);
    } else if (tag === 0x1a) {
      subAttrs.pushField(c, end);
    } else {
      skipField(c, tag, end, SPAN_EVENT, 0);
    }
  }
  const attrs = attributesJson(c, subAttrs, false);
  const sep = evCount++ === 0 ? '' : ',';
  if (sep === '') {
    evTimes = '"' + nanosText(hi, lo) + '"';
    evNames = nameJson;
    evAttrs = attrs;
  } else {
    evTimes += ',"' + nanosText(hi, lo) + '"';
    evNames += ',' + nameJson;
    evAttrs += ',' + attrs;
  }
}

function link(c: WireCursor, start: number, end: number): void {
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let stateJson = '""';
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
      stateJson = c.jsonString(end);
    } else if (tag === 0x22) {
      subAttrs.pushField(c, end);
    } else {
      skipField(c, tag, end, SPAN_LINK, 0);
    }
  }
  const attrs = attributesJson(c, subAttrs, false);
  const first = lkCount++ === 0;
  const traceJson = '"' + hexAt(c.b, traceS, traceE) + '"';
  const spanJson = '"' + hexAt(c.b, spanS, spanE) + '"';
  if (first) {
    lkTraces = traceJson;
    lkSpans = spanJson;
    lkStates = stateJson;
    lkAttrs = attrs;
  } else {
    lkTraces += ',' + traceJson;
    lkSpans += ',' + spanJson;
    lkStates += ',' + stateJson;
    lkAttrs += ',' + attrs;
  }
}

/** Status fields; a status seen twice is merged (last value of each field wins). */
function status(c: WireCursor, start: number, end: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      statusMessageJson = c.jsonString(end);
    } else if (tag === 0x18) {
      statusCode = c.varint(end) | 0;
    } else {
      skipField(c, tag, end, STATUS, 0);
    }
  }
}

/** Decodes an ExportTraceServiceRequest and appends one otel_traces line per span; throws OtlpDecodeError on bad bytes. */
export function appendTraceWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  return walkExport(new WireCursor(bytes), TRACE_ROWS, '{"TenantId":' + jsonQuote(tenant) + ',', sink.lines(TRACES_TABLE));
}
