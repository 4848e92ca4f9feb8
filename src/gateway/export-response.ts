/**
 * The Export*ServiceResponse every OTLP transport answers with: empty when everything was
 * taken, else a partial success naming how many items were rejected and why. The field names
 * differ per signal (rejected_spans, rejected_data_points, rejected_log_records).
 */
import { opentelemetry } from '../otlp/index.ts';
import type { Signal } from '../telemetry/signals.ts';

const collector = opentelemetry.proto.collector;

const REJECTED_FIELD: Record<Signal, 'rejectedSpans' | 'rejectedDataPoints' | 'rejectedLogRecords'> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

const EMPTY = new Uint8Array(0);

export function exportResponseProto(signal: Signal, rejected: number, message: string): Uint8Array {
  if (rejected === 0 && message === '') return EMPTY;
  const partialSuccess = { [REJECTED_FIELD[signal]]: rejected, errorMessage: message };
  switch (signal) {
    case 'traces':
      return collector.trace.v1.ExportTraceServiceResponse.encode({ partialSuccess }).finish();
    case 'metrics':
      return collector.metrics.v1.ExportMetricsServiceResponse.encode({ partialSuccess }).finish();
    case 'logs':
      return collector.logs.v1.ExportLogsServiceResponse.encode({ partialSuccess }).finish();
  }
}

/** OTLP/JSON: lowerCamelCase, int64 as a decimal string (proto3 JSON mapping). */
export function exportResponseJson(signal: Signal, rejected: number, message: string): string {
  if (rejected === 0 && message === '') return '{}';
  return JSON.stringify({ partialSuccess: { [REJECTED_FIELD[signal]]: String(rejected), errorMessage: message } });
}
