/** Row mapping: decoded OTLP export requests -> rows of the ClickHouse tables in ../schema.ts. */
import type { Signal, TenantId } from '../../telemetry/signals.ts';
import { appendLogRecord } from './logs.ts';
import { appendMetricRecord } from './metrics.ts';
import type { RowSink } from './sink.ts';
import { appendTraceRecord } from './traces.ts';

export { RowSink, type Row } from './sink.ts';
export { appendTraceRows, mapTraces, appendTraceRecord, spanKindName, statusCodeName, type TraceRow } from './traces.ts';
export { appendLogRows, mapLogs, appendLogRecord, severityTextOf, type LogRow } from './logs.ts';
export {
  appendMetricRows,
  mapMetrics,
  appendMetricRecord,
  emptyMetricRows,
  METRIC_ROW_TABLES,
  type MetricRows,
  type MetricCommon,
  type GaugeRow,
  type SumRow,
  type HistogramRow,
  type ExponentialHistogramRow,
  type SummaryRow,
} from './metrics.ts';
export {
  idToHex,
  int64Text,
  uint64Text,
  nanosText,
  durationText,
  anyValueText,
  anyValueJson,
  attributesMap,
  DEFAULT_SERVICE_NAME,
  type AttributeMap,
} from './values.ts';

/** Decodes one bus record's value (an Export<Signal>ServiceRequest) and appends its rows; throws on bad bytes. */
export type RecordMapper = (bytes: Uint8Array, tenant: TenantId, sink: RowSink) => number;

export const RECORD_MAPPERS: Record<Signal, RecordMapper> = {
  traces: appendTraceRecord,
  metrics: appendMetricRecord,
  logs: appendLogRecord,
};
