/**
 * The metric aggregation processor: metrics from applications and the host are merged per
 * series over a window (default 60 s) and sent on once per window, with cardinality limits
 * folding runaway series into one overflow series per metric. Other signals pass through.
 *
 * The window lives in memory only: consume() resolves as soon as a batch is merged, so a crash
 * loses at most one window of metrics, as with the OpenTelemetry Collector's interval processor.
 * Memory is bounded by the limits: series per metric name and values per attribute per window.
 */
import type { Processor, SourceCheckpoint, Telemetry } from '../types.ts';
import { toBatches, type MetricsBatch } from './batches.ts';
import { CardinalityLimiter } from './cardinality.ts';
import { AGENT_SCOPE, FoldCounter, OVERFLOW_ATTRIBUTE } from './fold-counter.ts';
import { resolveAggregatorOptions, type AggregatorOptions, type ResolvedAggregatorOptions } from './options.ts';
import { AggregationWindow, type Fold, type ResourceOutput } from './window.ts';

interface Counts {
  pointsIn: number;
  pointsOut: number;
  pointsFolded: number;
  /** Points of windows the next component did not take. */
  pointsDropped: number;
  windows: number;
}

class MetricAggregator implements Processor {
  readonly name = 'aggregate';
  private readonly o: ResolvedAggregatorOptions;
  private readonly window = new AggregationWindow();
  private readonly limiter: CardinalityLimiter;
  private readonly folds = new FoldCounter();
  /** The newest checkpoint per source among this window's batches (a later one covers an earlier). */
  private checkpoints = new Map<string, SourceCheckpoint>();
  private readonly timer: NodeJS.Timeout;
  /** Windows are sent one after the other, in order. */
  private sending: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly counts: Counts = { pointsIn: 0, pointsOut: 0, pointsFolded: 0, pointsDropped: 0, windows: 0 };

  constructor(options: AggregatorOptions) {
    this.o = resolveAggregatorOptions(options);
    this.limiter = new CardinalityLimiter(this.o.maxSeriesPerMetric, this.o.maxValuesPerAttribute);
    // A failed window was logged and counted in send(); the timer has nobody else to tell.
    this.timer = setInterval(() => this.flush().catch(() => {}), this.o.windowMs);
    this.timer.unref();
  }

  async consume(batch: Telemetry): Promise<void> {
    if (batch.signal !== 'metrics') return this.o.next.consume(batch);
    if (this.stopped) throw new Error('aggregate: the processor is stopped; the metrics batch was not taken');
    this.counts.pointsIn += this.window.add(batch.request, this.limiter, (fold) => this.onFold(fold));
    if (batch.checkpoint) this.checkpoints.set(batch.checkpoint.source, batch.checkpoint);
  }

  flush(): Promise<void> {
    const batches = this.closeWindow();
    const run = this.sending.then(() => this.send(batches));
    this.sending = run.catch(() => {});
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.flush();
  }

  stats(): Record<string, number> {
    return { ...this.counts, seriesActive: this.window.series };
  }

  private onFold(fold: Fold): void {
    this.counts.pointsFolded++;
    const first = this.folds.add(fold.resourceKey, fold.resource, fold.schemaUrl, fold.metric, fold.refusal.reason, this.o.now());
    if (!first) return;
    const limit =
      fold.refusal.reason === 'series_limit'
        ? `more than ${this.o.maxSeriesPerMetric} series in a window`
        : `more than ${this.o.maxValuesPerAttribute} values of attribute ${JSON.stringify(fold.refusal.attribute)} in a window`;
    this.o.log(`metric ${JSON.stringify(fold.metric)} has ${limit}; new series fold into its overflow series (${OVERFLOW_ATTRIBUTE}=true)`);
  }

  /** Drains the window into batches (the fold counter and checkpoints included) and starts a new one. */
  private closeWindow(): MetricsBatch[] {
    if (this.window.points === 0 && this.checkpoints.size === 0) return [];
    const resources = this.window.drain();
    this.limiter.clear();
    if (resources.length > 0) {
      this.counts.windows++;
      addFoldReports(resources, this.folds, this.o.now());
    }
    const batches = toBatches(resources, this.o.maxPointsPerBatch);
    // A checkpoint rides on the window's last batch (one per batch; extra ones on empty
    // batches), so the exporter stores it only with, or after, all of the window's points.
    const checkpoints = [...this.checkpoints.values()];
    this.checkpoints = new Map();
    let next = 0;
    if (checkpoints.length > 0 && batches.length > 0) batches[batches.length - 1].checkpoint = checkpoints[next++];
    for (; next < checkpoints.length; next++) batches.push({ request: { resourceMetrics: [] }, items: 0, checkpoint: checkpoints[next] });
    return batches;
  }

  /**
   * Hands batches on in order. One not taken is counted and logged, and the rest still go;
   * the first failure is thrown at the end. (A window that failed loses its checkpoints too:
   * the next window's checkpoint of the same source supersedes them.)
   */
  private async send(batches: MetricsBatch[]): Promise<void> {
    let firstError: unknown;
    for (const b of batches) {
      const telemetry: Telemetry = { signal: 'metrics', request: b.request, items: b.items };
      if (b.checkpoint) telemetry.checkpoint = b.checkpoint;
      try {
        await this.o.next.consume(telemetry);
        this.counts.pointsOut += b.items;
      } catch (err) {
        this.counts.pointsDropped += b.items;
        firstError ??= err;
        this.o.log(`dropped ${b.items} aggregated data points: the next component did not take them (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    if (firstError !== undefined) throw firstError;
  }
}

/** Puts the folded-points counter under each resource that had folds, in the agent's own scope. */
function addFoldReports(resources: ResourceOutput[], folds: FoldCounter, nowMs: number): void {
  for (const report of folds.report(nowMs)) {
    let r = resources.find((x) => x.resourceKey === report.resourceKey);
    if (r === undefined) {
      r = { resourceKey: report.resourceKey, resource: report.resource, schemaUrl: report.schemaUrl, scopes: [] };
      resources.push(r);
    }
    r.scopes.push({ scope: AGENT_SCOPE, schemaUrl: '', metrics: [report.metric] });
  }
}

export function createMetricAggregator(options: AggregatorOptions): Processor {
  return new MetricAggregator(options);
}
