/** ExportLogsServiceRequest bytes -> otel_logs JSONEachRow bytes (same rows as ../logs.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { LOGS_TABLE } from '../../schema.ts';
import { Ranges, ValueBytes, feedValue, finishJson, isStringMember, startValue, writeAttributes } from './any-value-bytes.ts';
import { skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { JsonBytes, fragment } from './json-bytes.ts';
import { bytesOf, resourceTextWithSchemaUrl, scopeScratch, walkExport, type SignalRows } from './resource-scope.ts';
import { EXPORT_LOGS, LOG_RECORD, RESOURCE_LOGS, SCOPE_LOGS } from './specs.ts';
import { checkUtf8, jsonQuote } from './text.ts';
import type { TextRowSink } from './text-sink.ts';

const SEVERITY_BANDS = ['"TRACE"', '"DEBUG"', '"INFO"', '"WARN"', '"ERROR"', '"FATAL"'].map(fragment);

const F_SCOPE_SCHEMA_URL = fragment(',"ScopeSchemaUrl":');
const F_SCOPE_NAME = fragment(',"ScopeName":');
const F_SCOPE_VERSION = fragment(',"ScopeVersion":');
const F_SCOPE_ATTRIBUTES = fragment(',"ScopeAttributes":');
const F_ROW_END = fragment('}\n');
const F_TIMESTAMP = fragment('"Timestamp":"');
const F_TRACE_ID = fragment('","TraceId":"');
const F_SPAN_ID = fragment('","SpanId":"');
const F_TRACE_FLAGS = fragment('","TraceFlags":');
const F_SEVERITY_TEXT = fragment(',"SeverityText":');
const F_SEVERITY_NUMBER = fragment(',"SeverityNumber":');
const F_BODY = fragment(',"Body":');
const F_EVENT_NAME = fragment(',"EventName":');
const F_LOG_ATTRIBUTES = fragment(',"LogAttributes":');
const EMPTY_STRING = fragment('""');

const logAttrs = new Ranges();

const LOG_ROWS: SignalRows<JsonBytes, Buffer, Buffer> = {
  request: EXPORT_LOGS,
  resourceX: RESOURCE_LOGS,
  scopeX: SCOPE_LOGS,
  keepsSchemaUrls: true,
  resourceText: resourceTextWithSchemaUrl,
  scopeText(c, resource, scope, schemaJson) {
    const w = scopeScratch(resource);
    w.raw(F_SCOPE_SCHEMA_URL);
    w.utf8(schemaJson);
    w.raw(F_SCOPE_NAME);
    w.utf8(scope.nameJson);
    w.raw(F_SCOPE_VERSION);
    w.utf8(scope.versionJson);
    w.raw(F_SCOPE_ATTRIBUTES);
    writeAttributes(c, w, scope.attrs, false);
    w.raw(F_ROW_END);
    return bytesOf(w);
  },
  item(c, start, end, _head, tail, out) {
    out.raw(head);
    logRecord(c, start, end, out);
    out.raw(tail);
    out.rows++;
    return 1;
  },
};

/** The row head of the record being mapped ('{"TenantId":...,'). */
let head: Buffer = Buffer.alloc(0);

// The body, written as its occurrences are fed (an array or kvlist body appends as it merges).
const body = new ValueBytes();
const bodyBytes = new JsonBytes(1 << 12);

/** Writes the columns of one log record (between TenantId and ServiceName), without braces. */
function logRecord(c: WireCursor, start: number, end: number, w: JsonBytes): void {
  let timeHi = 0;
  let timeLo = 0;
  let observedHi = 0;
  let observedLo = 0;
  let severity = 0;
  let severityS = 0;
  let severityE = 0;
  let flags = 0;
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let eventS = 0;
  let eventE = 0;
  let hasBody = false;
  logAttrs.n = 0;
  bodyBytes.pos = 0;
  startValue(bodyBytes, body);
  const b = c.b;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x09:
        timeLo = c.fixed64(end);
        timeHi = c.hi;
        break;
      case 0x10:
        severity = c.varint(end) | 0;
        break;
      case 0x1a:
        // A string replaced by a later occurrence is never written, so it is validated now.
        if (severityE !== severityS) checkUtf8(b, severityS, severityE);
        severityS = c.skipDelimited(end);
        severityE = c.pos;
        break;
      case 0x2a: {
        const e = c.delimited(end);
        feedValue(c, bodyBytes, body, c.pos, e, 1);
        c.pos = e;
        hasBody = true;
        break;
      }
      case 0x32:
        logAttrs.pushField(c, end);
        break;
      case 0x45:
        flags = c.fixed32(end);
        break;
      case 0x4a:
        traceS = c.skipDelimited(end);
        traceE = c.pos;
        break;
      case 0x52:
        spanS = c.skipDelimited(end);
        spanE = c.pos;
        break;
      case 0x59:
        observedLo = c.fixed64(end);
        observedHi = c.hi;
        break;
      case 0x62:
        if (eventE !== eventS) checkUtf8(b, eventS, eventE);
        eventS = c.skipDelimited(end);
        eventE = c.pos;
        break;
      default:
        skipField(c, tag, end, LOG_RECORD, 0);
    }
  }
  w.raw(F_TIMESTAMP);
  if (timeHi === 0 && timeLo === 0) w.nanos(observedHi, observedLo);
  else w.nanos(timeHi, timeLo);
  w.raw(F_TRACE_ID);
  w.hex(b, traceS, traceE);
  w.raw(F_SPAN_ID);
  w.hex(b, spanS, spanE);
  w.raw(F_TRACE_FLAGS);
  w.uint(flags & 0xff);
  w.raw(F_SEVERITY_TEXT);
  if (severityE !== severityS) w.jsonString(b, severityS, severityE);
  else w.raw(severity >= 1 && severity <= 24 ? SEVERITY_BANDS[(severity - 1) >> 2] : EMPTY_STRING);
  w.raw(F_SEVERITY_NUMBER);
  w.int(severity);
  w.raw(F_BODY);
  if (!hasBody) {
    w.raw(EMPTY_STRING);
  } else {
    // ../logs.ts bodyText: a string as is, anything else (an empty AnyValue too) as its JSON text.
    finishJson(c, bodyBytes, body);
    if (!isStringMember(body)) bodyBytes.quoteRegion(body.start);
    w.copy(bodyBytes.buf, 0, bodyBytes.pos);
  }
  w.raw(F_EVENT_NAME);
  w.jsonString(b, eventS, eventE);
  w.raw(F_LOG_ATTRIBUTES);
  writeAttributes(c, w, logAttrs, false);
}

/** Decodes an ExportLogsServiceRequest and appends one otel_logs line per log record; throws OtlpDecodeError on bad bytes. */
export function appendLogWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  head = fragment('{"TenantId":' + jsonQuote(tenant) + ',');
  return walkExport(new WireCursor(bytes), LOG_ROWS, '', sink.table(LOGS_TABLE));
}
