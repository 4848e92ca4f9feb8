/** /proc/loadavg: the load averages, and the kernel's count of runnable and existing threads. */
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { gauge } from './points.ts';
import { decimal, fields, whole } from './proc-files.ts';

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  /** Scheduling entities (threads, not processes) runnable now. */
  runnable: number;
  /** Scheduling entities that exist: every thread of every process. */
  threads: number;
}

const FILE = '/proc/loadavg';

/** "0.20 0.18 0.12 1/80 11206" */
export function parseLoadavg(text: string): LoadAvg {
  const cols = fields(text);
  const [runnable, threads] = (cols[3] ?? '').split('/');
  return {
    load1: decimal(cols[0], FILE, '1m load'),
    load5: decimal(cols[1], FILE, '5m load'),
    load15: decimal(cols[2], FILE, '15m load'),
    runnable: whole(runnable, FILE, 'runnable count'),
    threads: whole(threads, FILE, 'thread count'),
  };
}

export const loadScraper: Scraper = {
  name: 'load',
  async scrape(ctx) {
    const load = parseLoadavg(await ctx.read(join(ctx.procRoot, 'loadavg')));
    const spec = (window: string) => ({
      name: `system.cpu.load_average.${window}`,
      unit: '{thread}',
      description: `Average ${window} CPU load (runnable and uninterruptible threads).`,
    });
    return [
      gauge(spec('1m'), ctx.timeNanos, [[load.load1, []]]),
      gauge(spec('5m'), ctx.timeNanos, [[load.load5, []]]),
      gauge(spec('15m'), ctx.timeNanos, [[load.load15, []]]),
    ];
  },
};
