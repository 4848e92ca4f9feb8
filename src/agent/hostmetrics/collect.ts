/** One scrape: every metric set read side by side, each failing alone. */
import { uptime } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { msToNanos } from '../../otlp/index.ts';
import { cgroupScraper } from './cgroup.ts';
import type { ScrapeContext, ScrapeState, Scraper } from './context.ts';
import { cpuScraper } from './cpu.ts';
import { diskScraper } from './disk.ts';
import { filesystemScraper } from './filesystem.ts';
import { loadScraper } from './load.ts';
import { memoryScraper } from './memory.ts';
import { networkScraper } from './network.ts';
import { resolveHostMetricsOptions, type HostMetricsOptions, type Metric } from './options.ts';
import { pagingScraper } from './paging.ts';
import { countDataPoints } from './points.ts';
import { createFileReader, type FileReader } from './proc-files.ts';
import { parseProcStat } from './proc-stat.ts';
import { processesScraper } from './processes.ts';
import { selfScraper } from './self.ts';

/** In output order. */
export const SCRAPERS: readonly Scraper[] = [
  cpuScraper,
  loadScraper,
  memoryScraper,
  pagingScraper,
  diskScraper,
  filesystemScraper,
  networkScraper,
  processesScraper,
  selfScraper,
  cgroupScraper,
];

export interface ScrapeFailure {
  /** The metric set: 'cpu', 'memory', 'cgroup', …; 'selfMetrics' for the agent's pipeline counters. */
  scraper: string;
  error: Error;
}

export interface ScrapeResult {
  metrics: Metric[];
  dataPoints: number;
  failures: ScrapeFailure[];
}

/** Boot time from btime, else from the clock and uptime (a /proc without stat still has a boot). */
async function bootMs(state: ScrapeState, read: FileReader, procRoot: string, nowMs: number): Promise<number> {
  if (state.bootMs === undefined) {
    try {
      state.bootMs = parseProcStat(await read(join(procRoot, 'stat'))).bootTimeSec * 1000;
    } catch {
      state.bootMs = Math.round((nowMs - uptime() * 1000) / 1000) * 1000;
    }
  }
  return state.bootMs;
}

/**
 * Reads every metric set once. Call it again with the same state for the next interval: CPU
 * utilization needs the previous reading, so it is absent from the first result.
 */
export async function collectHostMetrics(state: ScrapeState, options: HostMetricsOptions = {}): Promise<ScrapeResult> {
  const o = resolveHostMetricsOptions(options);
  const nowMs = o.now();
  const read = createFileReader();
  const timeNanos = msToNanos(nowMs);
  const ctx: ScrapeContext = {
    procRoot: o.procRoot,
    sysRoot: o.sysRoot,
    read,
    timeNanos,
    sinceBoot: { timeNanos, startNanos: msToNanos(await bootMs(state, read, o.procRoot, nowMs)) },
    // timeOrigin is when this process started, on the wall clock.
    sinceAgentStart: { timeNanos, startNanos: msToNanos(Math.floor(performance.timeOrigin)) },
    state,
  };
  const settled = await Promise.allSettled(SCRAPERS.map((s) => s.scrape(ctx)));
  const metrics: Metric[] = [];
  const failures: ScrapeFailure[] = [];
  settled.forEach((r, i) => {
    // A set with nothing to report (no disks in a container) sends no empty metric.
    if (r.status === 'fulfilled') metrics.push(...r.value.filter((m) => countDataPoints([m]) > 0));
    else failures.push({ scraper: SCRAPERS[i].name, error: r.reason instanceof Error ? r.reason : new Error(String(r.reason)) });
  });
  if (o.selfMetrics) {
    try {
      metrics.push(...o.selfMetrics());
    } catch (e) {
      failures.push({ scraper: 'selfMetrics', error: e instanceof Error ? e : new Error(String(e)) });
    }
  }
  return { metrics, dataPoints: countDataPoints(metrics), failures };
}
