/** Swap space from /proc/meminfo: one read, where /proc/swaps would split it per device. */
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { attrs, gauge, sum } from './points.ts';
import { kbTable, required } from './proc-files.ts';

const FILE = '/proc/meminfo';

export const pagingScraper: Scraper = {
  name: 'paging',
  async scrape(ctx) {
    const t = kbTable(await ctx.read(join(ctx.procRoot, 'meminfo')));
    const total = required(t, 'SwapTotal', FILE);
    const free = required(t, 'SwapFree', FILE);
    const used = Math.max(0, total - free);
    const metrics = [
      sum({ name: 'system.paging.usage', unit: 'By', description: 'Swap space in use and free.', int: true }, false, ctx.sinceBoot, [
        [used, attrs({ state: 'used' })],
        [free, attrs({ state: 'free' })],
      ]),
    ];
    // A host without swap reports usage 0/0 (worth seeing) but no utilization (0/0 has none).
    if (total > 0) {
      metrics.push(
        gauge({ name: 'system.paging.utilization', unit: '1', description: 'Share of swap space in use and free.' }, ctx.timeNanos, [
          [used / total, attrs({ state: 'used' })],
          [free / total, attrs({ state: 'free' })],
        ]),
      );
    }
    return metrics;
  },
};
