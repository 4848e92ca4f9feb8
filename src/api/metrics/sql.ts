/**
 * SQL of a metrics query, per aggregation. Rows come back as (labels, t, value) or
 * (labels, t, bounds, counts), ordered by labels then t, one group per step bucket.
 *
 * Parameters read: tenant, name, fromNs, toNs, readFromNs (fromNs minus a lookback for the
 * per-series differences of cumulative points), stepMs, stepS, and k0.. for groupBy keys.
 */
import { METRIC_TABLES } from '../../storage/index.ts';
import type { QueryParams } from '../../storage/index.ts';

export const SERVICE_NAME_KEY = 'service.name';

/** `[Attributes[{k0:String}], ServiceName, ...]`: the group's label values, keys bound as parameters. */
export function labelsSql(keys: readonly string[], params: QueryParams): string {
  if (keys.length === 0) return 'CAST([], \'Array(String)\')';
  const parts = keys.map((key, i) => {
    if (key === SERVICE_NAME_KEY) return 'ServiceName';
    params[`k${i}`] = key;
    return `Attributes[{k${i}:String}]`;
  });
  return `[${parts.join(', ')}]`;
}

/** Start of the point's step bucket, aligned on the epoch so refreshing a chart does not shift it. */
const BUCKET = 'intDiv(toUnixTimestamp64Milli(TimeUnix), {stepMs:Int64}) * {stepMs:Int64}';

const NAME_AND_RANGE = `TenantId = {tenant:String} AND MetricName = {name:String}
  AND TimeUnix >= fromUnixTimestamp64Nano({readFromNs:Int64}) AND TimeUnix < fromUnixTimestamp64Nano({toNs:Int64})`;

/** One series = one stream of points as the SDK exported it; consecutive points differ within it. */
const SERIES_WINDOW = `WINDOW w AS (PARTITION BY ServiceName, ResourceAttributes, ScopeName, Attributes, AggregationTemporality
  ORDER BY TimeUnix ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`;

/** OTLP's AGGREGATION_TEMPORALITY_DELTA (CUMULATIVE is 2). */
const DELTA = 1;

/**
 * Delta points count as they are; cumulative points need the previous point of their series,
 * except a series' first point when the series started inside the read window: it counted
 * up from zero at its start time, so its whole value is the increase (what Prometheus does
 * with a counter's created timestamp).
 */
const COUNTED = `ts >= fromUnixTimestamp64Nano({fromNs:Int64})
  AND (temporality = ${DELTA} OR n > 1 OR st >= fromUnixTimestamp64Nano({readFromNs:Int64}))`;

const VALUE_AGGS = { sum: 'sum', avg: 'avg', min: 'min', max: 'max' } as const;
export type ValueAgg = keyof typeof VALUE_AGGS;

/** sum/avg/min/max of the values of gauge or sum points in each bucket. */
export function valueAggSql(kind: 'gauge' | 'sum', agg: ValueAgg, labels: string): string {
  return `SELECT ${labels} AS labels, ${BUCKET} AS t, ${VALUE_AGGS[agg]}(Value) AS v
FROM ${METRIC_TABLES[kind]}
WHERE ${NAME_AND_RANGE} AND TimeUnix >= fromUnixTimestamp64Nano({fromNs:Int64})
GROUP BY labels, t
ORDER BY labels, t`;
}

/**
 * Per-second rate of a monotonic sum: the increase in each bucket divided by the step.
 * Delta points are increases already; a cumulative point's increase is its difference with
 * the previous point of its series, or its whole value after a reset (value went down, or
 * a new start time).
 */
export function rateSql(labels: string): string {
  return `SELECT labels, t, sum(d) / {stepS:Float64} AS v FROM (
  SELECT ${labels} AS labels, ${BUCKET} AS t, TimeUnix AS ts, StartTimeUnix AS st, AggregationTemporality AS temporality,
    count() OVER w AS n,
    lagInFrame(Value) OVER w AS prev,
    lagInFrame(StartTimeUnix) OVER w AS prevStart,
    if(temporality = ${DELTA} OR Value < prev OR StartTimeUnix != prevStart, Value, Value - prev) AS d
  FROM ${METRIC_TABLES.sum}
  WHERE ${NAME_AND_RANGE} AND IsMonotonic
  ${SERIES_WINDOW}
)
WHERE ${COUNTED}
GROUP BY labels, t
ORDER BY labels, t`;
}

/**
 * Bucket counts observed in each step bucket, merged per group and per bound layout:
 * delta points as they are, cumulative points as differences with the previous point of
 * their series (whole counts after a reset: a count went down, new bounds or start time).
 */
export function histogramCountsSql(labels: string): string {
  return `SELECT labels, t, bounds, sumForEach(d) AS counts FROM (
  SELECT ${labels} AS labels, ${BUCKET} AS t, TimeUnix AS ts, StartTimeUnix AS st, AggregationTemporality AS temporality,
    ExplicitBounds AS bounds,
    count() OVER w AS n,
    lagInFrame(BucketCounts) OVER w AS prevRaw,
    lagInFrame(ExplicitBounds) OVER w AS prevBounds,
    lagInFrame(StartTimeUnix) OVER w AS prevStart,
    arrayResize(prevRaw, length(BucketCounts)) AS prevCounts,
    temporality = ${DELTA} OR StartTimeUnix != prevStart OR prevBounds != ExplicitBounds
      OR length(prevRaw) != length(BucketCounts) OR arrayExists((c, p) -> c < p, BucketCounts, prevCounts) AS fresh,
    arrayMap((c, p) -> toInt64(c) - if(fresh, 0, toInt64(p)), BucketCounts, prevCounts) AS d
  FROM ${METRIC_TABLES.histogram}
  WHERE ${NAME_AND_RANGE}
  ${SERIES_WINDOW}
)
WHERE ${COUNTED}
GROUP BY labels, t, bounds
ORDER BY labels, t`;
}
