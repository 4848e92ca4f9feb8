/** ExportLogsServiceRequest bytes -> otel_logs Native columns (same rows as ../wire/logs.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { LOGS_TABLE } from '../../schema.ts';
import { Ranges, ValueBytes, feedValue, finishJson, isStringMember, startValue } from '../wire/any-value-bytes.ts';
import { skipField } from '../wire/check.ts';
import { WireCursor } from '../wire/cursor.ts';
import { JsonBytes } from '../wire/json-bytes.ts';
import { walkExport, type ScopeFields, type SignalRows } from '../wire/resource-scope.ts';
import { EXPORT_LOGS, LOG_RECORD, RESOURCE_LOGS, SCOPE_LOGS } from '../wire/specs.ts';
import { checkUtf8 } from '../wire/text.ts';
import { ConstantMap, ConstantString, bytesOfJson, writeMap } from './attributes.ts';
import { NativeTable, fixed, lcMap, lowCardinality, map } from './columns.ts';
import type { NativeRowSink } from './sink.ts';

const LC = 'LowCardinality(String)';
const MAP = 'Map(LowCardinality(String), String)';
const LC_MAP = 'Map(LowCardinality(String), LowCardinality(String))';
const SEVERITY_BANDS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** The otel_logs columns (schema.ts), in order; TimestampTime is left to its DEFAULT (toDateTime(Timestamp)). */
export class LogsTable extends NativeTable {
  readonly tenantId = this.column('TenantId', LC, lowCardinality());
  readonly timestamp = this.column('Timestamp', 'DateTime64(9)', fixed());
  readonly traceId = this.column('TraceId', 'String', fixed());
  readonly spanId = this.column('SpanId', 'String', fixed());
  readonly traceFlags = this.column('TraceFlags', 'UInt8', fixed());
  readonly severityText = this.column('SeverityText', LC, lowCardinality());
  readonly severityNumber = this.column('SeverityNumber', 'UInt8', fixed());
  readonly serviceName = this.column('ServiceName', LC, lowCardinality());
  readonly body = this.column('Body', 'String', fixed(1 << 16));
  readonly eventName = this.column('EventName', 'String', fixed());
  readonly resourceSchemaUrl = this.column('ResourceSchemaUrl', LC, lowCardinality());
  readonly resourceAttributes = this.column('ResourceAttributes', LC_MAP, lcMap());
  readonly scopeSchemaUrl = this.column('ScopeSchemaUrl', LC, lowCardinality());
  readonly scopeName = this.column('ScopeName', LC, lowCardinality());
  readonly scopeVersion = this.column('ScopeVersion', LC, lowCardinality());
  readonly scopeAttributes = this.column('ScopeAttributes', MAP, map());
  readonly logAttributes = this.column('LogAttributes', MAP, map());
  /** SeverityText ids of the six severity bands ('' is id 0). */
  readonly bandIds = SEVERITY_BANDS.map((s) => this.severityText.idOfString(s));
  /** TenantId's id for the record being mapped. */
  tenant = 0;

  constructor() {
    super(LOGS_TABLE);
    // bandIds stay valid through reset().
    this.severityText.pin();
  }
}

/** What every log record of a ResourceLogs / ScopeLogs shares (one of each: the walk is never re-entered). */
const resource = { attributes: new ConstantMap(), serviceName: new ConstantString(), schemaUrl: new ConstantString() };
const scope: { schemaUrl: ConstantString; name: ConstantString; version: ConstantString; attributes: ConstantMap } = {
  schemaUrl: new ConstantString(),
  name: new ConstantString(),
  version: new ConstantString(),
  attributes: new ConstantMap(),
};
type Resource = typeof resource;
type Scope = typeof scope;

const LOG_ROWS: SignalRows<LogsTable, Resource, Scope> = {
  request: EXPORT_LOGS,
  resourceX: RESOURCE_LOGS,
  scopeX: SCOPE_LOGS,
  keepsSchemaUrls: true,
  resourceText(c, _head, attrs, schemaJson) {
    resource.attributes.load(c, attrs);
    resource.serviceName.set(resource.attributes.serviceName);
    resource.schemaUrl.set(bytesOfJson(schemaJson));
    return resource;
  },
  scopeText(c, _resource, fields: ScopeFields, schemaJson) {
    scope.schemaUrl.set(bytesOfJson(schemaJson));
    scope.name.set(bytesOfJson(fields.nameJson));
    scope.version.set(bytesOfJson(fields.versionJson));
    scope.attributes.load(c, fields.attrs);
    return scope;
  },
  item(c, start, end, _head, sc, t) {
    logRecord(c, start, end, sc, t);
    t.rows++;
    return 1;
  },
};

const logAttrs = new Ranges();
// The body as its occurrences are fed (an array or kvlist body appends as it merges).
const body = new ValueBytes();
const bodyJson = new JsonBytes(1 << 12);

function logRecord(c: WireCursor, start: number, end: number, sc: Scope, t: LogsTable): void {
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
  bodyJson.pos = 0;
  startValue(bodyJson, body);
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
        feedValue(c, bodyJson, body, c.pos, e, 1);
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
  t.tenantId.push(t.tenant);
  if (timeHi === 0 && timeLo === 0) t.timestamp.nanos(observedHi, observedLo);
  else t.timestamp.nanos(timeHi, timeLo);
  t.traceId.hex(b, traceS, traceE);
  t.spanId.hex(b, spanS, spanE);
  t.traceFlags.u8(flags & 0xff);
  if (severityE !== severityS) t.severityText.pushBytes(b, severityS, severityE);
  else t.severityText.push(severity >= 1 && severity <= 24 ? t.bandIds[(severity - 1) >> 2] : 0);
  // UInt8: the low byte, as ClickHouse stores a number past 255 parsed from the JSON text.
  t.severityNumber.u8(severity & 0xff);
  t.serviceName.push(resource.serviceName.idIn(t.serviceName));
  if (!hasBody) {
    t.body.u8(0);
  } else if (isStringMember(body)) {
    t.body.string(b, body.s, body.e);
  } else {
    // ../logs.ts bodyText: anything but a string (an empty AnyValue too) as its JSON text.
    finishJson(c, bodyJson, body);
    t.body.stringTrusted(bodyJson.buf, body.start, bodyJson.pos);
  }
  t.eventName.string(b, eventS, eventE);
  t.resourceSchemaUrl.push(resource.schemaUrl.idIn(t.resourceSchemaUrl));
  resource.attributes.write(t.resourceAttributes);
  t.scopeSchemaUrl.push(sc.schemaUrl.idIn(t.scopeSchemaUrl));
  t.scopeName.push(sc.name.idIn(t.scopeName));
  t.scopeVersion.push(sc.version.idIn(t.scopeVersion));
  sc.attributes.write(t.scopeAttributes);
  writeMap(c, logAttrs, t.logAttributes);
}

/** Decodes an ExportLogsServiceRequest and appends one otel_logs row per log record; throws OtlpDecodeError on bad bytes. */
export function appendLogNative(bytes: Uint8Array, tenant: TenantId, sink: NativeRowSink): number {
  const t = sink.table(LOGS_TABLE, () => new LogsTable());
  t.tenant = t.tenantId.idOfString(tenant);
  return walkExport(new WireCursor(bytes), LOG_ROWS, '', t);
}
