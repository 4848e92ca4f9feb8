/**
 * Opens the engines a configuration names: the bus (embedded log or Kafka), the store (chDB
 * or a ClickHouse server, migrated) and the key resolver. Every process, embedded or not,
 * goes through here, so a setting means the same thing everywhere.
 */
import { join, resolve } from 'node:path';
import { createEmbeddedBus, createKafkaBus, defaultTopicSpecs, type Bus } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../selfobs/index.ts';
import { createStore, migrate, type Store } from '../storage/index.ts';

/**
 * Kafka wants many partitions: they bound how many consumers share a topic. The embedded bus
 * has one consumer per group, in one process, so it gains nothing from more than one; and one
 * partition lets the storage consumer's batches, so the parts the store writes and merges, be
 * as large as the rate allows (a part per partition and batch; see README, "Design notes").
 */
export function busPartitions(config: Config): number {
  return config.bus.partitions ?? (config.bus.url === 'embedded' ? 1 : 32);
}

/** `kafka://h1:9092,h2:9092` → ['h1:9092', 'h2:9092']; the port defaults to 9092. */
export function kafkaBrokers(url: string): string[] {
  const list = url.replace(/^kafka:\/\//, '').replace(/\/$/, '');
  return list.split(',').map((hostPort) => (/:\d+$/.test(hostPort) ? hostPort : `${hostPort}:9092`));
}

/** Opens the configured bus and creates the architecture's topics when missing. */
export async function openBus(config: Config, logger: Logger, clientId: string): Promise<Bus> {
  const partitions = busPartitions(config);
  const busLogger = logger.child({ component: 'bus' });
  const bus =
    config.bus.url === 'embedded'
      ? await createEmbeddedBus({ dir: join(resolve(config.dataDir), 'bus'), defaultPartitions: partitions, logger: busLogger })
      : await createKafkaBus({
          brokers: kafkaBrokers(config.bus.url),
          clientId,
          replicationFactor: config.bus.replicationFactor,
          compression: config.bus.compression,
          logger: busLogger,
        });
  try {
    await bus.ensureTopics(defaultTopicSpecs(partitions));
  } catch (err) {
    await bus.close().catch(() => undefined);
    throw err;
  }
  return bus;
}

export function storeUrl(config: Config): string {
  return config.store.url ?? `chdb://${join(resolve(config.dataDir), 'chdb')}`;
}

/** Opens the configured store and brings its schema up to date (idempotent, safe from several processes). */
export async function openStore(config: Config, logger: Logger): Promise<Store> {
  const store = await createStore({ url: storeUrl(config) });
  try {
    await migrate(store, config.store.retentionDays, logger.child({ component: 'migrate' }), { cluster: config.store.cluster });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
