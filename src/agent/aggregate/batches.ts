/**
 * A drained window as Export requests of at most `maxPoints` data points each, grouped back into
 * resourceMetrics → scopeMetrics → metrics. A metric split across two requests appears in both
 * with the same descriptor and a share of the points.
 */
import type { opentelemetry } from '../../otlp/index.ts';
import type { SourceCheckpoint } from '../types.ts';
import type { PointBase } from './merger.ts';
import type { MetricShape, ResourceOutput } from './window.ts';

type MetricsRequest = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;
type ResourceMetrics = opentelemetry.proto.metrics.v1.ResourceMetrics.$Properties;
type ScopeMetrics = opentelemetry.proto.metrics.v1.ScopeMetrics.$Properties;
type Metric = opentelemetry.proto.metrics.v1.Metric.$Properties;

export interface MetricsBatch {
  request: MetricsRequest;
  /** Data points in the request. */
  items: number;
  checkpoint?: SourceCheckpoint;
}

/** The OTLP metric for a shape and some of its points. */
export function buildMetric(shape: MetricShape, points: PointBase[]): Metric {
  const metric: Metric = { name: shape.name, description: shape.description, unit: shape.unit };
  if (shape.metadata.length > 0) metric.metadata = shape.metadata;
  // The point arrays were built for the shape's kind (window.ts), hence the casts.
  switch (shape.kind) {
    case 'sum':
      metric.sum = { aggregationTemporality: shape.temporality, isMonotonic: shape.monotonic, dataPoints: points as never[] };
      break;
    case 'gauge':
      metric.gauge = { dataPoints: points as never[] };
      break;
    case 'histogram':
      metric.histogram = { aggregationTemporality: shape.temporality, dataPoints: points as never[] };
      break;
    case 'exponentialHistogram':
      metric.exponentialHistogram = { aggregationTemporality: shape.temporality, dataPoints: points as never[] };
      break;
    case 'summary':
      metric.summary = { dataPoints: points as never[] };
      break;
  }
  return metric;
}

export function toBatches(resources: readonly ResourceOutput[], maxPoints: number): MetricsBatch[] {
  const batches: MetricsBatch[] = [];
  let batch: MetricsBatch | undefined;
  let rm: ResourceMetrics | undefined;
  let sm: ScopeMetrics | undefined;
  for (const r of resources) {
    rm = undefined;
    for (const s of r.scopes) {
      sm = undefined;
      for (const m of s.metrics) {
        for (let i = 0; i < m.points.length; ) {
          if (batch === undefined || batch.items >= maxPoints) {
            batch = { request: { resourceMetrics: [] }, items: 0 };
            batches.push(batch);
            rm = undefined;
            sm = undefined;
          }
          if (rm === undefined) {
            rm = { resource: r.resource, scopeMetrics: [] };
            if (r.schemaUrl) rm.schemaUrl = r.schemaUrl;
            batch.request.resourceMetrics!.push(rm);
          }
          if (sm === undefined) {
            sm = { scope: s.scope, metrics: [] };
            if (s.schemaUrl) sm.schemaUrl = s.schemaUrl;
            rm.scopeMetrics!.push(sm);
          }
          const n = Math.min(m.points.length - i, maxPoints - batch.items);
          sm.metrics!.push(buildMetric(m.shape, i === 0 && n === m.points.length ? m.points : m.points.slice(i, i + n)));
          batch.items += n;
          i += n;
        }
      }
    }
  }
  return batches;
}
