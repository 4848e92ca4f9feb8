/**
 * Cardinality limits for one window: per metric name, at most `maxSeries` distinct series, and
 * per (metric name, attribute key) at most `maxValues` distinct values. The limiter only sees
 * points that would start a new series; what it refuses is folded into the metric's overflow
 * series. Its own state is bounded by the same limits and cleared with each window.
 */
import type { AttributePart } from './series-key.ts';

export type FoldReason = 'series_limit' | 'attribute_values';

export interface Refusal {
  reason: FoldReason;
  /** For 'attribute_values': the attribute key that has too many values. */
  attribute?: string;
}

interface MetricLimits {
  series: number;
  /** Distinct value keys seen per attribute key. */
  values: Map<string, Set<string>>;
}

export class CardinalityLimiter {
  private readonly maxSeries: number;
  private readonly maxValues: number;
  private readonly byMetric = new Map<string, MetricLimits>();

  constructor(maxSeries: number, maxValues: number) {
    this.maxSeries = maxSeries;
    this.maxValues = maxValues;
  }

  /**
   * Admits a new series of metric `name` with these attributes (counting it and its values),
   * or says why it must be folded. The series limit is checked first.
   */
  admit(name: string, attributes: readonly AttributePart[]): Refusal | undefined {
    let m = this.byMetric.get(name);
    if (m === undefined) {
      m = { series: 0, values: new Map() };
      this.byMetric.set(name, m);
    }
    if (m.series >= this.maxSeries) return { reason: 'series_limit' };
    for (const a of attributes) {
      const seen = m.values.get(a.key);
      if (seen !== undefined && seen.size >= this.maxValues && !seen.has(a.value)) return { reason: 'attribute_values', attribute: a.key };
    }
    m.series++;
    for (const a of attributes) {
      let seen = m.values.get(a.key);
      if (seen === undefined) {
        seen = new Set();
        m.values.set(a.key, seen);
      }
      seen.add(a.value);
    }
    return undefined;
  }

  /** Starts a new window. */
  clear(): void {
    this.byMetric.clear();
  }
}
