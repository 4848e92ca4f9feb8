/** ExportTraceServiceRequest bytes -> otel_traces Native columns (same rows as ../wire/traces.ts). */
import type { TenantId } from '../../../telemetry/signals.ts';
import { TRACES_TABLE } from '../../schema.ts';
import { Ranges, checkAttributes } from '../wire/any-value-bytes.ts';
import { skipField } from '../wire/check.ts';
import { WireCursor } from '../wire/cursor.ts';
import { walkExport, type ScopeFields, type SignalRows } from '../wire/resource-scope.ts';
import { EXPORT_TRACES, RESOURCE_SPANS, SCOPE_SPANS, SPAN, SPAN_EVENT, SPAN_LINK, STATUS } from '../wire/specs.ts';
import { checkUtf8 } from '../wire/text.ts';
import { ConstantMap, ConstantString, bytesOfJson, writeMap } from './attributes.ts';
import { viewOfCached } from './bytes.ts';
import { NativeTable, arrayOf, fixed, lcMap, lowCardinality, map } from './columns.ts';
import type { NativeRowSink } from './sink.ts';

const LC = 'LowCardinality(String)';
const MAP = 'Map(LowCardinality(String), String)';
const LC_MAP = 'Map(LowCardinality(String), LowCardinality(String))';
const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

/** The otel_traces columns (schema.ts), in order. */
export class TracesTable extends NativeTable {
  readonly tenantId = this.column('TenantId', LC, lowCardinality());
  readonly timestamp = this.column('Timestamp', 'DateTime64(9)', fixed());
  readonly traceId = this.column('TraceId', 'String', fixed());
  readonly spanId = this.column('SpanId', 'String', fixed());
  readonly parentSpanId = this.column('ParentSpanId', 'String', fixed());
  readonly traceState = this.column('TraceState', 'String', fixed());
  readonly spanName = this.column('SpanName', LC, lowCardinality());
  readonly spanKind = this.column('SpanKind', LC, lowCardinality());
  readonly serviceName = this.column('ServiceName', LC, lowCardinality());
  readonly resourceAttributes = this.column('ResourceAttributes', LC_MAP, lcMap());
  readonly scopeName = this.column('ScopeName', LC, lowCardinality());
  readonly scopeVersion = this.column('ScopeVersion', LC, lowCardinality());
  readonly spanAttributes = this.column('SpanAttributes', MAP, map());
  readonly duration = this.column('Duration', 'UInt64', fixed());
  readonly statusCode = this.column('StatusCode', LC, lowCardinality());
  readonly statusMessage = this.column('StatusMessage', 'String', fixed());
  readonly eventsTimestamp = this.column('Events.Timestamp', 'Array(DateTime64(9))', arrayOf(fixed()));
  readonly eventsName = this.column('Events.Name', `Array(${LC})`, arrayOf(lowCardinality()));
  readonly eventsAttributes = this.column('Events.Attributes', `Array(${MAP})`, arrayOf(map()));
  readonly linksTraceId = this.column('Links.TraceId', 'Array(String)', arrayOf(fixed()));
  readonly linksSpanId = this.column('Links.SpanId', 'Array(String)', arrayOf(fixed()));
  readonly linksTraceState = this.column('Links.TraceState', 'Array(String)', arrayOf(fixed()));
  readonly linksAttributes = this.column('Links.Attributes', `Array(${MAP})`, arrayOf(map()));
  readonly spanKindIds = SPAN_KINDS.map((k) => this.spanKind.idOfString(k));
  readonly statusCodeIds = STATUS_CODES.map((k) => this.statusCode.idOfString(k));
  /** TenantId's id for the record being mapped. */
  tenant = 0;

  constructor() {
    super(TRACES_TABLE);
    // The ids above stay valid through reset().
    this.spanKind.pin();
    this.statusCode.pin();
  }
}

/** What every span of a ResourceSpans / ScopeSpans shares (one of each: the walk is never re-entered). */
const resource = { attributes: new ConstantMap(), serviceName: new ConstantString() };
const scope = { name: new ConstantString(), version: new ConstantString() };
type Resource = typeof resource;
type Scope = typeof scope;

const TRACE_ROWS: SignalRows<TracesTable, Resource, Scope> = {
  request: EXPORT_TRACES,
  resourceX: RESOURCE_SPANS,
  scopeX: SCOPE_SPANS,
  keepsSchemaUrls: false,
  resourceText(c, _head, attrs) {
    resource.attributes.load(c, attrs);
    resource.serviceName.set(resource.attributes.serviceName);
    return resource;
  },
  scopeText(c, _resource, fields: ScopeFields) {
    // otel_traces keeps no scope attributes, but they must be as valid as the codec requires.
    checkAttributes(c, fields.attrs);
    scope.name.set(bytesOfJson(fields.nameJson));
    scope.version.set(bytesOfJson(fields.versionJson));
    return scope;
  },
  item(c, start, end, _head, sc, t) {
    span(c, start, end, sc, t);
    t.rows++;
    return 1;
  },
};

const spanAttrs = new Ranges();
const subAttrs = new Ranges();
let evCount = 0;
let lkCount = 0;
let statusCode = 0;
let statusS = 0;
let statusE = 0;

function span(c: WireCursor, start: number, end: number, sc: Scope, t: TracesTable): void {
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
  // Where the fixed64 times are (-1: absent, zero).
  let startAt = -1;
  let endAt = -1;
  spanAttrs.n = 0;
  evCount = 0;
  lkCount = 0;
  statusCode = 0;
  statusS = statusE = 0;
  const b = c.b;
  const view = viewOfCached(b);
  // The cursor's reads, in place for the common shapes (one-byte tags and lengths); anything
  // else, malformed input included, goes through the cursor, which throws as the codec does.
  let pos = start;
  while (pos < end) {
    let tag = b[pos];
    if (tag >= 0x08 && tag < 0x80 && (tag & 7) <= 5) pos++;
    else {
      c.pos = pos;
      tag = c.tag(end);
      pos = c.pos;
    }
    if ((tag & 7) === 2) {
      const afterTag = pos;
      let s: number;
      let e: number;
      const len = b[pos];
      if (len < 0x80 && pos + 1 + len <= end) {
        s = pos + 1;
        e = s + len;
      } else {
        c.pos = pos;
        const l = c.length(end);
        s = c.pos;
        e = s + l;
      }
      pos = e;
      switch (tag) {
        case 0x0a:
          traceS = s;
          traceE = e;
          break;
        case 0x12:
          spanS = s;
          spanE = e;
          break;
        case 0x1a:
          // A string replaced by a later occurrence is never written, so it is validated now.
          if (stateE !== stateS) checkUtf8(b, stateS, stateE);
          stateS = s;
          stateE = e;
          break;
        case 0x22:
          parentS = s;
          parentE = e;
          break;
        case 0x2a:
          if (nameE !== nameS) checkUtf8(b, nameS, nameE);
          nameS = s;
          nameE = e;
          break;
        case 0x4a:
          spanAttrs.push(s, e);
          break;
        case 0x5a:
          event(c, s, e, t);
          break;
        case 0x6a:
          link(c, s, e, t);
          break;
        case 0x7a:
          status(c, s, e);
          break;
        default:
          c.pos = afterTag;
          skipField(c, tag, end, SPAN, 0);
          pos = c.pos;
      }
      continue;
    }
    switch (tag) {
      case 0x30:
        if (pos < end && b[pos] < 0x80) kind = b[pos++];
        else {
          c.pos = pos;
          kind = c.varint(end) | 0;
          pos = c.pos;
        }
        break;
      case 0x39:
      case 0x41:
        if (end - pos < 8) {
          c.pos = pos;
          c.fixed64(end); // throws: truncated
        }
        if (tag === 0x39) startAt = pos;
        else endAt = pos;
        pos += 8;
        break;
      default:
        c.pos = pos;
        skipField(c, tag, end, SPAN, 0);
        pos = c.pos;
    }
  }
  // Unsigned nanosecond times as uint32 halves (locals: no number boxes).
  const startLo = startAt < 0 ? 0 : view.getUint32(startAt, true);
  const startHi = startAt < 0 ? 0 : view.getUint32(startAt + 4, true);
  const endLo = endAt < 0 ? 0 : view.getUint32(endAt, true);
  const endHi = endAt < 0 ? 0 : view.getUint32(endAt + 4, true);
  t.tenantId.push(t.tenant);
  t.timestamp.nanos(startHi, startLo);
  t.traceId.hex(b, traceS, traceE);
  t.spanId.hex(b, spanS, spanE);
  t.parentSpanId.hex(b, parentS, parentE);
  t.traceState.string(b, stateS, stateE);
  t.spanName.pushBytes(b, nameS, nameE);
  t.spanKind.push(t.spanKindIds[kind >= 0 && kind < SPAN_KINDS.length ? kind : 0]);
  t.serviceName.push(resource.serviceName.idIn(t.serviceName));
  resource.attributes.write(t.resourceAttributes);
  t.scopeName.push(sc.name.idIn(t.scopeName));
  t.scopeVersion.push(sc.version.idIn(t.scopeVersion));
  writeMap(c, spanAttrs, t.spanAttributes);
  if (endHi < startHi || (endHi === startHi && endLo <= startLo)) t.duration.u64(0, 0);
  else if (endLo >= startLo) t.duration.u64(endHi - startHi, endLo - startLo);
  else t.duration.u64(endHi - startHi - 1, endLo - startLo + 4294967296);
  t.statusCode.push(t.statusCodeIds[statusCode >= 0 && statusCode < STATUS_CODES.length ? statusCode : 0]);
  t.statusMessage.string(b, statusS, statusE);
  t.eventsTimestamp.endRow(evCount);
  t.eventsName.endRow(evCount);
  t.eventsAttributes.endRow(evCount);
  t.linksTraceId.endRow(lkCount);
  t.linksSpanId.endRow(lkCount);
  t.linksTraceState.endRow(lkCount);
  t.linksAttributes.endRow(lkCount);
}

/** Appends one event to the Events columns (the span's row ends them). */
function event(c: WireCursor, start: number, end: number, t: TracesTable): void {
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
  evCount++;
  t.eventsTimestamp.items.nanos(hi, lo);
  t.eventsName.items.pushBytes(c.b, nameS, nameE);
  writeMap(c, subAttrs, t.eventsAttributes.items);
}

/** Appends one link to the Links columns (the span's row ends them). */
function link(c: WireCursor, start: number, end: number, t: TracesTable): void {
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
  lkCount++;
  t.linksTraceId.items.hex(c.b, traceS, traceE);
  t.linksSpanId.items.hex(c.b, spanS, spanE);
  t.linksTraceState.items.string(c.b, stateS, stateE);
  writeMap(c, subAttrs, t.linksAttributes.items);
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

/** Decodes an ExportTraceServiceRequest and appends one otel_traces row per span; throws OtlpDecodeError on bad bytes. */
export function appendTraceNative(bytes: Uint8Array, tenant: TenantId, sink: NativeRowSink): number {
  const t = sink.table(TRACES_TABLE, () => new TracesTable());
  t.tenant = t.tenantId.idOfString(tenant);
  return walkExport(new WireCursor(bytes), TRACE_ROWS, '', t);
}
