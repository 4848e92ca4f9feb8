/**
 * Options of the Kafka bus, validated once at creation so a bad value fails at start with
 * an error naming the option, and resolved to the values every other file reads.
 */
import type { BusLogger } from '../embedded/logger.ts';
import { silentLogger } from '../embedded/logger.ts';

export type KafkaCompression = 'lz4' | 'zstd' | 'none';

export interface KafkaBusOptions {
  /** Bootstrap brokers as `host:port`. */
  brokers: string[];
  /** Kafka client id (shows in broker logs and quotas). Default 'ollystack'. */
  clientId?: string;
  /** Replicas of topics created by ensureTopics; capped to the brokers present. Default 3. */
  replicationFactor?: number;
  /**
   * Record batch compression. Default 'lz4': @platformatic/kafka compresses lz4 in
   * WebAssembly it ships (no native package), and faster than zstd (Node's zlib) on telemetry.
   */
  compression?: KafkaCompression;
  /** A produce call not acknowledged by then is rejected (the gateway answers 503). Default 5000. */
  produceTimeoutMs?: number;
  /** TCP connect timeout towards a broker. Default 5000. */
  connectTimeoutMs?: number;
  /** Bound of admin calls, commits, committed offset reads and group joins. Default 10000. */
  operationTimeoutMs?: number;
  logger?: BusLogger;
}

export interface ResolvedKafkaOptions {
  brokers: string[];
  clientId: string;
  replicationFactor: number;
  compression: KafkaCompression;
  produceTimeoutMs: number;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  logger: BusLogger;
}

const COMPRESSIONS: readonly KafkaCompression[] = ['lz4', 'zstd', 'none'];

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`createKafkaBus: ${name} must be a positive integer, got ${value}`);
  return value;
}

export function resolveKafkaOptions(options: KafkaBusOptions): ResolvedKafkaOptions {
  if (options === null || typeof options !== 'object') throw new Error('createKafkaBus: options must be an object');
  const { brokers } = options;
  if (!Array.isArray(brokers) || brokers.length === 0) throw new Error('createKafkaBus: brokers must be a non-empty array of host:port');
  brokers.forEach((b, i) => {
    if (typeof b !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(b)) throw new Error(`createKafkaBus: brokers[${i}] must be host:port, got ${JSON.stringify(b)}`);
  });
  const clientId = options.clientId ?? 'ollystack';
  if (typeof clientId !== 'string' || clientId === '') throw new Error('createKafkaBus: clientId must be a non-empty string');
  const compression = options.compression ?? 'lz4';
  if (!COMPRESSIONS.includes(compression)) throw new Error(`createKafkaBus: compression must be one of ${COMPRESSIONS.join(', ')}, got ${JSON.stringify(compression)}`);
  return {
    brokers: [...brokers],
    clientId,
    replicationFactor: positiveInt('replicationFactor', options.replicationFactor, 3),
    compression,
    produceTimeoutMs: positiveInt('produceTimeoutMs', options.produceTimeoutMs, 5_000),
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs, 5_000),
    operationTimeoutMs: positiveInt('operationTimeoutMs', options.operationTimeoutMs, 10_000),
    logger: options.logger ?? silentLogger,
  };
}
