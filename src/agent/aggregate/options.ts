/** The aggregator's options, their defaults and their validation. */
import { optionChecks } from '../option-checks.ts';
import type { Consumer } from '../types.ts';

export interface AggregatorOptions {
  next: Consumer;
  /** Length of the aggregation window; the processor flushes on a timer (unref'd) every window. Default 60 000. */
  windowMs?: number;
  /** Distinct series per metric name per window; beyond it new series fold into the overflow series. Default 2000. */
  maxSeriesPerMetric?: number;
  /** Distinct values per (metric name, attribute key) per window; beyond it likewise. Default 500. */
  maxValuesPerAttribute?: number;
  /** Output is split into batches of at most this many data points. Default 5000. */
  maxPointsPerBatch?: number;
  /** Clock in Unix milliseconds (times of the folded-points counter); Date.now by default. */
  now?: () => number;
  /** Warnings: metrics that start folding, windows that could not be handed on. */
  log?: (line: string) => void;
}

export interface ResolvedAggregatorOptions {
  next: Consumer;
  windowMs: number;
  maxSeriesPerMetric: number;
  maxValuesPerAttribute: number;
  maxPointsPerBatch: number;
  now: () => number;
  log: (line: string) => void;
}

const { positive, integerAtLeast, optionalFunction, consumer } = optionChecks('aggregate');

export function resolveAggregatorOptions(options: AggregatorOptions): ResolvedAggregatorOptions {
  return {
    next: consumer(options?.next),
    windowMs: positive('windowMs', options.windowMs, 60_000),
    maxSeriesPerMetric: integerAtLeast('maxSeriesPerMetric', options.maxSeriesPerMetric, 1, 2000),
    maxValuesPerAttribute: integerAtLeast('maxValuesPerAttribute', options.maxValuesPerAttribute, 1, 500),
    maxPointsPerBatch: integerAtLeast('maxPointsPerBatch', options.maxPointsPerBatch, 1, 5000),
    now: optionalFunction('now', options.now, Date.now),
    log: optionalFunction('log', options.log, () => {}),
  };
}
