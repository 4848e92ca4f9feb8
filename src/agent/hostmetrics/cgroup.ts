/**
 * The agent's cgroup v2: CPU time, memory and limits of the container it runs in. A container
 * is often limited far below the host, so host memory says little about an OOM kill coming.
 */
import { join } from 'node:path';
import type { ScrapeContext, Scraper } from './context.ts';
import { attrs, gauge, sum, type Point } from './points.ts';
import { fields, lines, whole } from './proc-files.ts';

/**
 * The cgroup folder of the agent: the "0::<path>" line of /proc/self/cgroup under the cgroup2
 * mount. With a cgroup namespace (the default for containers on cgroup v2) the path is "/" and
 * the mount is the container's own cgroup. A path leading outside the namespace ("/../..")
 * cannot be followed, so it falls back to the mount's top as well.
 */
export async function cgroupDir(ctx: Pick<ScrapeContext, 'procRoot' | 'sysRoot' | 'read'>): Promise<string> {
  let path = '/';
  try {
    const line = lines(await ctx.read(join(ctx.procRoot, 'self', 'cgroup'))).find((l) => l.startsWith('0::'));
    if (line && !line.includes('/..')) path = line.slice(3);
  } catch {
    // No /proc/self/cgroup: look at the mount's top.
  }
  return join(ctx.sysRoot, 'fs', 'cgroup', path);
}

/** "usage_usec 123\nuser_usec 100\n..." */
export function parseFlatKeyed(text: string, file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines(text)) {
    const [k, v] = fields(line);
    out.set(k, whole(v, file, k));
  }
  return out;
}

/** memory.max: bytes, or undefined for "max" (no limit). */
export function parseMemoryMax(text: string): number | undefined {
  const v = text.trim();
  return v === 'max' ? undefined : whole(v, 'memory.max', 'limit');
}

/** cpu.max "quota period" as CPUs ("150000 100000" is 1.5), or undefined for "max …" (no limit). */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = fields(text);
  if (quota === 'max') return undefined;
  return whole(quota, 'cpu.max', 'quota') / whole(period, 'cpu.max', 'period');
}

async function optional(read: Promise<string>): Promise<string | undefined> {
  try {
    return await read;
  } catch {
    return undefined;
  }
}

export const cgroupScraper: Scraper = {
  name: 'cgroup',
  async scrape(ctx) {
    const dir = await cgroupDir(ctx);
    let current: string;
    try {
      current = await ctx.read(join(dir, 'memory.current'));
    } catch (e) {
      // The root cgroup (a host, or no cgroup namespace) has no memory.current; neither has cgroup v1.
      throw new Error(`no cgroup v2 memory.current in ${dir} (not in a container, or cgroup v1): ${(e as Error).message}`, { cause: e });
    }
    const [cpuStat, memoryMax, cpuMax] = await Promise.all([
      optional(ctx.read(join(dir, 'cpu.stat'))),
      optional(ctx.read(join(dir, 'memory.max'))),
      optional(ctx.read(join(dir, 'cpu.max'))),
    ]);
    // The cgroup's counters start with it, at about the time the agent starts in it.
    const since = ctx.sinceAgentStart;
    const metrics = [
      sum({ name: 'container.memory.usage', unit: 'By', description: 'Memory charged to the cgroup, page cache included.', int: true }, false, since, [
        [whole(current.trim(), 'memory.current', 'usage'), []],
      ]),
    ];
    if (cpuStat !== undefined) {
      const s = parseFlatKeyed(cpuStat, 'cpu.stat');
      const time: Point[] = [];
      for (const state of ['user', 'system'] as const) {
        const usec = s.get(`${state}_usec`);
        if (usec !== undefined) time.push([usec / 1e6, attrs({ state })]);
      }
      metrics.push(sum({ name: 'container.cpu.time', unit: 's', description: 'CPU seconds used by the cgroup.' }, true, since, time));
    }
    const memoryLimit = memoryMax === undefined ? undefined : parseMemoryMax(memoryMax);
    if (memoryLimit !== undefined) {
      metrics.push(sum({ name: 'container.memory.limit', unit: 'By', description: 'Memory limit of the cgroup (memory.max).', int: true }, false, since, [[memoryLimit, []]]));
    }
    const cpuLimit = cpuMax === undefined ? undefined : parseCpuMax(cpuMax);
    if (cpuLimit !== undefined) {
      metrics.push(gauge({ name: 'container.cpu.limit', unit: '{cpu}', description: 'CPUs the cgroup may use (cpu.max quota / period).' }, ctx.timeNanos, [[cpuLimit, []]]));
    }
    return metrics;
  },
};
