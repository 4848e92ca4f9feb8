/** OTLP trace export requests -> otel_traces rows. */
import { opentelemetry } from '../../otlp/index.ts';
import type { TenantId } from '../../telemetry/signals.ts';
import { TRACES_TABLE } from '../schema.ts';
import { attributesMap, durationText, idToHex, nanosText, serviceNameOf, type AttributeMap } from './values.ts';
import type { RowSink } from './sink.ts';

type TraceRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.$Properties;
type Span = opentelemetry.proto.trace.v1.Span.$Properties;

/** One otel_traces row; keys are the column names (Nested columns as parallel arrays). */
export type TraceRow = {
  TenantId: string;
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: AttributeMap;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: AttributeMap;
  Duration: string;
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': AttributeMap[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': AttributeMap[];
};

const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];
const NONE: never[] = [];

export function spanKindName(kind: number | null | undefined): string {
  return SPAN_KINDS[kind ?? 0] ?? 'Unspecified';
}

export function statusCodeName(code: number | null | undefined): string {
  return STATUS_CODES[code ?? 0] ?? 'Unset';
}

function spanRow(tenant: TenantId, span: Span, service: string, resource: AttributeMap, scopeName: string, scopeVersion: string): TraceRow {
  const events = span.events;
  const links = span.links;
  let eventTimes: string[] = NONE;
  let eventNames: string[] = NONE;
  let eventAttrs: AttributeMap[] = NONE;
  if (events && events.length > 0) {
    const n = events.length;
    eventTimes = new Array(n);
    eventNames = new Array(n);
    eventAttrs = new Array(n);
    for (let i = 0; i < n; i++) {
      const e = events[i];
      eventTimes[i] = nanosText(e.timeUnixNano);
      eventNames[i] = e.name ?? '';
      eventAttrs[i] = attributesMap(e.attributes);
    }
  }
  let linkTraces: string[] = NONE;
  let linkSpans: string[] = NONE;
  let linkStates: string[] = NONE;
  let linkAttrs: AttributeMap[] = NONE;
  if (links && links.length > 0) {
    const n = links.length;
    linkTraces = new Array(n);
    linkSpans = new Array(n);
    linkStates = new Array(n);
    linkAttrs = new Array(n);
    for (let i = 0; i < n; i++) {
      const l = links[i];
      linkTraces[i] = idToHex(l.traceId);
      linkSpans[i] = idToHex(l.spanId);
      linkStates[i] = l.traceState ?? '';
      linkAttrs[i] = attributesMap(l.attributes);
    }
  }
  const status = span.status;
  return {
    TenantId: tenant,
    Timestamp: nanosText(span.startTimeUnixNano),
    TraceId: idToHex(span.traceId),
    SpanId: idToHex(span.spanId),
    ParentSpanId: idToHex(span.parentSpanId),
    TraceState: span.traceState ?? '',
    SpanName: span.name ?? '',
    SpanKind: spanKindName(span.kind),
    ServiceName: service,
    ResourceAttributes: resource,
    ScopeName: scopeName,
    ScopeVersion: scopeVersion,
    SpanAttributes: attributesMap(span.attributes),
    Duration: durationText(span.endTimeUnixNano, span.startTimeUnixNano),
    StatusCode: statusCodeName(status?.code),
    StatusMessage: status?.message ?? '',
    'Events.Timestamp': eventTimes,
    'Events.Name': eventNames,
    'Events.Attributes': eventAttrs,
    'Links.TraceId': linkTraces,
    'Links.SpanId': linkSpans,
    'Links.TraceState': linkStates,
    'Links.Attributes': linkAttrs,
  };
}

/** Appends one row per span to `out`; returns the number of rows appended. */
export function appendTraceRows(request: TraceRequest, tenant: TenantId, out: TraceRow[]): number {
  const before = out.length;
  const resourceSpans = request.resourceSpans;
  if (!resourceSpans) return 0;
  for (let r = 0; r < resourceSpans.length; r++) {
    const rs = resourceSpans[r];
    // One attributes object per resource, shared by all its rows.
    const resource = attributesMap(rs.resource?.attributes);
    const service = serviceNameOf(resource);
    const scopeSpans = rs.scopeSpans;
    if (!scopeSpans) continue;
    for (let s = 0; s < scopeSpans.length; s++) {
      const ss = scopeSpans[s];
      const scopeName = ss.scope?.name ?? '';
      const scopeVersion = ss.scope?.version ?? '';
      const spans = ss.spans;
      if (!spans) continue;
      for (let i = 0; i < spans.length; i++) out.push(spanRow(tenant, spans[i], service, resource, scopeName, scopeVersion));
    }
  }
  return out.length - before;
}

export function mapTraces(request: TraceRequest, tenant: TenantId): TraceRow[] {
  const rows: TraceRow[] = [];
  appendTraceRows(request, tenant, rows);
  return rows;
}

const TraceRequestType = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** Decodes an ExportTraceServiceRequest and appends its rows to the sink's otel_traces list. */
export function appendTraceRecord(bytes: Uint8Array, tenant: TenantId, sink: RowSink): number {
  return appendTraceRows(TraceRequestType.decode(bytes), tenant, sink.rows(TRACES_TABLE) as TraceRow[]);
}
