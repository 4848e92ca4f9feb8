export type * from './types.ts';
export * from './topics.ts';
export { createEmbeddedBus } from './embedded/embedded-bus.ts';
export type { EmbeddedBusOptions } from './embedded/embedded-bus.ts';
export type { BusLogger } from './embedded/logger.ts';
export { kafkaPartitionForKey, murmur2 } from './embedded/partitioner.ts';
export { registerLagMetric } from './lag-metric.ts';
export { createKafkaBus } from './kafka/kafka-bus.ts';
export type { KafkaBusOptions, KafkaCompression } from './kafka/kafka-bus.ts';
