/** ExportLogsServiceRequest bytes -> otel_logs JSONEachRow lines (same rows as ../logs.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { LOGS_TABLE } from '../../schema.ts';
import { Ranges, anyJson, attributesJson, bodyState, isStringValue } from './any-value.ts';
import { feedAnyValue } from './any-value.ts';
import { skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { nanosText } from './numbers.ts';
import { EXPORT_LOGS, LOG_RECORD, RESOURCE_LOGS, SCOPE_LOGS } from './specs.ts';
import { hexAt, jsonQuote, jsonStringAt } from './text.ts';
import type { TextRowSink } from './text-sink.ts';
import { ScopeFields, resourceColumns, skipKnown, walkResource, walkScope } from './traces.ts';

const SEVERITY_BANDS = ['"TRACE"', '"DEBUG"', '"INFO"', '"WARN"', '"ERROR"', '"FATAL"'];

const resourceAttrs = new Ranges();
const scopeAttrs = new Ranges();
const logAttrs = new Ranges();
const scope = new ScopeFields();

function resourceLogs(c: WireCursor, start: number, end: number, head: string, out: string[]): number {
  resourceAttrs.n = 0;
  let schemaJson = '""';
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
      schemaJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, RESOURCE_LOGS, 0);
    }
  }
  const resource = resourceColumns(c, resourceAttrs) + ',"ResourceSchemaUrl":' + schemaJson;
  let rows = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      rows += scopeLogs(c, s, s + len, head, resource, out);
      c.pos = s + len;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return rows;
}

function scopeLogs(c: WireCursor, start: number, end: number, head: string, resource: string, out: string[]): number {
  scope.reset();
  scopeAttrs.n = 0;
  let schemaJson = '""';
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
      schemaJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, SCOPE_LOGS, 0);
    }
  }
  const tail =
    resource +
    ',"ScopeSchemaUrl":' +
    schemaJson +
    ',"ScopeName":' +
    scope.nameJson +
    ',"ScopeVersion":' +
    scope.versionJson +
    ',"ScopeAttributes":' +
    attributesJson(c, scopeAttrs, false) +
    '}';
  let rows = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      out.push(head + logRecord(c, s, s + len) + tail);
      c.pos = s + len;
      rows++;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return rows;
}

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
      case 0x1a: {
        const len = c.length(end);
        severityTextJson = jsonStringAt(c.b, c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x2a: {
        const len = c.length(end);
        const s = c.pos;
        feedAnyValue(c, bodyState, s, s + len, 1);
        c.pos = s + len;
        hasBody = true;
        break;
      }
      case 0x32: {
        const len = c.length(end);
        logAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x45:
        flags = c.fixed32(end);
        break;
      case 0x4a: {
        const len = c.length(end);
        traceS = c.pos;
        traceE = c.pos += len;
        break;
      }
      case 0x52: {
        const len = c.length(end);
        spanS = c.pos;
        spanE = c.pos += len;
        break;
      }
      case 0x59:
        observedLo = c.fixed64(end);
        observedHi = c.hi;
        break;
      case 0x62: {
        const len = c.length(end);
        eventJson = jsonStringAt(c.b, c.pos, c.pos + len);
        c.pos += len;
        break;
      }
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
  const c = new WireCursor(bytes);
  const out = sink.lines(LOGS_TABLE);
  const head = '{"TenantId":' + jsonQuote(tenant) + ',';
  const end = c.b.length;
  let rows = 0;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      rows += resourceLogs(c, s, s + len, head, out);
      c.pos = s + len;
    } else {
      skipField(c, tag, end, EXPORT_LOGS, 0);
    }
  }
  return rows;
}
