/**
 * One aggregation window: every series seen since the last flush, under its resource, scope and
 * metric, each with the merge rule of its type. Points that would start a series beyond the
 * cardinality limits go to their metric's overflow series instead. `drain()` hands the window's
 * points back grouped as OTLP wants them and leaves the window empty.
 */
import { opentelemetry } from '../../otlp/index.ts';
import type { CardinalityLimiter, Refusal } from './cardinality.ts';
import { OVERFLOW_ATTRIBUTE } from './fold-counter.ts';
import { GaugeMerger } from './merge-gauge.ts';
import { DeltaExponentialHistogramMerger, cumulativeExponentialMerger } from './merge-exponential.ts';
import { DeltaHistogramMerger, cumulativeHistogramMerger } from './merge-histogram.ts';
import { DeltaSumMerger, cumulativeSumMerger } from './merge-sum.ts';
import { summaryMerger } from './merge-summary.ts';
import type { KeyValue, PointBase, SeriesMerger } from './merger.ts';
import type { NumberDataPoint } from './number-value.ts';
import { attributesKey, ownAttributes, ownResource, ownScope, resourceKey, scopeKey } from './series-key.ts';

type MetricsRequest = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;
type Metric = opentelemetry.proto.metrics.v1.Metric.$Properties;
type Resource = opentelemetry.proto.resource.v1.Resource.$Properties;
type Scope = opentelemetry.proto.common.v1.InstrumentationScope.$Properties;

const DELTA = opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;

export type MetricKind = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';

/** A metric's descriptor and type: everything but its points. */
export interface MetricShape {
  name: string;
  description: string;
  unit: string;
  metadata: KeyValue[];
  kind: MetricKind;
  /** AggregationTemporality; 0 for gauges and summaries. */
  temporality: number;
  monotonic: boolean;
}

export interface MetricOutput {
  shape: MetricShape;
  points: PointBase[];
}

export interface ScopeOutput {
  scope: Scope;
  schemaUrl: string;
  metrics: MetricOutput[];
}

export interface ResourceOutput {
  resourceKey: string;
  resource: Resource;
  schemaUrl: string;
  scopes: ScopeOutput[];
}

/** Where a folded point came from, for the folded-points counter. */
export interface Fold {
  resourceKey: string;
  resource: Resource;
  schemaUrl: string;
  metric: string;
  refusal: Refusal;
}

interface Series {
  attributes: KeyValue[];
  merger: SeriesMerger<PointBase>;
}

interface MetricEntry {
  shape: MetricShape;
  series: Map<string, Series>;
}

interface ScopeEntry {
  scope: Scope;
  schemaUrl: string;
  metrics: Map<string, MetricEntry>;
}

interface ResourceEntry {
  resource: Resource;
  schemaUrl: string;
  scopes: Map<string, ScopeEntry>;
}

/** The one attribute an overflow series carries instead of the folded series' own. */
const OVERFLOW_ATTRIBUTES: KeyValue[] = [{ key: OVERFLOW_ATTRIBUTE, value: { boolValue: true } }];
// The overflow series is keyed like any series with that attribute set, so a point that
// already arrives as an overflow point (from an SDK's own limit) lands in the same series.
const OVERFLOW_KEY = attributesKey(OVERFLOW_ATTRIBUTES).key;

function text(s: string): string {
  return `${s.length}:${s}`;
}

interface MetricData {
  kind: MetricKind;
  temporality: number;
  monotonic: boolean;
  points: readonly PointBase[] | null | undefined;
}

/** The metric's type and points; undefined for a metric without data. */
function dataOf(metric: Metric): MetricData | undefined {
  if (metric.sum) return { kind: 'sum', temporality: metric.sum.aggregationTemporality ?? 0, monotonic: metric.sum.isMonotonic === true, points: metric.sum.dataPoints };
  if (metric.gauge) return { kind: 'gauge', temporality: 0, monotonic: false, points: metric.gauge.dataPoints };
  if (metric.histogram) return { kind: 'histogram', temporality: metric.histogram.aggregationTemporality ?? 0, monotonic: false, points: metric.histogram.dataPoints };
  if (metric.exponentialHistogram) return { kind: 'exponentialHistogram', temporality: metric.exponentialHistogram.aggregationTemporality ?? 0, monotonic: false, points: metric.exponentialHistogram.dataPoints };
  if (metric.summary) return { kind: 'summary', temporality: 0, monotonic: false, points: metric.summary.dataPoints };
  return undefined;
}

/** The merge rule for one series of this shape. UNSPECIFIED temporality (invalid) is treated as cumulative. */
function newMerger(shape: MetricShape): SeriesMerger<PointBase> {
  const delta = shape.temporality === DELTA;
  switch (shape.kind) {
    case 'sum':
      return delta ? new DeltaSumMerger() : cumulativeSumMerger();
    case 'gauge':
      return new GaugeMerger();
    case 'histogram':
      return delta ? new DeltaHistogramMerger() : cumulativeHistogramMerger();
    case 'exponentialHistogram':
      return delta ? new DeltaExponentialHistogramMerger() : cumulativeExponentialMerger();
    case 'summary':
      return summaryMerger();
  }
}

export class AggregationWindow {
  private resources = new Map<string, ResourceEntry>();
  private seriesCount = 0;
  private pointCount = 0;

  /** Series held now, overflow series included. */
  get series(): number {
    return this.seriesCount;
  }

  /** Points merged into this window so far. */
  get points(): number {
    return this.pointCount;
  }

  /**
   * Merges a request's points into the window. `onFold` hears of every point folded into an
   * overflow series. Returns the number of points taken in.
   */
  add(request: MetricsRequest, limiter: CardinalityLimiter, onFold: (fold: Fold) => void): number {
    let taken = 0;
    for (const rm of request.resourceMetrics ?? []) {
      const rKey = resourceKey(rm.resource, rm.schemaUrl);
      let r = this.resources.get(rKey);
      for (const sm of rm.scopeMetrics ?? []) {
        const sKey = scopeKey(sm.scope, sm.schemaUrl);
        let s = r?.scopes.get(sKey);
        for (const metric of sm.metrics ?? []) {
          const data = dataOf(metric);
          if (data === undefined || !data.points || data.points.length === 0) continue;
          const name = metric.name ?? '';
          const unit = metric.unit ?? '';
          const mKey = `${data.kind}${data.temporality}${data.monotonic ? 'm' : ''}${text(name)}${text(unit)}`;
          if (r === undefined) {
            r = { resource: ownResource(rm.resource), schemaUrl: rm.schemaUrl ?? '', scopes: new Map() };
            this.resources.set(rKey, r);
          }
          if (s === undefined) {
            s = { scope: ownScope(sm.scope), schemaUrl: sm.schemaUrl ?? '', metrics: new Map() };
            r.scopes.set(sKey, s);
          }
          let m = s.metrics.get(mKey);
          if (m === undefined) {
            m = { shape: { name, description: metric.description ?? '', unit, metadata: ownAttributes(metric.metadata), kind: data.kind, temporality: data.temporality, monotonic: data.monotonic }, series: new Map() };
            s.metrics.set(mKey, m);
          } else if (m.shape.description === '' && metric.description) {
            m.shape.description = metric.description;
          }
          for (const point of data.points) {
            const attributes = attributesKey(point.attributes);
            let series = m.series.get(attributes.key);
            if (series === undefined) {
              const refusal = limiter.admit(name, attributes.parts);
              if (refusal !== undefined) {
                onFold({ resourceKey: rKey, resource: r.resource, schemaUrl: r.schemaUrl, metric: name, refusal });
                series = this.seriesFor(m, OVERFLOW_KEY, OVERFLOW_ATTRIBUTES);
              } else {
                series = this.seriesFor(m, attributes.key, ownAttributes(point.attributes));
              }
            }
            series.merger.add(point);
            taken++;
          }
        }
      }
    }
    this.pointCount += taken;
    return taken;
  }

  /** The window's points, grouped by resource, scope and metric; the window is empty afterwards. */
  drain(): ResourceOutput[] {
    const out: ResourceOutput[] = [];
    for (const [rKey, r] of this.resources) {
      const scopes: ScopeOutput[] = [];
      for (const s of r.scopes.values()) {
        const metrics: MetricOutput[] = [];
        for (const m of s.metrics.values()) metrics.push(...drainMetric(m));
        if (metrics.length > 0) scopes.push({ scope: s.scope, schemaUrl: s.schemaUrl, metrics });
      }
      if (scopes.length > 0) out.push({ resourceKey: rKey, resource: r.resource, schemaUrl: r.schemaUrl, scopes });
    }
    this.resources = new Map();
    this.seriesCount = 0;
    this.pointCount = 0;
    return out;
  }

  private seriesFor(m: MetricEntry, key: string, attributes: KeyValue[]): Series {
    let series = m.series.get(key);
    if (series === undefined) {
      series = { attributes, merger: newMerger(m.shape) };
      m.series.set(key, series);
      this.seriesCount++;
    }
    return series;
  }
}

/** A metric's window points; a gauge also yields its `.min` and `.max` metrics (see merge-gauge.ts). */
function drainMetric(m: MetricEntry): MetricOutput[] {
  const points: PointBase[] = [];
  const mins: NumberDataPoint[] = [];
  const maxes: NumberDataPoint[] = [];
  for (const series of m.series.values()) {
    points.push(...series.merger.take(series.attributes));
    if (series.merger instanceof GaugeMerger) {
      const extremes = series.merger.extremes(series.attributes);
      if (extremes) {
        mins.push(extremes.min);
        maxes.push(extremes.max);
      }
    }
  }
  const out: MetricOutput[] = [];
  if (points.length > 0) out.push({ shape: m.shape, points });
  const { name } = m.shape;
  if (mins.length > 0) out.push({ shape: { ...m.shape, name: `${name}.min`, description: `Minimum of ${name} over the aggregation window` }, points: mins });
  if (maxes.length > 0) out.push({ shape: { ...m.shape, name: `${name}.max`, description: `Maximum of ${name} over the aggregation window` }, points: maxes });
  return out;
}
