/**
 * The agent's metric aggregation and cardinality processor: per-series merging over a flush
 * window and per-metric limits that fold runaway series into an overflow series.
 */
export { createMetricAggregator } from './processor.ts';
export type { AggregatorOptions } from './options.ts';
export { FOLDED_METRIC, OVERFLOW_ATTRIBUTE } from './fold-counter.ts';
