/**
 * Explicit-bucket histogram merge rules. DELTA points with the same bounds add up bucket by
 * bucket (count and sum add, min and max take the extremes). When the bounds change mid-window
 * (a redeployed service with new buckets), adding would mix incompatible buckets: what the
 * window holds so far is emitted as its own point and the series starts again from the new one.
 * CUMULATIVE: the latest point.
 */
import { keepExemplars, type Exemplar } from './exemplars.ts';
import { LastMerger, NO_RECORDED_VALUE, hasNoValue, type KeyValue, type SeriesMerger } from './merger.ts';
import { earliest, latest, toNumber, type Fixed64 } from './numbers.ts';
import type { opentelemetry } from '../../otlp/index.ts';

export type HistogramDataPoint = opentelemetry.proto.metrics.v1.HistogramDataPoint.$Properties;

function present(v: number | null | undefined): v is number {
  return v !== null && v !== undefined;
}

interface Accumulated {
  start: Fixed64;
  time: Fixed64;
  /** False while the window saw only gap markers. */
  hasValue: boolean;
  count: number;
  /** Undefined once a point with observations came without it: the total is then unknown. */
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  bounds: number[];
  buckets: number[];
  exemplars: Exemplar[];
}

function sameShape(a: Accumulated, point: HistogramDataPoint): boolean {
  const bounds = point.explicitBounds ?? [];
  const buckets = point.bucketCounts ?? [];
  if (a.bounds.length !== bounds.length || a.buckets.length !== buckets.length) return false;
  for (let i = 0; i < bounds.length; i++) if (a.bounds[i] !== bounds[i]) return false;
  return true;
}

function start(point: HistogramDataPoint): Accumulated {
  const a: Accumulated = {
    start: point.startTimeUnixNano,
    time: point.timeUnixNano,
    hasValue: false,
    count: 0,
    sum: 0,
    min: undefined,
    max: undefined,
    bounds: (point.explicitBounds ?? []).slice(),
    buckets: (point.bucketCounts ?? []).map(() => 0),
    exemplars: [],
  };
  return a;
}

function addValues(a: Accumulated, point: HistogramDataPoint): void {
  const count = toNumber(point.count);
  a.hasValue = true;
  a.count += count;
  // An empty point without a sum leaves the total known; one with observations does not.
  if (a.sum !== undefined) a.sum = present(point.sum) ? a.sum + point.sum : count === 0 ? a.sum : undefined;
  if (present(point.min)) a.min = a.min === undefined ? point.min : Math.min(a.min, point.min);
  if (present(point.max)) a.max = a.max === undefined ? point.max : Math.max(a.max, point.max);
  const buckets = point.bucketCounts ?? [];
  for (let i = 0; i < buckets.length; i++) a.buckets[i] += toNumber(buckets[i]);
}

function toPoint(a: Accumulated, attributes: KeyValue[]): HistogramDataPoint {
  const out: HistogramDataPoint = { attributes, startTimeUnixNano: a.start, timeUnixNano: a.time, count: a.count, bucketCounts: a.buckets, explicitBounds: a.bounds };
  if (!a.hasValue) out.flags = NO_RECORDED_VALUE;
  if (a.sum !== undefined && a.hasValue) out.sum = a.sum;
  if (a.min !== undefined) out.min = a.min;
  if (a.max !== undefined) out.max = a.max;
  if (a.exemplars.length > 0) out.exemplars = a.exemplars;
  return out;
}

export class DeltaHistogramMerger implements SeriesMerger<HistogramDataPoint> {
  private current: Accumulated | undefined;
  /** Points closed by a change of bounds, waiting for the window's end. */
  private readonly closed: Accumulated[] = [];

  add(point: HistogramDataPoint): void {
    const gap = hasNoValue(point);
    let a = this.current;
    if (a === undefined) {
      a = start(point);
      this.current = a;
    } else if (!gap && !sameShape(a, point)) {
      // A window that held only gap markers has nothing to emit under the old bounds.
      if (a.hasValue) this.closed.push(a);
      a = start(point);
      this.current = a;
    } else {
      a.start = earliest(a.start, point.startTimeUnixNano);
      a.time = latest(a.time, point.timeUnixNano);
    }
    a.exemplars = keepExemplars(a.exemplars, point.exemplars);
    if (!gap) addValues(a, point);
  }

  take(attributes: KeyValue[]): HistogramDataPoint[] {
    const all = this.current ? [...this.closed, this.current] : this.closed;
    return all.map((a) => toPoint(a, attributes));
  }
}

/** A plain copy for the latest-point rule, counts as numbers. */
export function copyHistogramPoint(point: HistogramDataPoint): HistogramDataPoint {
  const out: HistogramDataPoint = {
    startTimeUnixNano: point.startTimeUnixNano,
    timeUnixNano: point.timeUnixNano,
    count: toNumber(point.count),
    bucketCounts: (point.bucketCounts ?? []).map(toNumber),
    explicitBounds: (point.explicitBounds ?? []).slice(),
  };
  if (point.flags) out.flags = point.flags;
  if (present(point.sum)) out.sum = point.sum;
  if (present(point.min)) out.min = point.min;
  if (present(point.max)) out.max = point.max;
  return out;
}

export function cumulativeHistogramMerger(): SeriesMerger<HistogramDataPoint> {
  return new LastMerger(copyHistogramPoint);
}
