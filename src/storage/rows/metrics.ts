/** OTLP metrics export requests -> rows of the five otel_metrics_* tables. */
import { opentelemetry } from '../../otlp/index.ts';
import type { TenantId } from '../../telemetry/signals.ts';
import { METRIC_TABLES } from '../schema.ts';
import {
  attributesMap,
  idToHex,
  int64Number,
  nanosText,
  serviceNameOf,
  uint64Text,
  type AttributeMap,
  type Int64,
} from './values.ts';
import type { RowSink } from './sink.ts';

type MetricsRequest = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;
type Exemplar = opentelemetry.proto.metrics.v1.Exemplar.$Properties;
type NumberDataPoint = opentelemetry.proto.metrics.v1.NumberDataPoint.$Properties;
type HistogramDataPoint = opentelemetry.proto.metrics.v1.HistogramDataPoint.$Properties;
type ExponentialHistogramDataPoint = opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.$Properties;
type SummaryDataPoint = opentelemetry.proto.metrics.v1.SummaryDataPoint.$Properties;

/** Columns every metric table shares; a point's row extends these with its type's columns. */
export type MetricCommon = {
  TenantId: string;
  ResourceAttributes: AttributeMap;
  ResourceSchemaUrl: string;
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: AttributeMap;
  ScopeDroppedAttrCount: number;
  ScopeSchemaUrl: string;
  ServiceName: string;
  MetricName: string;
  MetricDescription: string;
  MetricUnit: string;
  Attributes: AttributeMap;
  StartTimeUnix: string;
  TimeUnix: string;
};

/** Float64 cell: JSON has no NaN/Infinity, ClickHouse reads them quoted. */
type FloatCell = number | string;

type ExemplarColumns = {
  'Exemplars.FilteredAttributes': AttributeMap[];
  'Exemplars.TimeUnix': string[];
  'Exemplars.Value': FloatCell[];
  'Exemplars.SpanId': string[];
  'Exemplars.TraceId': string[];
};

export type GaugeRow = MetricCommon & { Value: FloatCell; Flags: number } & ExemplarColumns;
export type SumRow = GaugeRow & { AggregationTemporality: number; IsMonotonic: boolean };
export type HistogramRow = MetricCommon & {
  Count: string;
  Sum: FloatCell;
  BucketCounts: string[];
  ExplicitBounds: FloatCell[];
  Flags: number;
  Min: FloatCell;
  Max: FloatCell;
  AggregationTemporality: number;
} & ExemplarColumns;
export type ExponentialHistogramRow = MetricCommon & {
  Count: string;
  Sum: FloatCell;
  Scale: number;
  ZeroCount: string;
  ZeroThreshold: FloatCell;
  PositiveOffset: number;
  PositiveBucketCounts: string[];
  NegativeOffset: number;
  NegativeBucketCounts: string[];
  Flags: number;
  Min: FloatCell;
  Max: FloatCell;
  AggregationTemporality: number;
} & ExemplarColumns;
export type SummaryRow = MetricCommon & {
  Count: string;
  Sum: FloatCell;
  'ValueAtQuantiles.Quantile': FloatCell[];
  'ValueAtQuantiles.Value': FloatCell[];
  Flags: number;
};

export interface MetricRows {
  gauge: GaugeRow[];
  sum: SumRow[];
  histogram: HistogramRow[];
  exponentialHistogram: ExponentialHistogramRow[];
  summary: SummaryRow[];
}

const NONE: never[] = [];

function float(n: number | null | undefined): FloatCell {
  if (n === null || n === undefined) return 0;
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
}

function floats(list: number[] | null | undefined): FloatCell[] {
  if (!list || list.length === 0) return NONE;
  const out: FloatCell[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = float(list[i]);
  return out;
}

function counts(list: Int64[] | null | undefined): string[] {
  if (!list || list.length === 0) return NONE;
  const out: string[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = uint64Text(list[i]);
  return out;
}

function pointValue(asDouble: number | null | undefined, asInt: Int64): FloatCell {
  if (asDouble != null) return float(asDouble);
  return int64Number(asInt);
}

const NO_EXEMPLARS: ExemplarColumns = Object.freeze({
  'Exemplars.FilteredAttributes': NONE,
  'Exemplars.TimeUnix': NONE,
  'Exemplars.Value': NONE,
  'Exemplars.SpanId': NONE,
  'Exemplars.TraceId': NONE,
});

function exemplarColumns(exemplars: Exemplar[] | null | undefined): ExemplarColumns {
  if (!exemplars || exemplars.length === 0) return NO_EXEMPLARS;
  const n = exemplars.length;
  const attrs: AttributeMap[] = new Array(n);
  const times: string[] = new Array(n);
  const values: FloatCell[] = new Array(n);
  const spanIds: string[] = new Array(n);
  const traceIds: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const e = exemplars[i];
    attrs[i] = attributesMap(e.filteredAttributes);
    times[i] = nanosText(e.timeUnixNano);
    values[i] = pointValue(e.asDouble, e.asInt);
    spanIds[i] = idToHex(e.spanId);
    traceIds[i] = idToHex(e.traceId);
  }
  return {
    'Exemplars.FilteredAttributes': attrs,
    'Exemplars.TimeUnix': times,
    'Exemplars.Value': values,
    'Exemplars.SpanId': spanIds,
    'Exemplars.TraceId': traceIds,
  };
}

/** The shared columns of one metric, filled per point by `common`. */
interface MetricContext {
  tenant: string;
  resource: AttributeMap;
  resourceSchemaUrl: string;
  scopeName: string;
  scopeVersion: string;
  scopeAttributes: AttributeMap;
  scopeDropped: number;
  scopeSchemaUrl: string;
  service: string;
  name: string;
  description: string;
  unit: string;
}

type AnyPoint = { attributes?: unknown; startTimeUnixNano?: Int64; timeUnixNano?: Int64 };

function common(c: MetricContext, p: AnyPoint): MetricCommon {
  return {
    TenantId: c.tenant,
    ResourceAttributes: c.resource,
    ResourceSchemaUrl: c.resourceSchemaUrl,
    ScopeName: c.scopeName,
    ScopeVersion: c.scopeVersion,
    ScopeAttributes: c.scopeAttributes,
    ScopeDroppedAttrCount: c.scopeDropped,
    ScopeSchemaUrl: c.scopeSchemaUrl,
    ServiceName: c.service,
    MetricName: c.name,
    MetricDescription: c.description,
    MetricUnit: c.unit,
    Attributes: attributesMap(p.attributes as Parameters<typeof attributesMap>[0]),
    StartTimeUnix: nanosText(p.startTimeUnixNano),
    TimeUnix: nanosText(p.timeUnixNano),
  };
}

function gaugeRow(c: MetricContext, p: NumberDataPoint): GaugeRow {
  const row = common(c, p) as GaugeRow;
  row.Value = pointValue(p.asDouble, p.asInt);
  row.Flags = p.flags ?? 0;
  return Object.assign(row, exemplarColumns(p.exemplars));
}

function histogramRow(c: MetricContext, p: HistogramDataPoint, temporality: number): HistogramRow {
  const row = common(c, p) as HistogramRow;
  row.Count = uint64Text(p.count);
  row.Sum = float(p.sum);
  row.BucketCounts = counts(p.bucketCounts);
  row.ExplicitBounds = floats(p.explicitBounds);
  row.Flags = p.flags ?? 0;
  row.Min = float(p.min);
  row.Max = float(p.max);
  row.AggregationTemporality = temporality;
  return Object.assign(row, exemplarColumns(p.exemplars));
}

function exponentialHistogramRow(c: MetricContext, p: ExponentialHistogramDataPoint, temporality: number): ExponentialHistogramRow {
  const row = common(c, p) as ExponentialHistogramRow;
  row.Count = uint64Text(p.count);
  row.Sum = float(p.sum);
  row.Scale = p.scale ?? 0;
  row.ZeroCount = uint64Text(p.zeroCount);
  row.ZeroThreshold = float(p.zeroThreshold);
  row.PositiveOffset = p.positive?.offset ?? 0;
  row.PositiveBucketCounts = counts(p.positive?.bucketCounts);
  row.NegativeOffset = p.negative?.offset ?? 0;
  row.NegativeBucketCounts = counts(p.negative?.bucketCounts);
  row.Flags = p.flags ?? 0;
  row.Min = float(p.min);
  row.Max = float(p.max);
  row.AggregationTemporality = temporality;
  return Object.assign(row, exemplarColumns(p.exemplars));
}

function summaryRow(c: MetricContext, p: SummaryDataPoint): SummaryRow {
  const row = common(c, p) as SummaryRow;
  row.Count = uint64Text(p.count);
  row.Sum = float(p.sum);
  const q = p.quantileValues;
  if (q && q.length > 0) {
    const quantiles: FloatCell[] = new Array(q.length);
    const values: FloatCell[] = new Array(q.length);
    for (let i = 0; i < q.length; i++) {
      quantiles[i] = float(q[i].quantile);
      values[i] = float(q[i].value);
    }
    row['ValueAtQuantiles.Quantile'] = quantiles;
    row['ValueAtQuantiles.Value'] = values;
  } else {
    row['ValueAtQuantiles.Quantile'] = NONE;
    row['ValueAtQuantiles.Value'] = NONE;
  }
  row.Flags = p.flags ?? 0;
  return row;
}

export function emptyMetricRows(): MetricRows {
  return { gauge: [], sum: [], histogram: [], exponentialHistogram: [], summary: [] };
}

/** Appends one row per data point to the list of its metric type; returns the rows appended. */
export function appendMetricRows(request: MetricsRequest, tenant: TenantId, out: MetricRows): number {
  let added = 0;
  const resourceMetrics = request.resourceMetrics;
  if (!resourceMetrics) return 0;
  for (let r = 0; r < resourceMetrics.length; r++) {
    const rm = resourceMetrics[r];
    const resource = attributesMap(rm.resource?.attributes);
    const scopeMetrics = rm.scopeMetrics;
    if (!scopeMetrics) continue;
    for (let s = 0; s < scopeMetrics.length; s++) {
      const sm = scopeMetrics[s];
      const scope = sm.scope;
      const c: MetricContext = {
        tenant,
        resource,
        resourceSchemaUrl: rm.schemaUrl ?? '',
        scopeName: scope?.name ?? '',
        scopeVersion: scope?.version ?? '',
        scopeAttributes: attributesMap(scope?.attributes),
        scopeDropped: scope?.droppedAttributesCount ?? 0,
        scopeSchemaUrl: sm.schemaUrl ?? '',
        service: serviceNameOf(resource),
        name: '',
        description: '',
        unit: '',
      };
      const metrics = sm.metrics;
      if (!metrics) continue;
      for (let m = 0; m < metrics.length; m++) {
        const metric = metrics[m];
        c.name = metric.name ?? '';
        c.description = metric.description ?? '';
        c.unit = metric.unit ?? '';
        if (metric.gauge) {
          const points = metric.gauge.dataPoints ?? NONE;
          for (let i = 0; i < points.length; i++) out.gauge.push(gaugeRow(c, points[i]));
          added += points.length;
        } else if (metric.sum) {
          const sum = metric.sum;
          const temporality = sum.aggregationTemporality ?? 0;
          const monotonic = sum.isMonotonic ?? false;
          const points = sum.dataPoints ?? NONE;
          for (let i = 0; i < points.length; i++) {
            const row = gaugeRow(c, points[i]) as SumRow;
            row.AggregationTemporality = temporality;
            row.IsMonotonic = monotonic;
            out.sum.push(row);
          }
          added += points.length;
        } else if (metric.histogram) {
          const temporality = metric.histogram.aggregationTemporality ?? 0;
          const points = metric.histogram.dataPoints ?? NONE;
          for (let i = 0; i < points.length; i++) out.histogram.push(histogramRow(c, points[i], temporality));
          added += points.length;
        } else if (metric.exponentialHistogram) {
          const temporality = metric.exponentialHistogram.aggregationTemporality ?? 0;
          const points = metric.exponentialHistogram.dataPoints ?? NONE;
          for (let i = 0; i < points.length; i++) out.exponentialHistogram.push(exponentialHistogramRow(c, points[i], temporality));
          added += points.length;
        } else if (metric.summary) {
          const points = metric.summary.dataPoints ?? NONE;
          for (let i = 0; i < points.length; i++) out.summary.push(summaryRow(c, points[i]));
          added += points.length;
        }
      }
    }
  }
  return added;
}

export function mapMetrics(request: MetricsRequest, tenant: TenantId): MetricRows {
  const rows = emptyMetricRows();
  appendMetricRows(request, tenant, rows);
  return rows;
}

/** Table name of each MetricRows list. */
export const METRIC_ROW_TABLES: ReadonlyArray<[keyof MetricRows, string]> = [
  ['gauge', METRIC_TABLES.gauge],
  ['sum', METRIC_TABLES.sum],
  ['histogram', METRIC_TABLES.histogram],
  ['exponentialHistogram', METRIC_TABLES.exponentialHistogram],
  ['summary', METRIC_TABLES.summary],
];

const MetricsRequestType = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

/** Decodes an ExportMetricsServiceRequest and appends its rows to the sink's otel_metrics_* lists. */
export function appendMetricRecord(bytes: Uint8Array, tenant: TenantId, sink: RowSink): number {
  const out: MetricRows = {
    gauge: sink.rows(METRIC_TABLES.gauge) as GaugeRow[],
    sum: sink.rows(METRIC_TABLES.sum) as SumRow[],
    histogram: sink.rows(METRIC_TABLES.histogram) as HistogramRow[],
    exponentialHistogram: sink.rows(METRIC_TABLES.exponentialHistogram) as ExponentialHistogramRow[],
    summary: sink.rows(METRIC_TABLES.summary) as SummaryRow[],
  };
  return appendMetricRows(MetricsRequestType.decode(bytes), tenant, out);
}
