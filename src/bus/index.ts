export type * from './types.ts';
export * from './topics.ts';
export { createEmbeddedBus } from './embedded/embedded-bus.ts';
export type { EmbeddedBusOptions } from './embedded/embedded-bus.ts';
export type { BusLogger } from './embedded/logger.ts';
export { kafkaPartitionForKey, keyForPartition, murmur2 } from './embedded/partitioner.ts';
export { registerLagMetric } from './lag-metric.ts';
export { GroupHasMembersError } from './errors.ts';
export type { KafkaBusOptions, KafkaCompression } from './kafka/kafka-bus.ts';
import type { KafkaBusOptions } from './kafka/kafka-bus.ts';
import type { Bus } from './types.ts';

/**
 * The Kafka bus, loaded when first asked for: the Kafka client is about 50 MB of a process's
 * memory, which the embedded stack and the agent (whose disk buffer is the embedded bus) never need.
 */
export async function createKafkaBus(options: KafkaBusOptions): Promise<Bus> {
  const kafka = await import('./kafka/kafka-bus.ts');
  return kafka.createKafkaBus(options);
}
