/**
 * The agent's own counters as OTLP metrics, sent with the host metrics: one gauge,
 * `ollystack.agent.component.stat`, with the component and stat as attributes, so a
 * dashboard can chart what every agent collects, sends, buffers and drops.
 */
import { msToNanos, str, type opentelemetry } from '../otlp/index.ts';
import type { Component } from './types.ts';

type Metric = opentelemetry.proto.metrics.v1.Metric.$Properties;

export const SELF_METRIC = 'ollystack.agent.component.stat';

export function selfMetrics(components: readonly Component[], nowMs = Date.now()): Metric[] {
  const time = msToNanos(nowMs);
  const dataPoints = [];
  for (const c of components) {
    for (const [stat, value] of Object.entries(c.stats())) {
      if (!Number.isFinite(value)) continue;
      dataPoints.push({ timeUnixNano: time, asDouble: value, attributes: [str('component', c.name), str('stat', stat)] });
    }
  }
  return dataPoints.length === 0 ? [] : [{ name: SELF_METRIC, description: "The agent's pipeline counters", unit: '1', gauge: { dataPoints } }];
}
