import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tenantOf } from '../auth.ts';
import { badParam, notFound } from '../errors.ts';
import { AGGS, QUANTILES, resolveAgg, type Agg } from '../metrics/agg.ts';
import { histogramQuantile, mergeLayouts, type BucketLayout } from '../metrics/histogram-quantile.ts';
import { findMetric } from '../metrics/kind.ts';
import { histogramCountsSql, labelsSql, rateSql, valueAggSql, type ValueAgg } from '../metrics/sql.ts';
import { MAX_POINTS_PER_SERIES, bucketCount, defaultStepSeconds, parseStepSeconds } from '../metrics/step.ts';
import { oneOf, parseQuery, text, timeParams } from '../params.ts';
import { rangeParams, toNumber } from '../sql.ts';
import { nsToMs, parseTimeRange } from '../time.ts';
import type { QueryParams, Store } from '../../storage/index.ts';

export const MAX_GROUP_BY_KEYS = 10;
/** Cumulative points need their predecessor: look back this far (or one step) before `from`. */
export const CUMULATIVE_LOOKBACK_MS = 5 * 60 * 1000;

const Query = z.object({
  ...timeParams,
  name: text(1024),
  step: text(16).optional(),
  groupBy: text(4096).optional(),
  agg: oneOf(AGGS).optional(),
});

export interface Series {
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

function isValueAgg(agg: Agg): agg is ValueAgg {
  return agg === 'sum' || agg === 'avg' || agg === 'min' || agg === 'max';
}

function parseGroupBy(value: string | undefined): string[] {
  if (value === undefined) return [];
  const keys = value.split(',').map((k) => k.trim());
  if (keys.some((k) => k.length === 0)) throw badParam('groupBy', 'must be attribute keys separated by commas, with none empty');
  if (keys.length > MAX_GROUP_BY_KEYS) throw badParam('groupBy', `must have at most ${MAX_GROUP_BY_KEYS} keys`);
  if (new Set(keys).size !== keys.length) throw badParam('groupBy', 'must not repeat a key');
  return keys;
}

/** Rows of one labels tuple arrive together (ORDER BY labels, t): one series per run. */
class SeriesBuilder {
  readonly series: Series[] = [];
  readonly #keys: readonly string[];
  #currentKey = '';
  #current: Series | null = null;

  constructor(keys: readonly string[]) {
    this.#keys = keys;
  }

  pointsOf(labels: string[]): Array<[number, number]> {
    const key = JSON.stringify(labels);
    if (this.#current === null || key !== this.#currentKey) {
      const obj: Record<string, string> = {};
      for (let i = 0; i < this.#keys.length; i++) obj[this.#keys[i]] = labels[i];
      this.#current = { labels: obj, points: [] };
      this.#currentKey = key;
      this.series.push(this.#current);
    }
    return this.#current.points;
  }
}

interface ValueRow {
  labels: string[];
  t: string | number;
  v: number | null;
}

interface CountsRow {
  labels: string[];
  t: string | number;
  bounds: number[];
  counts: Array<string | number>;
}

function valueSeries(rows: ValueRow[], keys: readonly string[]): Series[] {
  const builder = new SeriesBuilder(keys);
  for (const row of rows) {
    const points = builder.pointsOf(row.labels);
    // NaN (no data, 0/0) comes back as null: a gap, not a zero.
    if (row.v !== null && Number.isFinite(row.v)) points.push([toNumber(row.t), row.v]);
  }
  return builder.series.filter((s) => s.points.length > 0);
}

function quantileSeries(rows: CountsRow[], keys: readonly string[], q: number): Series[] {
  const builder = new SeriesBuilder(keys);
  let i = 0;
  while (i < rows.length) {
    // Rows of one (labels, t) differ only by bucket layout: merge them, then take the quantile.
    const first = rows[i];
    const layouts: BucketLayout[] = [];
    const labelsKey = JSON.stringify(first.labels);
    for (; i < rows.length && rows[i].t === first.t && JSON.stringify(rows[i].labels) === labelsKey; i++) {
      layouts.push({ bounds: rows[i].bounds, counts: rows[i].counts.map(toNumber) });
    }
    const merged = mergeLayouts(layouts);
    const value = histogramQuantile(q, merged.bounds, merged.counts);
    const points = builder.pointsOf(first.labels);
    if (Number.isFinite(value)) points.push([toNumber(first.t), value]);
  }
  return builder.series.filter((s) => s.points.length > 0);
}

/** Most (series, step) points one metrics query returns, by default. */
export const MAX_RESULT_ROWS = 200_000;

export function registerMetricsRoute(app: FastifyInstance, store: Store, maxResultRows = MAX_RESULT_ROWS): void {
  app.get('/api/v1/metrics/query', async (request) => {
    const query = parseQuery(Query, request.query);
    const range = parseTimeRange(query.from, query.to);
    const fromMs = nsToMs(range.fromNs);
    const toMs = nsToMs(range.toNs + 999_999n); // rounded up: the range ends within that millisecond
    let stepS: number;
    if (query.step === undefined) {
      stepS = defaultStepSeconds(toMs - fromMs);
    } else {
      const parsed = parseStepSeconds(query.step);
      if (parsed === null) throw badParam('step', 'must be whole seconds or a duration like 30s, 5m, 1h, 1d (at least 1s)');
      stepS = parsed;
    }
    const stepMs = stepS * 1000;
    const points = bucketCount(fromMs, toMs, stepMs);
    if (points > MAX_POINTS_PER_SERIES) {
      throw badParam('step', `${stepS}s gives ${points} points per series over this range; at most ${MAX_POINTS_PER_SERIES} are allowed`);
    }
    const keys = parseGroupBy(query.groupBy);

    const params: QueryParams = { ...rangeParams(tenantOf(request), range), name: query.name };
    const metric = await findMetric(store, params);
    if (metric === null) throw notFound(`no metric named ${query.name} in this range`);
    const agg = resolveAgg(metric, query.name, query.agg);

    const lookbackNs = BigInt(Math.max(stepMs, CUMULATIVE_LOOKBACK_MS)) * 1_000_000n;
    params.readFromNs = (range.fromNs > lookbackNs ? range.fromNs - lookbackNs : 0n).toString();
    params.stepMs = stepMs;
    params.stepS = stepS;
    const labels = labelsSql(keys, params);

    // Bounds the answer whatever the groupBy's cardinality: one row more than allowed means
    // the query is too wide, and the caller is told to narrow it rather than sent a flood.
    params.maxRows = maxResultRows + 1;
    const capped = async <T>(sql: string): Promise<T[]> => {
      const rows = await store.query<T>(`${sql}\nLIMIT {maxRows:UInt32}`, params);
      if (rows.length > maxResultRows) throw badParam('groupBy', `the query yields more than ${maxResultRows} points; group by fewer or lower-cardinality keys, or use a larger step`);
      return rows;
    };
    let series: Series[];
    const q = QUANTILES[agg];
    if (q !== undefined) {
      series = quantileSeries(await capped<CountsRow>(histogramCountsSql(labels)), keys, q);
    } else if (agg === 'rate') {
      series = valueSeries(await capped<ValueRow>(rateSql(labels)), keys);
    } else if (isValueAgg(agg)) {
      const kind = metric.kind === 'gauge' ? 'gauge' : 'sum';
      series = valueSeries(await capped<ValueRow>(valueAggSql(kind, agg, labels)), keys);
    } else {
      throw new Error(`unhandled aggregation ${agg}`);
    }
    return { name: query.name, kind: metric.kind, agg, step: stepS, series };
  });
}
