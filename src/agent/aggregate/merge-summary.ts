/**
 * Summary merge rule: the latest point. Quantiles cannot be combined, and a summary's count and
 * sum are cumulative, so the last point already describes the whole window.
 */
import { LastMerger, type SeriesMerger } from './merger.ts';
import { toNumber } from './numbers.ts';
import type { opentelemetry } from '../../otlp/index.ts';

export type SummaryDataPoint = opentelemetry.proto.metrics.v1.SummaryDataPoint.$Properties;

export function copySummaryPoint(point: SummaryDataPoint): SummaryDataPoint {
  const out: SummaryDataPoint = {
    startTimeUnixNano: point.startTimeUnixNano,
    timeUnixNano: point.timeUnixNano,
    count: toNumber(point.count),
    sum: point.sum ?? 0,
    quantileValues: (point.quantileValues ?? []).map((q) => ({ quantile: q.quantile ?? 0, value: q.value ?? 0 })),
  };
  if (point.flags) out.flags = point.flags;
  return out;
}

export function summaryMerger(): SeriesMerger<SummaryDataPoint> {
  return new LastMerger(copySummaryPoint);
}
