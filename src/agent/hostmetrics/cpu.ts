/** CPU: time per CPU and state, utilisation per state across all CPUs, and the CPU count. */
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { attrs, gauge, sum, type Point } from './points.ts';
import { CPU_STATES, USER_HZ, parseProcStat, type CpuState, type CpuTicks } from './proc-stat.ts';

/**
 * Share of CPU time spent in each state between two readings of the all-CPU line, 0..1,
 * summing to 1; undefined when no tick passed. A state that went backwards (iowait does on
 * some kernels, when a CPU goes idle on another core) counts as 0 rather than negative.
 */
export function cpuUtilization(prev: CpuTicks, cur: CpuTicks): Record<CpuState, number> | undefined {
  const delta = {} as Record<CpuState, number>;
  let total = 0;
  for (const s of CPU_STATES) {
    delta[s] = Math.max(0, cur[s] - prev[s]);
    total += delta[s];
  }
  if (total === 0) return undefined;
  for (const s of CPU_STATES) delta[s] /= total;
  return delta;
}

export const cpuScraper: Scraper = {
  name: 'cpu',
  async scrape(ctx) {
    const stat = parseProcStat(await ctx.read(join(ctx.procRoot, 'stat')));
    const timePoints: Point[] = [];
    for (const { cpu, ticks } of stat.cpus) {
      for (const state of CPU_STATES) timePoints.push([ticks[state] / USER_HZ, attrs({ cpu, state })]);
    }
    const metrics = [
      sum({ name: 'system.cpu.time', unit: 's', description: 'Seconds each logical CPU spent on each mode.' }, true, ctx.sinceBoot, timePoints),
      sum(
        { name: 'system.cpu.logical.count', unit: '{cpu}', description: 'Number of online logical CPUs.', int: true },
        false,
        ctx.sinceBoot,
        [[stat.cpus.length, []]],
      ),
    ];
    const util = ctx.state.cpu && cpuUtilization(ctx.state.cpu, stat.total);
    if (util) {
      metrics.push(
        gauge(
          { name: 'system.cpu.utilization', unit: '1', description: 'Share of time all CPUs spent in each state since the previous scrape.' },
          ctx.timeNanos,
          CPU_STATES.map((state) => [util[state], attrs({ state })]),
        ),
      );
    }
    ctx.state.cpu = stat.total;
    return metrics;
  },
};
