/**
 * Cumulative aggregators behind the demo's metrics: explicit-bucket histogram, exponential
 * histogram and summary. They are fed by the same requests the traces describe, so metrics,
 * traces and logs tell one story.
 */

/** Seconds; the OpenTelemetry semantic-convention advice for http.server.request.duration. */
export const DURATION_BOUNDS_SEC: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface Exemplar {
  value: number;
  timeMs: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
}

export class ExplicitHistogram {
  readonly bounds: readonly number[];
  /** bucketCounts[i] counts values in (bounds[i-1], bounds[i]]; the last one is (last bound, +inf). */
  readonly bucketCounts: number[];
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Slowest value seen since the last export: the request worth opening from a dashboard. */
  exemplar: Exemplar | null = null;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.bucketCounts = Array.from({ length: bounds.length + 1 }, () => 0);
  }

  record(value: number, traceId?: Uint8Array, spanId?: Uint8Array, timeMs?: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.bucketCounts[i]++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (traceId && spanId && timeMs !== undefined && (this.exemplar === null || value > this.exemplar.value)) {
      this.exemplar = { value, timeMs, traceId, spanId };
    }
  }

  takeExemplar(): Exemplar | null {
    const e = this.exemplar;
    this.exemplar = null;
    return e;
  }
}

/**
 * Base-2 exponential histogram at a fixed scale (positive values only; zeros go to the zero
 * bucket). Scale 3 means 8 buckets per power of two, about 9% relative error.
 */
export class ExponentialHistogram {
  readonly scale: number;
  private readonly buckets = new Map<number, number>();
  private minIndex = Infinity;
  private maxIndex = -Infinity;
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(scale: number) {
    if (!Number.isInteger(scale) || scale < -10 || scale > 20) throw new RangeError(`scale must be an integer in -10..20, got ${scale}`);
    this.scale = scale;
  }

  /** The bucket holding value: bucket i covers (base^i, base^(i+1)], base = 2^(2^-scale). */
  indexOf(value: number): number {
    return Math.ceil(Math.log2(value) * 2 ** this.scale) - 1;
  }

  record(value: number): void {
    if (!(value >= 0)) throw new RangeError(`exponential histogram takes values >= 0, got ${value}`);
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) {
      this.zeroCount++;
      return;
    }
    const i = this.indexOf(value);
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + 1);
    if (i < this.minIndex) this.minIndex = i;
    if (i > this.maxIndex) this.maxIndex = i;
  }

  /** Dense positive buckets as OTLP wants them: an offset and consecutive counts. */
  positive(): { offset: number; bucketCounts: number[] } {
    if (this.minIndex > this.maxIndex) return { offset: 0, bucketCounts: [] };
    const counts = Array.from({ length: this.maxIndex - this.minIndex + 1 }, () => 0);
    for (const [i, c] of this.buckets) counts[i - this.minIndex] = c;
    return { offset: this.minIndex, bucketCounts: counts };
  }
}

/** Cumulative count and sum, with quantiles over the most recent `window` values (as Prometheus client summaries do). */
export class SummaryAggregator {
  private readonly recent: Float64Array;
  private filled = 0;
  private next = 0;
  count = 0;
  sum = 0;

  constructor(window: number) {
    this.recent = new Float64Array(window);
  }

  record(value: number): void {
    this.count++;
    this.sum += value;
    this.recent[this.next] = value;
    this.next = (this.next + 1) % this.recent.length;
    if (this.filled < this.recent.length) this.filled++;
  }

  /** Nearest-rank quantiles of the recent values; empty when nothing was recorded. */
  quantiles(qs: readonly number[]): Array<{ quantile: number; value: number }> {
    if (this.filled === 0) return [];
    const sorted = this.recent.subarray(0, this.filled).toSorted();
    return qs.map((q) => ({ quantile: q, value: sorted[Math.min(this.filled - 1, Math.max(0, Math.ceil(q * this.filled) - 1))] }));
  }
}
