/** The agent's own CPU, memory and threads, so its 25%-of-a-core and 100 MB budgets can be watched. */
import { join } from 'node:path';
import type { ScrapeContext, Scraper } from './context.ts';
import { attrs, sum } from './points.ts';
import { kbTable } from './proc-files.ts';

interface ProcessStatus {
  rssBytes: number;
  virtualBytes: number | undefined;
  threads: number | undefined;
}

/** VmRSS, VmSize and Threads from /proc/self/status, or RSS from Node where that file is not readable. */
async function readStatus(ctx: ScrapeContext): Promise<ProcessStatus> {
  let t: Map<string, number>;
  try {
    t = kbTable(await ctx.read(join(ctx.procRoot, 'self', 'status')));
  } catch {
    t = new Map();
  }
  return {
    rssBytes: t.get('VmRSS') ?? process.memoryUsage.rss(),
    virtualBytes: t.get('VmSize'),
    threads: t.get('Threads'),
  };
}

export const selfScraper: Scraper = {
  name: 'process',
  async scrape(ctx) {
    const cpu = process.cpuUsage();
    const status = await readStatus(ctx);
    const since = ctx.sinceAgentStart;
    const metrics = [
      sum({ name: 'process.cpu.time', unit: 's', description: 'CPU seconds the agent has used.' }, true, since, [
        [cpu.user / 1e6, attrs({ state: 'user' })],
        [cpu.system / 1e6, attrs({ state: 'system' })],
      ]),
      sum({ name: 'process.memory.usage', unit: 'By', description: "The agent's resident memory (RSS).", int: true }, false, since, [[status.rssBytes, []]]),
    ];
    if (status.virtualBytes !== undefined) {
      metrics.push(sum({ name: 'process.memory.virtual', unit: 'By', description: "The agent's virtual memory size.", int: true }, false, since, [[status.virtualBytes, []]]));
    }
    if (status.threads !== undefined) {
      metrics.push(sum({ name: 'process.threads', unit: '{threads}', description: "The agent's threads.", int: true }, false, since, [[status.threads, []]]));
    }
    return metrics;
  },
};
