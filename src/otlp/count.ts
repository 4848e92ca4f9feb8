/** Items of an Export request: spans, log records or metric data points, as OTLP counts them. */
import type { ExportRequestPropertiesBySignal } from './codec.ts';
import type { Signal } from '../telemetry/signals.ts';

type MetricProps = NonNullable<NonNullable<NonNullable<ExportRequestPropertiesBySignal['metrics']['resourceMetrics']>[number]['scopeMetrics']>[number]['metrics']>[number];

/** Data points of one metric, whatever its type. */
export function metricPoints(m: MetricProps): number {
  return (
    (m.gauge?.dataPoints?.length ?? 0) +
    (m.sum?.dataPoints?.length ?? 0) +
    (m.histogram?.dataPoints?.length ?? 0) +
    (m.exponentialHistogram?.dataPoints?.length ?? 0) +
    (m.summary?.dataPoints?.length ?? 0)
  );
}

export function countItems<S extends Signal>(signal: S, request: ExportRequestPropertiesBySignal[S]): number {
  let n = 0;
  if (signal === 'traces') {
    for (const rs of (request as ExportRequestPropertiesBySignal['traces']).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  } else if (signal === 'logs') {
    for (const rl of (request as ExportRequestPropertiesBySignal['logs']).resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  } else {
    for (const rm of (request as ExportRequestPropertiesBySignal['metrics']).resourceMetrics ?? []) for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) n += metricPoints(m);
  }
  return n;
}
