/** Builders for the OTLP Metric objects the scrapers return, so each scraper states only names and values. */
import { opentelemetry, str, type KeyValue, type Nanos } from '../../otlp/index.ts';
import type { Metric } from './options.ts';

type NumberDataPoint = opentelemetry.proto.metrics.v1.NumberDataPoint.$Properties;

const CUMULATIVE = opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;

/** One data point: its value and its attributes. */
export type Point = readonly [value: number, attributes: KeyValue[]];

export interface MetricSpec {
  name: string;
  unit: string;
  description: string;
  /** asInt for counts and bytes; asDouble for seconds, ratios and loads. */
  int?: boolean;
}

/** When the points were read and, for sums, since when they count. */
export interface PointTimes {
  timeNanos: Nanos;
  startNanos: Nanos;
}

function point(spec: MetricSpec, [value, attributes]: Point, timeNanos: Nanos, startNanos?: Nanos): NumberDataPoint {
  const p: NumberDataPoint = { attributes, timeUnixNano: timeNanos };
  if (startNanos !== undefined) p.startTimeUnixNano = startNanos;
  // Plain numbers, exact below 2^53: no kernel counter read here gets near that in a host's lifetime.
  if (spec.int) p.asInt = Math.round(value);
  else p.asDouble = value;
  return p;
}

/** A cumulative Sum: a counter when monotonic, an up-down counter (a usage, a count) when not. */
export function sum(spec: MetricSpec, monotonic: boolean, times: PointTimes, points: Point[]): Metric {
  return {
    name: spec.name,
    unit: spec.unit,
    description: spec.description,
    sum: {
      aggregationTemporality: CUMULATIVE,
      isMonotonic: monotonic,
      dataPoints: points.map((p) => point(spec, p, times.timeNanos, times.startNanos)),
    },
  };
}

export function gauge(spec: MetricSpec, timeNanos: Nanos, points: Point[]): Metric {
  return {
    name: spec.name,
    unit: spec.unit,
    description: spec.description,
    gauge: { dataPoints: points.map((p) => point(spec, p, timeNanos)) },
  };
}

/** Attributes from key/value string pairs, in the order given. */
export function attrs(pairs: Record<string, string>): KeyValue[] {
  return Object.entries(pairs).map(([k, v]) => str(k, v));
}

/** Data points across metrics of every point type, for Telemetry.items. */
export function countDataPoints(metrics: readonly Metric[]): number {
  let n = 0;
  for (const m of metrics) {
    n +=
      (m.gauge?.dataPoints?.length ?? 0) +
      (m.sum?.dataPoints?.length ?? 0) +
      (m.histogram?.dataPoints?.length ?? 0) +
      (m.exponentialHistogram?.dataPoints?.length ?? 0) +
      (m.summary?.dataPoints?.length ?? 0);
  }
  return n;
}
