import { Gauge, type Registry } from 'prom-client';
import type { Bus } from './types.ts';

/**
 * `ollystack_bus_consumer_lag{group,topic}`: records produced but not yet committed by a
 * consumer group, read from the bus at scrape time so it is never stale.
 */
export function registerLagMetric(registry: Registry, bus: Bus, groups: Array<{ groupId: string; topics: string[] }>): void {
  new Gauge({
    name: 'ollystack_bus_consumer_lag',
    help: 'Records on the bus not yet committed by a consumer group',
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      for (const { groupId, topics } of groups) {
        for (const topic of topics) {
          try {
            const partitions = await bus.lag(groupId, topic);
            let lag = 0;
            for (const p of partitions) lag += p.lag;
            this.set({ group: groupId, topic }, lag);
          } catch {
            // A bus that cannot answer now leaves the last value; its errors show elsewhere.
          }
        }
      }
    },
  });
}
