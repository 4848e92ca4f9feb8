/** OTLP logs export requests -> otel_logs rows. */
import { opentelemetry } from '../../otlp/index.ts';
import type { TenantId } from '../../telemetry/signals.ts';
import { LOGS_TABLE } from '../schema.ts';
import { anyValueJson, attributesMap, idToHex, nanosText, serviceNameOf, type AnyValueLike, type AttributeMap, type Int64 } from './values.ts';
import type { RowSink } from './sink.ts';

type LogsRequest = opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.$Properties;
type LogRecord = opentelemetry.proto.logs.v1.LogRecord.$Properties;

/** One otel_logs row (TimestampTime is left to its DEFAULT). */
export type LogRow = {
  TenantId: string;
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  TraceFlags: number;
  SeverityText: string;
  SeverityNumber: number;
  ServiceName: string;
  Body: string;
  EventName: string;
  ResourceSchemaUrl: string;
  ResourceAttributes: AttributeMap;
  ScopeSchemaUrl: string;
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: AttributeMap;
  LogAttributes: AttributeMap;
};

const SEVERITY_BANDS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** OTLP severity numbers come in bands of four (1-4 TRACE ... 21-24 FATAL); 0 is unspecified. */
export function severityTextOf(severityNumber: number | null | undefined): string {
  const n = severityNumber ?? 0;
  if (n < 1 || n > 24) return '';
  return SEVERITY_BANDS[(n - 1) >> 2];
}

function bodyText(body: AnyValueLike | null | undefined): string {
  if (!body) return '';
  if (body.stringValue != null) return body.stringValue;
  return anyValueJson(body);
}

function isZero(v: Int64): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'object') return v.low === 0 && v.high === 0;
  return v == 0;
}

function logRow(
  tenant: TenantId,
  log: LogRecord,
  service: string,
  resource: AttributeMap,
  resourceSchemaUrl: string,
  scopeSchemaUrl: string,
  scopeName: string,
  scopeVersion: string,
  scopeAttributes: AttributeMap,
): LogRow {
  const severityNumber = log.severityNumber ?? 0;
  return {
    TenantId: tenant,
    Timestamp: nanosText(isZero(log.timeUnixNano) ? log.observedTimeUnixNano : log.timeUnixNano),
    TraceId: idToHex(log.traceId),
    SpanId: idToHex(log.spanId),
    TraceFlags: (log.flags ?? 0) & 0xff,
    SeverityText: log.severityText || severityTextOf(severityNumber),
    SeverityNumber: severityNumber,
    ServiceName: service,
    Body: bodyText(log.body),
    EventName: log.eventName ?? '',
    ResourceSchemaUrl: resourceSchemaUrl,
    ResourceAttributes: resource,
    ScopeSchemaUrl: scopeSchemaUrl,
    ScopeName: scopeName,
    ScopeVersion: scopeVersion,
    ScopeAttributes: scopeAttributes,
    LogAttributes: attributesMap(log.attributes),
  };
}

/** Appends one row per log record to `out`; returns the number of rows appended. */
export function appendLogRows(request: LogsRequest, tenant: TenantId, out: LogRow[]): number {
  const before = out.length;
  const resourceLogs = request.resourceLogs;
  if (!resourceLogs) return 0;
  for (let r = 0; r < resourceLogs.length; r++) {
    const rl = resourceLogs[r];
    const resource = attributesMap(rl.resource?.attributes);
    const service = serviceNameOf(resource);
    const resourceSchemaUrl = rl.schemaUrl ?? '';
    const scopeLogs = rl.scopeLogs;
    if (!scopeLogs) continue;
    for (let s = 0; s < scopeLogs.length; s++) {
      const sl = scopeLogs[s];
      const scope = sl.scope;
      const scopeName = scope?.name ?? '';
      const scopeVersion = scope?.version ?? '';
      const scopeAttributes = attributesMap(scope?.attributes);
      const scopeSchemaUrl = sl.schemaUrl ?? '';
      const records = sl.logRecords;
      if (!records) continue;
      for (let i = 0; i < records.length; i++) {
        out.push(logRow(tenant, records[i], service, resource, resourceSchemaUrl, scopeSchemaUrl, scopeName, scopeVersion, scopeAttributes));
      }
    }
  }
  return out.length - before;
}

export function mapLogs(request: LogsRequest, tenant: TenantId): LogRow[] {
  const rows: LogRow[] = [];
  appendLogRows(request, tenant, rows);
  return rows;
}

const LogsRequestType = opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

/** Decodes an ExportLogsServiceRequest and appends its rows to the sink's otel_logs list. */
export function appendLogRecord(bytes: Uint8Array, tenant: TenantId, sink: RowSink): number {
  return appendLogRows(LogsRequestType.decode(bytes), tenant, sink.rows(LOGS_TABLE) as LogRow[]);
}
