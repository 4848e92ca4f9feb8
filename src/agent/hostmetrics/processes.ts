/**
 * Process and thread counts from /proc/stat and /proc/loadavg: two reads, where counting the
 * /proc/<pid> folders would list thousands of entries on a busy host.
 *
 * The "total" of /proc/loadavg counts threads, not processes, so it becomes system.thread.count;
 * system.processes.count carries only the states the kernel counts cheaply (running, blocked),
 * as the Collector does on Linux. A "total" status beside them would double-count any sum over status.
 */
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { parseLoadavg } from './load.ts';
import { attrs, sum } from './points.ts';
import { parseProcStat } from './proc-stat.ts';

export const processesScraper: Scraper = {
  name: 'processes',
  async scrape(ctx) {
    const [statText, loadText] = await Promise.all([ctx.read(join(ctx.procRoot, 'stat')), ctx.read(join(ctx.procRoot, 'loadavg'))]);
    const stat = parseProcStat(statText);
    const load = parseLoadavg(loadText);
    return [
      sum(
        { name: 'system.processes.count', unit: '{processes}', description: 'Tasks running or blocked on I/O.', int: true },
        false,
        ctx.sinceBoot,
        [
          [stat.procsRunning, attrs({ status: 'running' })],
          [stat.procsBlocked, attrs({ status: 'blocked' })],
        ],
      ),
      sum(
        { name: 'system.processes.created', unit: '{processes}', description: 'Processes and threads created since boot.', int: true },
        true,
        ctx.sinceBoot,
        [[stat.processesCreated, []]],
      ),
      sum(
        { name: 'system.thread.count', unit: '{thread}', description: 'Threads on the host, all processes.', int: true },
        false,
        ctx.sinceBoot,
        [[load.threads, []]],
      ),
    ];
  },
};
