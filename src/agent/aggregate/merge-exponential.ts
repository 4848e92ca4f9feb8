/**
 * Exponential histogram merge rules. DELTA points merge at a common scale: the finer point is
 * downscaled (bucket i at scale s becomes bucket floor(i / 2^(s - t)) at scale t) before the
 * positive and negative buckets, zero count, count and sum add up; min and max take the
 * extremes. The merged range is also kept within MAX_BUCKETS (or the widest input, if wider)
 * by downscaling further, as OpenTelemetry SDKs bound theirs, so two far-apart points cannot
 * make the state grow. CUMULATIVE: the latest point.
 */
import { keepExemplars, type Exemplar } from './exemplars.ts';
import { LastMerger, NO_RECORDED_VALUE, hasNoValue, type KeyValue, type SeriesMerger } from './merger.ts';
import { earliest, latest, toNumber, type Fixed64 } from './numbers.ts';
import type { opentelemetry } from '../../otlp/index.ts';

export type ExponentialHistogramDataPoint = opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.$Properties;
type BucketsProperties = opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets.$Properties;

/** The OpenTelemetry SDKs' default maximum size of an exponential histogram. */
export const MAX_BUCKETS = 160;

/** Buckets with plain number counts: bucket `offset + i` holds counts[i]. */
export interface Buckets {
  offset: number;
  counts: number[];
}

function present(v: number | null | undefined): v is number {
  return v !== null && v !== undefined;
}

export function readBuckets(b: BucketsProperties | null | undefined): Buckets {
  return { offset: b?.offset ?? 0, counts: (b?.bucketCounts ?? []).map(toNumber) };
}

/** Index of bucket `index` after lowering the scale by `by` (floor division, also below zero). */
function lower(index: number, by: number): number {
  return by === 0 ? index : Math.floor(index / 2 ** by);
}

/** The buckets at a scale lowered by `by`: neighbouring buckets merge into one. */
export function downscale(b: Buckets, by: number): Buckets {
  if (by === 0 || b.counts.length === 0) return b;
  const offset = lower(b.offset, by);
  const counts: number[] = new Array(lower(b.offset + b.counts.length - 1, by) - offset + 1).fill(0);
  for (let i = 0; i < b.counts.length; i++) counts[lower(b.offset + i, by) - offset] += b.counts[i];
  return { offset, counts };
}

/** Sum of two bucket sets at the same scale. */
export function addBuckets(a: Buckets, b: Buckets): Buckets {
  if (b.counts.length === 0) return a;
  if (a.counts.length === 0) return { offset: b.offset, counts: b.counts.slice() };
  const offset = Math.min(a.offset, b.offset);
  const end = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const counts: number[] = new Array(end - offset).fill(0);
  for (let i = 0; i < a.counts.length; i++) counts[a.offset - offset + i] += a.counts[i];
  for (let i = 0; i < b.counts.length; i++) counts[b.offset - offset + i] += b.counts[i];
  return { offset, counts };
}

/** How many buckets the union of two ranges spans once both are lowered by their shifts. */
function span(a: Buckets, byA: number, b: Buckets, byB: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const [x, by] of [[a, byA], [b, byB]] as const) {
    if (x.counts.length === 0) continue;
    lo = Math.min(lo, lower(x.offset, by));
    hi = Math.max(hi, lower(x.offset + x.counts.length - 1, by));
  }
  return hi >= lo ? hi - lo + 1 : 0;
}

/**
 * The scale two points merge at: the coarser of the two, lowered further while either sign's
 * merged range would exceed `limit` buckets.
 */
export function commonScale(scaleA: number, a: { positive: Buckets; negative: Buckets }, scaleB: number, b: { positive: Buckets; negative: Buckets }, limit: number): number {
  let scale = Math.min(scaleA, scaleB);
  while (Math.max(span(a.positive, scaleA - scale, b.positive, scaleB - scale), span(a.negative, scaleA - scale, b.negative, scaleB - scale)) > limit) scale--;
  return scale;
}

interface Accumulated {
  start: Fixed64;
  time: Fixed64;
  hasValue: boolean;
  scale: number;
  count: number;
  sum: number | undefined;
  zeroCount: number;
  zeroThreshold: number;
  min: number | undefined;
  max: number | undefined;
  positive: Buckets;
  negative: Buckets;
  exemplars: Exemplar[];
}

export class DeltaExponentialHistogramMerger implements SeriesMerger<ExponentialHistogramDataPoint> {
  private a: Accumulated | undefined;

  add(point: ExponentialHistogramDataPoint): void {
    let a = this.a;
    if (a === undefined) {
      a = { start: point.startTimeUnixNano, time: point.timeUnixNano, hasValue: false, scale: point.scale ?? 0, count: 0, sum: 0, zeroCount: 0, zeroThreshold: 0, min: undefined, max: undefined, positive: { offset: 0, counts: [] }, negative: { offset: 0, counts: [] }, exemplars: [] };
      this.a = a;
    } else {
      a.start = earliest(a.start, point.startTimeUnixNano);
      a.time = latest(a.time, point.timeUnixNano);
    }
    a.exemplars = keepExemplars(a.exemplars, point.exemplars);
    if (hasNoValue(point)) return;

    const incoming = { positive: readBuckets(point.positive), negative: readBuckets(point.negative) };
    const pointScale = point.scale ?? 0;
    if (!a.hasValue) a.scale = pointScale;
    const limit = Math.max(MAX_BUCKETS, a.positive.counts.length, a.negative.counts.length, incoming.positive.counts.length, incoming.negative.counts.length);
    const scale = commonScale(a.scale, a, pointScale, incoming, limit);
    a.positive = addBuckets(downscale(a.positive, a.scale - scale), downscale(incoming.positive, pointScale - scale));
    a.negative = addBuckets(downscale(a.negative, a.scale - scale), downscale(incoming.negative, pointScale - scale));
    a.scale = scale;

    const count = toNumber(point.count);
    a.hasValue = true;
    a.count += count;
    a.zeroCount += toNumber(point.zeroCount);
    // Differing thresholds keep the wider one; buckets of the other below it are not moved.
    a.zeroThreshold = Math.max(a.zeroThreshold, point.zeroThreshold ?? 0);
    if (a.sum !== undefined) a.sum = present(point.sum) ? a.sum + point.sum : count === 0 ? a.sum : undefined;
    if (present(point.min)) a.min = a.min === undefined ? point.min : Math.min(a.min, point.min);
    if (present(point.max)) a.max = a.max === undefined ? point.max : Math.max(a.max, point.max);
  }

  take(attributes: KeyValue[]): ExponentialHistogramDataPoint[] {
    const a = this.a;
    if (a === undefined) return [];
    const out: ExponentialHistogramDataPoint = {
      attributes,
      startTimeUnixNano: a.start,
      timeUnixNano: a.time,
      count: a.count,
      scale: a.scale,
      zeroCount: a.zeroCount,
      positive: { offset: a.positive.offset, bucketCounts: a.positive.counts },
      negative: { offset: a.negative.offset, bucketCounts: a.negative.counts },
    };
    if (!a.hasValue) out.flags = NO_RECORDED_VALUE;
    if (a.zeroThreshold !== 0) out.zeroThreshold = a.zeroThreshold;
    if (a.sum !== undefined && a.hasValue) out.sum = a.sum;
    if (a.min !== undefined) out.min = a.min;
    if (a.max !== undefined) out.max = a.max;
    if (a.exemplars.length > 0) out.exemplars = a.exemplars;
    return [out];
  }
}

/** A plain copy for the latest-point rule, counts as numbers. */
export function copyExponentialPoint(point: ExponentialHistogramDataPoint): ExponentialHistogramDataPoint {
  const positive = readBuckets(point.positive);
  const negative = readBuckets(point.negative);
  const out: ExponentialHistogramDataPoint = {
    startTimeUnixNano: point.startTimeUnixNano,
    timeUnixNano: point.timeUnixNano,
    count: toNumber(point.count),
    scale: point.scale ?? 0,
    zeroCount: toNumber(point.zeroCount),
    positive: { offset: positive.offset, bucketCounts: positive.counts },
    negative: { offset: negative.offset, bucketCounts: negative.counts },
  };
  if (point.flags) out.flags = point.flags;
  if (point.zeroThreshold) out.zeroThreshold = point.zeroThreshold;
  if (present(point.sum)) out.sum = point.sum;
  if (present(point.min)) out.min = point.min;
  if (present(point.max)) out.max = point.max;
  return out;
}

export function cumulativeExponentialMerger(): SeriesMerger<ExponentialHistogramDataPoint> {
  return new LastMerger(copyExponentialPoint);
}
