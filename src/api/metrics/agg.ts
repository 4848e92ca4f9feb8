import { badParam } from '../errors.ts';
import type { MetricInfo } from './kind.ts';

export const AGGS = ['sum', 'avg', 'min', 'max', 'rate', 'p50', 'p90', 'p95', 'p99'] as const;
export type Agg = (typeof AGGS)[number];

export const QUANTILES: Partial<Record<Agg, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/**
 * The aggregation to run: the requested one if the metric's kind supports it, else the
 * kind's default (avg for gauges and non-monotonic sums, rate for counters, p99 for histograms).
 */
export function resolveAgg(metric: MetricInfo, name: string, requested: Agg | undefined): Agg {
  const isQuantile = requested !== undefined && QUANTILES[requested] !== undefined;
  switch (metric.kind) {
    case 'gauge':
    case 'sum': {
      const counter = metric.kind === 'sum' && metric.monotonic;
      if (requested === undefined) return counter ? 'rate' : 'avg';
      if (isQuantile) throw badParam('agg', `${requested} needs a histogram; ${name} is a ${describe(metric)}`);
      if (requested === 'rate' && !counter) throw badParam('agg', `rate needs a monotonic sum (a counter); ${name} is a ${describe(metric)}`);
      return requested;
    }
    case 'histogram':
      if (requested === undefined) return 'p99';
      if (!isQuantile) throw badParam('agg', `${name} is a histogram: use one of p50|p90|p95|p99`);
      return requested;
    case 'exponentialHistogram':
    case 'summary':
      throw badParam('name', `${name} is a ${describe(metric)}, which this endpoint does not query yet`);
  }
}

function describe(metric: MetricInfo): string {
  switch (metric.kind) {
    case 'sum':
      return metric.monotonic ? 'monotonic sum' : 'non-monotonic sum';
    case 'exponentialHistogram':
      return 'exponential histogram';
    default:
      return metric.kind;
  }
}
