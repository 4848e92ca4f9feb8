/**
 * The counter that says what the cardinality limits folded: `ollystack.agent.metrics.folded`,
 * a cumulative monotonic Sum of points per (resource, metric name, reason), reported under the
 * resource of the folded metric, so the gateway shows it next to the service that caused it.
 * It is cumulative, so its series outlive a window; only metrics that had folds have one, and a
 * series with no new folds for FORGET_AFTER_REPORTS reports is dropped (a later fold starts it
 * again from a new start time), so resources that come and go cannot make it grow forever.
 */
import { msToNanos, opentelemetry, type Nanos } from '../../otlp/index.ts';
import type { FoldReason } from './cardinality.ts';
import type { MetricOutput } from './window.ts';

type Resource = opentelemetry.proto.resource.v1.Resource.$Properties;
type Scope = opentelemetry.proto.common.v1.InstrumentationScope.$Properties;

export const FOLDED_METRIC = 'ollystack.agent.metrics.folded';
export const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';
/** The scope the counter is reported under, apart from the application's own scopes. */
export const AGENT_SCOPE: Scope = { name: 'ollystack.agent.aggregate' };

/** An hour of idle windows at the default 60 s window. */
export const FORGET_AFTER_REPORTS = 60;

const CUMULATIVE = opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;

interface FoldSeries {
  metric: string;
  reason: FoldReason;
  count: number;
  start: Nanos;
  /** Reports since the last fold. */
  idle: number;
}

interface ResourceFolds {
  resource: Resource;
  schemaUrl: string;
  series: Map<string, FoldSeries>;
}

export interface FoldReport {
  resourceKey: string;
  resource: Resource;
  schemaUrl: string;
  metric: MetricOutput;
}

export class FoldCounter {
  private readonly byResource = new Map<string, ResourceFolds>();

  /** Counts one folded point; true when this (resource, metric, reason) folded for the first time. */
  add(resourceKey: string, resource: Resource, schemaUrl: string, metric: string, reason: FoldReason, nowMs: number): boolean {
    let r = this.byResource.get(resourceKey);
    if (r === undefined) {
      r = { resource, schemaUrl, series: new Map() };
      this.byResource.set(resourceKey, r);
    }
    const key = `${reason} ${metric}`;
    const s = r.series.get(key);
    if (s !== undefined) {
      s.count++;
      s.idle = 0;
      return false;
    }
    r.series.set(key, { metric, reason, count: 1, start: msToNanos(nowMs), idle: 0 });
    return true;
  }

  /** The counter's current values, one metric per resource that had folds. */
  report(nowMs: number): FoldReport[] {
    const time = msToNanos(nowMs);
    const out: FoldReport[] = [];
    for (const [resourceKey, r] of this.byResource) {
      for (const [key, s] of r.series) if (s.idle++ >= FORGET_AFTER_REPORTS) r.series.delete(key);
      if (r.series.size === 0) {
        this.byResource.delete(resourceKey);
        continue;
      }
      const dataPoints = [...r.series.values()].map((s) => ({
        attributes: [
          { key: 'metric.name', value: { stringValue: s.metric } },
          { key: 'reason', value: { stringValue: s.reason } },
        ],
        startTimeUnixNano: s.start,
        timeUnixNano: time,
        asInt: s.count,
      }));
      out.push({
        resourceKey,
        resource: r.resource,
        schemaUrl: r.schemaUrl,
        metric: {
          shape: { name: FOLDED_METRIC, description: 'Data points folded into overflow series by the agent cardinality limits', unit: '{point}', metadata: [], kind: 'sum', temporality: CUMULATIVE, monotonic: true },
          points: dataPoints,
        },
      });
    }
    return out;
  }
}
