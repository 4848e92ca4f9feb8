/** ExportLogsServiceRequest bytes -> otel_logs JSONEachRow lines (same rows as ../logs.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { LOGS_TABLE } from '../../schema.ts';
import { Ranges, anyJson, attributesJson, bodyState, feedAnyValue, isStringValue } from './any-value.ts';
import { skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { nanosText } from './numbers.ts';
import { resourceColumns, walkExport, type SignalRows } from './resource-scope.ts';
import { EXPORT_LOGS, LOG_RECORD, RESOURCE_LOGS, SCOPE_LOGS } from './specs.ts';
import { hexAt, jsonQuote } from './text.ts';
import type { LineWriter, TextRowSink } from './text-sink.ts';

const SEVERITY_BANDS = ['"TRACE"', '"DEBUG"', '"INFO"', '"WARN"', '"ERROR"', '"FATAL"'];

const logAttrs = new Ranges();

const LOG_ROWS: SignalRows<LineWriter> = {
  request: EXPORT_LOGS,
  resourceX: RESOURCE_LOGS,
  scopeX: SCOPE_LOGS,
  keepsSchemaUrls: true,
  resourceText: (c, _head, attrs, schemaJson) => resourceColumns(c, attrs) + ',"ResourceSchemaUrl":' + schemaJson,
  scopeText: (c, resource, scope, schemaJson) =>
    resource +
    ',"ScopeSchemaUrl":' +
    schemaJson +
    ',"ScopeName":' +
    scope.nameJson +
    ',"ScopeVersion":' +
    scope.versionJson +
    ',"ScopeAttributes":' +
    attributesJson(c, scope.attrs, false) +
    '}',
  item(c, start, end, head, tail, out) {
    out.push(head + logRecord(c, start, end) + tail);
    return 1;
  },
};

/** The columns of one log record (between TenantId and ServiceName), without braces. */
function logRecord(c: WireCursor, start: number, end: number): string {
  let timeHi = 0;
  let timeLo = 0;
  let observedHi = 0;
  let observedLo = 0;
  let severity = 0;
  let severityTextJson = '""';
  let flags = 0;
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let eventJson = '""';
  let hasBody = false;
  logAttrs.n = 0;
  bodyState.reset();
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
        severityTextJson = c.jsonString(end);
        break;
      case 0x2a: {
        const e = c.delimited(end);
        feedAnyValue(c, bodyState, c.pos, e, 1);
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
        eventJson = c.jsonString(end);
        break;
      default:
        skipField(c, tag, end, LOG_RECORD, 0);
    }
  }
  const useObserved = timeHi === 0 && timeLo === 0;
  // ../logs.ts bodyText: absent -> '', a string as is, anything else (an empty AnyValue too) as JSON.
  const bodyJson = !hasBody ? '""' : isStringValue(bodyState) ? anyJson(c, bodyState) : JSON.stringify(anyJson(c, bodyState));
  const severityText =
    severityTextJson !== '""' ? severityTextJson : severity >= 1 && severity <= 24 ? SEVERITY_BANDS[(severity - 1) >> 2] : '""';
  return (
    '"Timestamp":"' +
    (useObserved ? nanosText(observedHi, observedLo) : nanosText(timeHi, timeLo)) +
    '","TraceId":"' +
    hexAt(c.b, traceS, traceE) +
    '","SpanId":"' +
    hexAt(c.b, spanS, spanE) +
    '","TraceFlags":' +
    (flags & 0xff) +
    ',"SeverityText":' +
    severityText +
    ',"SeverityNumber":' +
    severity +
    ',"Body":' +
    bodyJson +
    ',"EventName":' +
    eventJson +
    ',"LogAttributes":' +
    attributesJson(c, logAttrs, false)
  );
}

/** Decodes an ExportLogsServiceRequest and appends one otel_logs line per log record; throws OtlpDecodeError on bad bytes. */
export function appendLogWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  return walkExport(new WireCursor(bytes), LOG_ROWS, '{"TenantId":' + jsonQuote(tenant) + ',', sink.lines(LOGS_TABLE));
}
