/** ExportTraceServiceRequest bytes -> otel_traces JSONEachRow lines (same rows as ../traces.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { TRACES_TABLE } from '../../schema.ts';
import { DEFAULT_SERVICE_NAME } from '../values.ts';
import { Ranges, attributesJson, checkAttributes, lastServiceName } from './any-value.ts';
import { skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { durationText, nanosText } from './numbers.ts';
import { EXPORT_TRACES, RESOURCE, RESOURCE_SPANS, SCOPE, SCOPE_SPANS, SPAN, SPAN_EVENT, SPAN_LINK, STATUS } from './specs.ts';
import { checkUtf8, hexAt, jsonQuote, jsonStringAt } from './text.ts';
import type { TextRowSink } from './text-sink.ts';

const SPAN_KINDS = ['"Unspecified"', '"Internal"', '"Server"', '"Client"', '"Producer"', '"Consumer"'];
const STATUS_CODES = ['"Unset"', '"Ok"', '"Error"'];

const resourceAttrs = new Ranges();
const scopeAttrs = new Ranges();
const spanAttrs = new Ranges();
const subAttrs = new Ranges();

/** Collects a Resource's attribute ranges (a resource seen twice is merged, as protobufjs does). */
export function walkResource(c: WireCursor, start: number, end: number, attrs: Ranges): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      attrs.push(c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, RESOURCE, 0);
    }
  }
}

/** An InstrumentationScope's fields (merged over repeated occurrences). */
export class ScopeFields {
  nameJson = '""';
  versionJson = '""';
  dropped = 0;

  reset(): void {
    this.nameJson = '""';
    this.versionJson = '""';
    this.dropped = 0;
  }
}

export function walkScope(c: WireCursor, start: number, end: number, scope: ScopeFields, attrs: Ranges): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x0a: {
        const len = c.length(end);
        scope.nameJson = jsonStringAt(c.b, c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x12: {
        const len = c.length(end);
        scope.versionJson = jsonStringAt(c.b, c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x1a: {
        const len = c.length(end);
        attrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x20:
        scope.dropped = c.varint(end);
        break;
      default:
        skipField(c, tag, end, SCOPE, 0);
    }
  }
}

/** Skips a field already validated by a first pass over the same message. */
export function skipKnown(c: WireCursor, tag: number, end: number): void {
  c.skip(tag & 7, tag >>> 3, end);
}

/** The resource's attributes JSON and its service name as JSON. */
export function resourceColumns(c: WireCursor, attrs: Ranges): string {
  const json = attributesJson(c, attrs, true);
  const name = lastServiceName;
  return ',"ServiceName":' + jsonQuote(name === undefined || name === '' ? DEFAULT_SERVICE_NAME : name) + ',"ResourceAttributes":' + json;
}

const scope = new ScopeFields();

function resourceSpans(c: WireCursor, start: number, end: number, head: string, out: string[]): number {
  resourceAttrs.n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      walkResource(c, s, s + len, resourceAttrs);
      c.pos = s + len;
    } else if (tag === 0x12) {
      c.pos = c.length(end) + c.pos; // length() moves pos past the prefix first
    } else if (tag === 0x1a) {
      const len = c.length(end);
      checkUtf8(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, RESOURCE_SPANS, 0);
    }
  }
  const resource = resourceColumns(c, resourceAttrs);
  let rows = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      rows += scopeSpans(c, s, s + len, head, resource, out);
      c.pos = s + len;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return rows;
}

function scopeSpans(c: WireCursor, start: number, end: number, head: string, resource: string, out: string[]): number {
  scope.reset();
  scopeAttrs.n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      walkScope(c, s, s + len, scope, scopeAttrs);
      c.pos = s + len;
    } else if (tag === 0x12) {
      c.pos = c.length(end) + c.pos; // length() moves pos past the prefix first
    } else if (tag === 0x1a) {
      const len = c.length(end);
      checkUtf8(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, SCOPE_SPANS, 0);
    }
  }
  // otel_traces keeps no scope attributes, but they must be as valid as the codec requires.
  checkAttributes(c, scopeAttrs);
  const tail = resource + ',"ScopeName":' + scope.nameJson + ',"ScopeVersion":' + scope.versionJson + '}';
  let rows = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      const line = head + span(c, s, s + len) + tail;
      // Reading a char flattens the concatenation tree now, while its parts are young garbage,
      // instead of keeping thousands of tree nodes alive per line until the batch is joined.
      line.charCodeAt(0);
      out.push(line);
      c.pos = s + len;
      rows++;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return rows;
}

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
      case 0x0a: {
        const len = c.length(end);
        traceS = c.pos;
        traceE = c.pos += len;
        break;
      }
      case 0x12: {
        const len = c.length(end);
        spanS = c.pos;
        spanE = c.pos += len;
        break;
      }
      case 0x1a: {
        const len = c.length(end);
        stateJson = jsonStringAt(c.b, c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x22: {
        const len = c.length(end);
        parentS = c.pos;
        parentE = c.pos += len;
        break;
      }
      case 0x2a: {
        const len = c.length(end);
        nameJson = jsonStringAt(c.b, c.pos, c.pos + len);
        c.pos += len;
        break;
      }
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
      case 0x4a: {
        const len = c.length(end);
        spanAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x5a: {
        const len = c.length(end);
        const s = c.pos;
        event(c, s, s + len);
        c.pos = s + len;
        break;
      }
      case 0x6a: {
        const len = c.length(end);
        const s = c.pos;
        link(c, s, s + len);
        c.pos = s + len;
        break;
      }
      case 0x7a: {
        const len = c.length(end);
        const s = c.pos;
        status(c, s, s + len);
        c.pos = s + len;
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
      const len = c.length(end);
      nameJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else if (tag === 0x1a) {
      const len = c.length(end);
      subAttrs.push(c.pos, c.pos + len);
      c.pos += len;
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
      const len = c.length(end);
      traceS = c.pos;
      traceE = c.pos += len;
    } else if (tag === 0x12) {
      const len = c.length(end);
      spanS = c.pos;
      spanE = c.pos += len;
    } else if (tag === 0x1a) {
      const len = c.length(end);
      stateJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else if (tag === 0x22) {
      const len = c.length(end);
      subAttrs.push(c.pos, c.pos + len);
      c.pos += len;
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
      const len = c.length(end);
      statusMessageJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else if (tag === 0x18) {
      statusCode = c.varint(end) | 0;
    } else {
      skipField(c, tag, end, STATUS, 0);
    }
  }
}

/** Decodes an ExportTraceServiceRequest and appends one otel_traces line per span; throws OtlpDecodeError on bad bytes. */
export function appendTraceWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  const c = new WireCursor(bytes);
  const out = sink.lines(TRACES_TABLE);
  const head = '{"TenantId":' + jsonQuote(tenant) + ',';
  const end = c.b.length;
  let rows = 0;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      rows += resourceSpans(c, s, s + len, head, out);
      c.pos = s + len;
    } else {
      skipField(c, tag, end, EXPORT_TRACES, 0);
    }
  }
  return rows;
}
