/**
 * The shop's metrics: cumulative state fed by the generated requests, exported as one
 * ExportMetricsServiceRequest per flush. Every OTLP point type appears: Sum and Gauge on
 * every service, Histogram per route, an ExponentialHistogram (checkout order value) and a
 * Summary (shipping quote latency).
 */
import { opentelemetry } from '../otlp/index.ts';
import { DURATION_BOUNDS_SEC, ExplicitHistogram, ExponentialHistogram, SummaryAggregator } from './aggregators.ts';
import { SERVICES, SERVICE_NAMES, type ServiceName } from './catalog.ts';
import { int, msToNanos, str, type KeyValue, type Nanos } from '../otlp/index.ts';
import type { Prng } from './prng.ts';

type Metric = opentelemetry.proto.metrics.v1.Metric.$Properties;
type NumberDataPoint = opentelemetry.proto.metrics.v1.NumberDataPoint.$Properties;
type HistogramDataPoint = opentelemetry.proto.metrics.v1.HistogramDataPoint.$Properties;
export type ExportMetricsRequest = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;

const CUMULATIVE = opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
const SUMMARY_QUANTILES: readonly number[] = [0, 0.5, 0.9, 0.99, 1];
const DB_POOL_SIZE = 20;

interface RequestSeries {
  attributes: KeyValue[];
  count: number;
}

interface RouteDurations {
  attributes: KeyValue[];
  histogram: ExplicitHistogram;
}

interface ServiceState {
  /** Keyed by route + status: one monotonic counter series each. */
  requests: Map<string, RequestSeries>;
  durations: Map<string, RouteDurations>;
  cpuUserSec: number;
  cpuSystemSec: number;
  memoryBytes: number;
  baseMemoryBytes: number;
  requestsSinceFlush: number;
}

const BASE_MEMORY_MB: Record<ServiceName, number> = { frontend: 180, checkout: 64, payments: 420, inventory: 110, shipping: 48 };

export interface MetricsExport {
  request: ExportMetricsRequest;
  dataPoints: number;
}

export class ShopMetrics {
  private readonly startNanos: Nanos;
  private readonly services: Record<ServiceName, ServiceState>;
  private readonly orderValue = new ExponentialHistogram(3);
  private readonly quoteLatency = new SummaryAggregator(512);
  private dbBusyMsSinceFlush = 0;
  private lastFlushMs: number;

  constructor(startMs: number) {
    this.startNanos = msToNanos(startMs);
    this.lastFlushMs = startMs;
    const services = {} as Record<ServiceName, ServiceState>;
    for (const name of SERVICE_NAMES) {
      const base = BASE_MEMORY_MB[name] * 1024 * 1024;
      services[name] = { requests: new Map(), durations: new Map(), cpuUserSec: 0, cpuSystemSec: 0, memoryBytes: base, baseMemoryBytes: base, requestsSinceFlush: 0 };
    }
    this.services = services;
  }

  recordServerRequest(service: ServiceName, route: string, status: number, durationMs: number, traceId: Uint8Array, spanId: Uint8Array, atMs: number): void {
    const s = this.services[service];
    const key = `${route} ${status}`;
    let series = s.requests.get(key);
    if (!series) {
      series = { attributes: [str('http.route', route), int('http.response.status_code', status)], count: 0 };
      s.requests.set(key, series);
    }
    series.count++;
    let d = s.durations.get(route);
    if (!d) {
      d = { attributes: [str('http.route', route)], histogram: new ExplicitHistogram(DURATION_BOUNDS_SEC) };
      s.durations.set(route, d);
    }
    d.histogram.record(durationMs / 1000, traceId, spanId, atMs);
    // CPU grows with the work done: a share of the request's wall time.
    s.cpuUserSec += (durationMs / 1000) * 0.12;
    s.cpuSystemSec += (durationMs / 1000) * 0.03;
    s.requestsSinceFlush++;
  }

  recordDbQuery(durationMs: number): void {
    this.dbBusyMsSinceFlush += durationMs;
  }

  recordOrderValue(usd: number): void {
    this.orderValue.record(usd);
  }

  recordShippingQuote(durationMs: number): void {
    this.quoteLatency.record(durationMs / 1000);
  }

  /** The cumulative state at `atMs` as one request; gauges take a small random step. */
  export(atMs: number, prng: Prng): MetricsExport {
    const time = msToNanos(atMs);
    const intervalSec = Math.max(1, (atMs - this.lastFlushMs) / 1000);
    this.lastFlushMs = atMs;
    let dataPoints = 0;
    const resourceMetrics = SERVICE_NAMES.map((name) => {
      const s = this.services[name];
      const metrics: Metric[] = [];

      if (s.requests.size > 0) {
        const points: NumberDataPoint[] = [];
        for (const series of s.requests.values()) points.push({ attributes: series.attributes, startTimeUnixNano: this.startNanos, timeUnixNano: time, asInt: series.count });
        metrics.push({ name: 'http.server.request.count', description: 'HTTP server requests handled', unit: '{request}', sum: { dataPoints: points, aggregationTemporality: CUMULATIVE, isMonotonic: true } });
        dataPoints += points.length;

        const hpoints: HistogramDataPoint[] = [];
        for (const d of s.durations.values()) hpoints.push(this.histogramPoint(d, time));
        metrics.push({ name: 'http.server.request.duration', description: 'Duration of HTTP server requests', unit: 's', histogram: { dataPoints: hpoints, aggregationTemporality: CUMULATIVE } });
        dataPoints += hpoints.length;
      }

      // Idle processes still burn a little CPU; busy ones also allocate more.
      s.cpuUserSec += intervalSec * 0.004;
      s.cpuSystemSec += intervalSec * 0.001;
      metrics.push({
        name: 'process.cpu.time',
        description: 'CPU time used by the process',
        unit: 's',
        sum: {
          aggregationTemporality: CUMULATIVE,
          isMonotonic: true,
          dataPoints: [
            { attributes: [str('cpu.mode', 'user')], startTimeUnixNano: this.startNanos, timeUnixNano: time, asDouble: s.cpuUserSec },
            { attributes: [str('cpu.mode', 'system')], startTimeUnixNano: this.startNanos, timeUnixNano: time, asDouble: s.cpuSystemSec },
          ],
        },
      });
      dataPoints += 2;

      const loadBytes = (s.requestsSinceFlush / intervalSec) * 256 * 1024;
      const drift = prng.normal() * 2 * 1024 * 1024;
      s.memoryBytes = Math.max(s.baseMemoryBytes * 0.8, s.memoryBytes + drift + (s.baseMemoryBytes + loadBytes - s.memoryBytes) * 0.2);
      s.requestsSinceFlush = 0;
      metrics.push({ name: 'process.memory.usage', description: 'Resident memory of the process', unit: 'By', gauge: { dataPoints: [{ timeUnixNano: time, asInt: Math.round(s.memoryBytes) }] } });
      dataPoints += 1;

      if (name === 'inventory') {
        // Little's law: connections busy on average = query time per second of wall time.
        const used = Math.min(DB_POOL_SIZE, Math.round(this.dbBusyMsSinceFlush / (intervalSec * 1000)) + prng.int(0, 1));
        this.dbBusyMsSinceFlush = 0;
        const pool = str('db.client.connection.pool.name', 'shop-pg');
        metrics.push({
          name: 'db.client.connections.usage',
          description: 'Connections in the pool, by state',
          unit: '{connection}',
          gauge: {
            dataPoints: [
              { attributes: [pool, str('db.client.connection.state', 'used')], timeUnixNano: time, asInt: used },
              { attributes: [pool, str('db.client.connection.state', 'idle')], timeUnixNano: time, asInt: DB_POOL_SIZE - used },
            ],
          },
        });
        dataPoints += 2;
      }

      if (name === 'checkout') {
        const h = this.orderValue;
        metrics.push({
          name: 'shop.order.value',
          description: 'Value of placed orders',
          unit: 'USD',
          exponentialHistogram: {
            aggregationTemporality: CUMULATIVE,
            dataPoints: [
              {
                startTimeUnixNano: this.startNanos,
                timeUnixNano: time,
                count: h.count,
                sum: h.sum,
                scale: h.scale,
                zeroCount: h.zeroCount,
                positive: h.positive(),
                ...(h.count > 0 ? { min: h.min, max: h.max } : {}),
              },
            ],
          },
        });
        dataPoints += 1;
      }

      if (name === 'shipping') {
        const q = this.quoteLatency;
        metrics.push({
          name: 'shipping.quote.duration',
          description: 'Time to compute a shipping quote (carrier API included)',
          unit: 's',
          summary: { dataPoints: [{ startTimeUnixNano: this.startNanos, timeUnixNano: time, count: q.count, sum: q.sum, quantileValues: q.quantiles(SUMMARY_QUANTILES) }] },
        });
        dataPoints += 1;
      }

      const info = SERVICES[name];
      return { resource: info.resource, scopeMetrics: [{ scope: info.scope, metrics }] };
    });
    return { request: { resourceMetrics }, dataPoints };
  }

  private histogramPoint(d: RouteDurations, time: Nanos): HistogramDataPoint {
    const h = d.histogram;
    const exemplar = h.takeExemplar();
    return {
      attributes: d.attributes,
      startTimeUnixNano: this.startNanos,
      timeUnixNano: time,
      count: h.count,
      sum: h.sum,
      // Copied: the aggregator keeps counting while an encoded request may still be in flight.
      bucketCounts: h.bucketCounts.slice(),
      explicitBounds: h.bounds as number[],
      min: h.min,
      max: h.max,
      exemplars: exemplar ? [{ timeUnixNano: msToNanos(exemplar.timeMs), asDouble: exemplar.value, traceId: exemplar.traceId, spanId: exemplar.spanId }] : [],
    };
  }
}
