/** What every scraper gets: where to read, when the scrape happens, and what the last scrape left. */
import type { Nanos } from '../../otlp/index.ts';
import type { PointTimes } from './points.ts';
import type { FileReader } from './proc-files.ts';
import type { CpuTicks } from './proc-stat.ts';
import type { Metric } from './options.ts';

/** Carried from one scrape to the next; one per receiver. */
export interface ScrapeState {
  /** All-CPU ticks of the previous scrape, for system.cpu.utilization. */
  cpu?: CpuTicks;
  /**
   * Boot time, read once: the kernel derives btime from the clock minus uptime, so it can move
   * by a second between reads, and a moving start time would look like a counter reset.
   */
  bootMs?: number;
}

export function createScrapeState(): ScrapeState {
  return {};
}

export interface ScrapeContext {
  procRoot: string;
  sysRoot: string;
  read: FileReader;
  timeNanos: Nanos;
  /** For host counters: they count since boot. */
  sinceBoot: PointTimes;
  /** For the agent's own counters (and its cgroup's): they count since the agent started. */
  sinceAgentStart: PointTimes;
  state: ScrapeState;
}

/** One metric set that is read, and fails, on its own. */
export interface Scraper {
  name: string;
  scrape(ctx: ScrapeContext): Promise<Metric[]>;
}
