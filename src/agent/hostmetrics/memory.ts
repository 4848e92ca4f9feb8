/** /proc/meminfo: memory by state, and its total. */
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { attrs, gauge, sum, type Point } from './points.ts';
import { kbTable, required } from './proc-files.ts';

export interface MemoryStates {
  total: number;
  used: number;
  free: number;
  buffered: number;
  cached: number;
  slab_reclaimable: number;
  slab_unreclaimable: number;
}

const FILE = '/proc/meminfo';

/**
 * Bytes per state, chosen so the states add up to MemTotal (a stacked chart shows the whole
 * machine): "used" is what is left after free, buffers, page cache and kernel slab, which is
 * mostly process memory. The Collector's states overlap (its cached includes reclaimable slab).
 */
export function memoryStates(meminfo: string): MemoryStates {
  const t = kbTable(meminfo);
  const total = required(t, 'MemTotal', FILE);
  const free = required(t, 'MemFree', FILE);
  const buffered = t.get('Buffers') ?? 0;
  const cached = t.get('Cached') ?? 0;
  const slabReclaimable = t.get('SReclaimable') ?? 0;
  const slabUnreclaimable = t.get('SUnreclaim') ?? 0;
  return {
    total,
    used: Math.max(0, total - free - buffered - cached - slabReclaimable - slabUnreclaimable),
    free,
    buffered,
    cached,
    slab_reclaimable: slabReclaimable,
    slab_unreclaimable: slabUnreclaimable,
  };
}

const STATES = ['used', 'free', 'buffered', 'cached', 'slab_reclaimable', 'slab_unreclaimable'] as const;

export const memoryScraper: Scraper = {
  name: 'memory',
  async scrape(ctx) {
    const m = memoryStates(await ctx.read(join(ctx.procRoot, 'meminfo')));
    const usage: Point[] = STATES.map((state) => [m[state], attrs({ state })]);
    const metrics = [
      sum({ name: 'system.memory.usage', unit: 'By', description: 'Bytes of memory in each state.', int: true }, false, ctx.sinceBoot, usage),
      sum({ name: 'system.memory.limit', unit: 'By', description: 'Total memory the kernel manages.', int: true }, false, ctx.sinceBoot, [[m.total, []]]),
    ];
    if (m.total > 0) {
      metrics.push(
        gauge(
          { name: 'system.memory.utilization', unit: '1', description: 'Share of memory in each state.' },
          ctx.timeNanos,
          STATES.map((state) => [m[state] / m.total, attrs({ state })]),
        ),
      );
    }
    return metrics;
  },
};
