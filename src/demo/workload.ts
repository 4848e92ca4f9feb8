/**
 * Pure generation of the demo's telemetry: given a seed, a start time and a rate, builds the
 * OTLP export requests for any sequence of time windows. No clock and no network here, so
 * the same inputs always give the same requests (tests rely on it).
 */
import type { opentelemetry } from '../otlp/index.ts';
import { DEFAULT_BURST, inBurst, validateBurst, type BurstSchedule } from './burst.ts';
import { SERVICES, SERVICE_NAMES } from './catalog.ts';
import { Prng, mixSeed } from './prng.ts';
import { ShopMetrics, type MetricsExport } from './shop-metrics.ts';
import { ShopTraffic, newBatch } from './traffic.ts';

export type ExportTraceRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.$Properties;
export type ExportLogsRequest = opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.$Properties;
export type { ExportMetricsRequest, MetricsExport } from './shop-metrics.ts';

export interface WorkloadOptions {
  seed: number;
  /** Demo start, Unix ms: cumulative metrics start here and the burst schedule counts from it. */
  startMs: number;
  /** Mean user requests (traces) per second; arrivals are Poisson. */
  rate: number;
  burst?: BurstSchedule;
}

export interface TelemetryWindow {
  fromMs: number;
  toMs: number;
  traces: ExportTraceRequest;
  logs: ExportLogsRequest;
  traceCount: number;
  spanCount: number;
  logCount: number;
  /** Whether any trace of the window started during an error burst. */
  burst: boolean;
}

export class Workload {
  readonly startMs: number;
  readonly rate: number;
  readonly burst: BurstSchedule;
  private readonly prng: Prng;
  private readonly metrics: ShopMetrics;
  private readonly traffic: ShopTraffic;
  private nextArrivalMs: number;

  constructor(options: WorkloadOptions) {
    if (!Number.isFinite(options.rate) || options.rate <= 0) throw new RangeError(`rate must be a positive number of traces per second, got ${options.rate}`);
    if (!Number.isFinite(options.startMs)) throw new RangeError(`startMs must be a finite Unix time in ms, got ${options.startMs}`);
    if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
    this.startMs = options.startMs;
    this.rate = options.rate;
    this.burst = validateBurst(options.burst ?? DEFAULT_BURST);
    this.prng = new Prng(options.seed);
    // Ids come from their own stream, keyed by the start time too: two runs with one seed
    // into one tenant must not reuse trace ids, yet keep the same shape of traffic.
    const start = Math.floor(options.startMs);
    const ids = new Prng(mixSeed(mixSeed(options.seed, start % 4294967296), Math.floor(start / 4294967296)));
    this.metrics = new ShopMetrics(options.startMs);
    this.traffic = new ShopTraffic(this.prng, ids, this.metrics);
    this.nextArrivalMs = options.startMs + this.interArrivalMs();
  }

  inBurst(atMs: number): boolean {
    return inBurst(this.burst, this.startMs, atMs);
  }

  /**
   * Traces (and their logs) of the user requests arriving in [fromMs, toMs). Windows are
   * expected in order; a window starting after the previous end skips the gap.
   */
  window(fromMs: number, toMs: number): TelemetryWindow {
    if (!(toMs >= fromMs)) throw new RangeError(`window end ${toMs} is before its start ${fromMs}`);
    if (this.nextArrivalMs < fromMs) this.nextArrivalMs = fromMs + this.interArrivalMs();
    const batch = newBatch();
    let burst = false;
    while (this.nextArrivalMs < toMs) {
      const at = this.nextArrivalMs;
      const b = this.inBurst(at);
      burst ||= b;
      this.traffic.request(batch, at, b);
      this.nextArrivalMs = at + this.interArrivalMs();
    }
    const resourceSpans = [];
    const resourceLogs = [];
    for (let i = 0; i < SERVICE_NAMES.length; i++) {
      const info = SERVICES[SERVICE_NAMES[i]];
      if (batch.spans[i].length > 0) resourceSpans.push({ resource: info.resource, scopeSpans: [{ scope: info.scope, spans: batch.spans[i] }] });
      if (batch.logs[i].length > 0) resourceLogs.push({ resource: info.resource, scopeLogs: [{ scope: info.scope, logRecords: batch.logs[i] }] });
    }
    return {
      fromMs,
      toMs,
      traces: { resourceSpans },
      logs: { resourceLogs },
      traceCount: batch.traces,
      spanCount: batch.spanCount,
      logCount: batch.logCount,
      burst,
    };
  }

  /** Cumulative metrics of everything generated so far, stamped `atMs`. */
  metricsAt(atMs: number): MetricsExport {
    return this.metrics.export(atMs, this.prng);
  }

  private interArrivalMs(): number {
    return this.prng.exponential(1000 / this.rate);
  }
}
