/** The 'hostmetrics' receiver: a scrape at start and every interval, one metrics batch per scrape. */
import type { KeyValue } from '../../otlp/index.ts';
import type { ComponentStats, Consumer, Receiver, Telemetry } from '../types.ts';
import { collectHostMetrics, type ScrapeFailure } from './collect.ts';
import { createScrapeState } from './context.ts';
import { detectHostAttributes } from './host-attributes.ts';
import { resolveHostMetricsOptions, type HostMetricsOptions, type Metric, type ResolvedHostMetricsOptions } from './options.ts';

export const SCOPE = { name: 'ollystack.agent.hostmetrics', version: '0.1.0' } as const;

/** Detected attributes, with the configured extras added and replacing any detected key they share. */
export function mergeAttributes(detected: KeyValue[], extra: KeyValue[]): KeyValue[] {
  const extraKeys = new Set(extra.map((kv) => kv.key));
  return [...detected.filter((kv) => !extraKeys.has(kv.key)), ...extra];
}

export function metricsBatch(resource: KeyValue[], metrics: Metric[], dataPoints: number): Telemetry {
  return {
    signal: 'metrics',
    request: { resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope: { ...SCOPE }, metrics }] }] },
    items: dataPoints,
  };
}

class HostMetricsReceiver implements Receiver {
  readonly name = 'hostmetrics';
  private readonly options: ResolvedHostMetricsOptions;
  private readonly state = createScrapeState();
  /** Problems already logged; one is logged again only after it went away and came back. */
  private readonly reported = new Set<string>();
  private readonly counters = { scrapes: 0, scrapeErrors: 0, dataPoints: 0, skippedTicks: 0, consumeErrors: 0 };
  private next: Consumer | undefined;
  private resource: KeyValue[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(options: ResolvedHostMetricsOptions) {
    this.options = options;
  }

  async start(next: Consumer): Promise<void> {
    if (this.next) throw new Error('hostmetrics: start() called twice');
    this.next = next;
    this.resource = mergeAttributes(await detectHostAttributes(this.options), this.options.extraResourceAttributes);
    if (this.stopped) return;
    this.tick();
    // unref: a pending scrape must not keep the agent alive once everything else has shut down.
    this.timer = setInterval(() => this.tick(), this.options.intervalMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  stats(): ComponentStats {
    return { ...this.counters };
  }

  private tick(): void {
    // A scrape slower than the interval (a slow disk under statfs, a consumer applying back-pressure) is not overlapped.
    if (this.inFlight) {
      this.counters.skippedTicks++;
      return;
    }
    this.inFlight = this.scrapeAndSend().finally(() => {
      this.inFlight = undefined;
    });
  }

  private report(key: string, failing: boolean, line: () => string): void {
    if (!failing) this.reported.delete(key);
    else if (!this.reported.has(key)) {
      this.reported.add(key);
      this.options.log(line());
    }
  }

  private async scrapeAndSend(): Promise<void> {
    let metrics: Metric[];
    let dataPoints: number;
    let failures: ScrapeFailure[];
    try {
      ({ metrics, dataPoints, failures } = await collectHostMetrics(this.state, this.options));
    } catch (e) {
      this.counters.scrapeErrors++;
      this.report('scrape', true, () => `hostmetrics: scrape failed: ${(e as Error).message}`);
      return;
    }
    this.counters.scrapes++;
    this.counters.scrapeErrors += failures.length;
    this.report('scrape', false, () => '');
    const failed = new Set(failures.map((f) => `set:${f.scraper}`));
    for (const key of this.reported) if (key.startsWith('set:') && !failed.has(key)) this.report(key, false, () => '');
    for (const { scraper, error } of failures) {
      this.report(`set:${scraper}`, true, () => `hostmetrics: ${scraper} metrics skipped: ${error.message}`);
    }
    // A scrape that stop() is waiting for still delivers: its data was read and is as good as any.
    if (dataPoints === 0 || !this.next) return;
    this.counters.dataPoints += dataPoints;
    try {
      await this.next.consume(metricsBatch(this.resource, metrics, dataPoints));
      this.report('consume', false, () => '');
    } catch (e) {
      // Host metrics are re-read next interval and their counters are cumulative: a lost batch leaves a gap, not an error in the totals.
      this.counters.consumeErrors++;
      this.report('consume', true, () => `hostmetrics: batch dropped, next component refused it: ${(e as Error).message}`);
    }
  }
}

export function createHostMetricsReceiver(options: HostMetricsOptions = {}): Receiver {
  return new HostMetricsReceiver(resolveHostMetricsOptions(options));
}
