/**
 * `ollystack demo`: a small shop's worth of traces, logs and metrics, sent to a running
 * gateway until the duration ends or the signal aborts. Traces and logs go out every tick
 * (1 s), metrics every 10 s starting right away.
 */
import { opentelemetry } from '../otlp/index.ts';
import type { BurstSchedule } from './burst.ts';
import { OtlpHttpSender, sleep, type SendResult } from '../otlp/index.ts';
import { Workload } from './workload.ts';

export { Workload, type WorkloadOptions, type TelemetryWindow } from './workload.ts';
export { OtlpHttpSender, type SenderOptions, type SendResult } from '../otlp/index.ts';
export { DEFAULT_BURST, type BurstSchedule } from './burst.ts';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4318';
export const DEFAULT_RATE = 20;

export interface DemoOptions {
  /** Gateway base URL; default http://127.0.0.1:4318. */
  endpoint?: string;
  apiKey: string;
  /** Stop after this many seconds; default: run until `signal` aborts. */
  durationSec?: number;
  /** User requests (traces) per second; default 20. */
  rate?: number;
  signal?: AbortSignal;
  /** Makes the traffic's shape reproducible; default random (and logged). */
  seed?: number;
  /** Progress and error lines. */
  log?: (line: string) => void;
  /** Clock in Unix ms; default Date.now. */
  now?: () => number;
  /** Trace/log batch period; default 1000 ms. */
  tickMs?: number;
  /** Metric flush period; default 2000 ms. */
  metricsIntervalMs?: number;
  /** Error burst schedule; default every 5 min for 45 s, the first 2 min in. */
  burst?: BurstSchedule;
  /** Retries per request after the first attempt; default 3. */
  maxRetries?: number;
}

export interface DemoTotals {
  /** Export requests made (retries of one request count once). */
  requests: number;
  /** Items the gateway accepted. */
  spans: number;
  logs: number;
  dataPoints: number;
  /** Requests that failed for good after their retries. */
  errors: number;
}

/** Longest window generated in one tick; after a stall the demo skips ahead instead of flooding. */
const MAX_WINDOW_MS = 10_000;

/**
 * Every 2 s, as statsd-style clients flush: dense enough that an agent's 60 s aggregation
 * window shows what it saves (the SDKs' 60 s default would leave it nothing to merge).
 */
export const DEFAULT_METRICS_INTERVAL_MS = 2_000;

export async function runDemo(options: DemoOptions): Promise<DemoTotals> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const tickMs = options.tickMs ?? 1000;
  const metricsEveryMs = options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
  if (!(tickMs > 0)) throw new RangeError(`tickMs must be > 0, got ${tickMs}`);
  if (!(metricsEveryMs > 0)) throw new RangeError(`metricsIntervalMs must be > 0, got ${metricsEveryMs}`);
  if (options.durationSec !== undefined && !(options.durationSec > 0)) throw new RangeError(`durationSec must be > 0, got ${options.durationSec}`);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const sender = new OtlpHttpSender({ endpoint: options.endpoint ?? DEFAULT_ENDPOINT, apiKey: options.apiKey, log, signal: options.signal, maxRetries: options.maxRetries });
  const startMs = now();
  const workload = new Workload({ seed, startMs, rate: options.rate ?? DEFAULT_RATE, burst: options.burst });
  const endMs = options.durationSec === undefined ? Infinity : startMs + options.durationSec * 1000;
  const totals: DemoTotals = { requests: 0, spans: 0, logs: 0, dataPoints: 0, errors: 0 };
  const b = workload.burst;
  log(`demo: seed ${seed}; payments error burst ${b.firstAfterSec} s in, then every ${b.everySec} s for ${b.lengthSec} s`);

  const send = async (signal: 'traces' | 'logs' | 'metrics', encoded: Uint8Array, items: number): Promise<void> => {
    const r: SendResult = await sender.send(signal, encoded);
    if (r.aborted) return;
    totals.requests++;
    if (!r.ok) {
      totals.errors++;
      return;
    }
    const accepted = items - r.rejected;
    if (signal === 'traces') totals.spans += accepted;
    else if (signal === 'logs') totals.logs += accepted;
    else totals.dataPoints += accepted;
  };

  let windowStart = startMs;
  let nextMetricsMs = startMs;
  let wasBurst = false;
  let lastProgressMs = startMs;
  for (;;) {
    if (options.signal?.aborted) break;
    const tickStart = now();
    const to = Math.min(tickStart, endMs);
    const pending: Array<Promise<void>> = [];
    if (to > windowStart) {
      const from = Math.max(windowStart, to - MAX_WINDOW_MS);
      const w = workload.window(from, to);
      windowStart = to;
      if (w.spanCount > 0) pending.push(send('traces', opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.encode(w.traces).finish(), w.spanCount));
      if (w.logCount > 0) pending.push(send('logs', opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.encode(w.logs).finish(), w.logCount));
    }
    const burstNow = workload.inBurst(to);
    if (burstNow !== wasBurst) {
      log(burstNow ? `demo: error burst started: payments now fails ~40% of charges and is ~3x slower for ${b.lengthSec} s` : 'demo: error burst over: payments back to normal');
      wasBurst = burstNow;
    }
    const done = to >= endMs;
    if (to >= nextMetricsMs || done) {
      const m = workload.metricsAt(to);
      pending.push(send('metrics', opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.encode(m.request).finish(), m.dataPoints));
      while (nextMetricsMs <= to) nextMetricsMs += metricsEveryMs;
    }
    await Promise.all(pending);
    if (to - lastProgressMs >= metricsEveryMs || done) {
      log(`demo: ${Math.round((to - startMs) / 1000)} s: sent ${totals.spans} spans, ${totals.logs} logs, ${totals.dataPoints} data points in ${totals.requests} requests (${totals.errors} failed)`);
      lastProgressMs = to;
    }
    if (done) break;
    const wait = Math.min(tickMs, Math.max(0, tickStart + tickMs - now()), endMs - now());
    if (!(await sleep(Math.max(0, wait), options.signal))) break;
  }
  return totals;
}
