/**
 * The Bus on Apache Kafka 4 (@platformatic/kafka): idempotent acks=all producer behind a
 * merging queue (produce-queue.ts), KIP-848 consumer groups (kafka-consumer.ts), topics with
 * retention-aware segments (topic-admin.ts). Nothing outside src/bus knows it is Kafka.
 *
 * Creating the bus does no I/O: it works as soon as a broker answers, and keeps working
 * across broker restarts without being recreated.
 */
import { Admin, ConnectionPool } from '@platformatic/kafka';
import type { Bus, CommittedOffset, Consumer, ConsumerOptions, PartitionLag, ProduceRecord, TopicName, TopicPartition, TopicSpec } from '../types.ts';
import type { BusLogger } from '../embedded/logger.ts';
import { validateTopicName } from '../embedded/topic-store.ts';
import { ClusterView, EARLIEST, LATEST, type TopicInfo } from './cluster.ts';
import { GroupCoordinator, parseBroker, type BrokerAddress } from './coordinator.ts';
import { withTimeout } from './errors.ts';
import { commitOffsets, fetchCommitted, offsetKey, validateCommits } from './group-offsets.ts';
import { KafkaConsumer, type KafkaConsumerHost } from './kafka-consumer.ts';
import { resolveKafkaOptions, type KafkaBusOptions, type ResolvedKafkaOptions } from './options.ts';
import { ProduceQueue } from './produce-queue.ts';
import { toKafkaMessages } from './records.ts';
import { TopicAdmin } from './topic-admin.ts';

export type { KafkaBusOptions, KafkaCompression } from './options.ts';

/** Coordinators kept for lag() and setCommitted() of other groups (a lookup each otherwise). */
const MAX_CACHED_COORDINATORS = 64;

export async function createKafkaBus(options: KafkaBusOptions): Promise<Bus> {
  return new KafkaBus(resolveKafkaOptions(options));
}

class KafkaBus implements Bus, KafkaConsumerHost {
  readonly logger: BusLogger;
  readonly clientId: string;
  readonly bootstrap: BrokerAddress[];
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly cluster: ClusterView;
  private readonly options: ResolvedKafkaOptions;
  private readonly admin: Admin;
  private readonly topicAdmin: TopicAdmin;
  private readonly produceQueue: ProduceQueue;
  private readonly groupPool: ConnectionPool;
  private readonly coordinators = new Map<string, GroupCoordinator>();
  private readonly consumers = new Set<KafkaConsumer>();
  /** Topics known to exist: produce checks a topic once, so one bad topic cannot fail a merged request. */
  private readonly knownTopics = new Set<string>();
  private readonly producing = new Set<Promise<void>>();
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(options: ResolvedKafkaOptions) {
    this.options = options;
    this.logger = options.logger;
    this.clientId = options.clientId;
    this.bootstrap = options.brokers.map(parseBroker);
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.operationTimeoutMs = options.operationTimeoutMs;
    this.admin = new Admin({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      connectTimeout: options.connectTimeoutMs,
      timeout: options.operationTimeoutMs,
      requestTimeout: options.operationTimeoutMs,
      // Few quick retries: callers bound their own waits, and a down cluster should answer fast.
      retries: 2,
      retryDelay: 250,
    });
    this.cluster = new ClusterView(this.admin);
    this.topicAdmin = new TopicAdmin(this.admin, this.cluster, options);
    this.produceQueue = new ProduceQueue(options);
    this.groupPool = new ConnectionPool(options.clientId, { connectTimeout: options.connectTimeoutMs, requestTimeout: options.operationTimeoutMs });
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen('ensureTopics');
    await this.topicAdmin.ensureTopics(specs);
    for (const spec of specs) this.knownTopics.add(spec.name);
  }

  produce(topic: TopicName, records: ProduceRecord[]): Promise<void> {
    const done = this.send(topic, records);
    // close() waits for calls accepted before it.
    this.producing.add(done);
    const forget = () => this.producing.delete(done);
    done.then(forget, forget);
    return done;
  }

  private async send(topic: TopicName, records: ProduceRecord[]): Promise<void> {
    this.assertOpen('produce');
    validateTopicName(topic, 'produce: topic');
    const now = Date.now();
    const deadline = now + this.options.produceTimeoutMs;
    const { messages, bytes } = toKafkaMessages(topic, records, now);
    if (messages.length === 0) return;
    if (!this.knownTopics.has(topic)) {
      const info = await withTimeout(
        this.cluster.topic(topic),
        deadline - Date.now(),
        () => `produce: Kafka did not answer within ${this.options.produceTimeoutMs} ms; is a broker reachable at ${this.options.brokers.join(', ')}?`,
      );
      if (info === null) throw new Error(`produce: unknown topic ${JSON.stringify(topic)}; create it with ensureTopics`);
      this.knownTopics.add(topic);
    }
    await this.produceQueue.enqueue(messages, bytes, deadline);
  }

  consumer(options: ConsumerOptions): Consumer {
    this.assertOpen('consumer');
    const consumer = new KafkaConsumer(this, options);
    this.consumers.add(consumer);
    return consumer;
  }

  forget(consumer: KafkaConsumer): void {
    this.consumers.delete(consumer);
  }

  private async requireTopic(operation: string, name: TopicName): Promise<TopicInfo> {
    validateTopicName(name, `${operation}: topic`);
    const topic = await this.cluster.topic(name);
    if (topic === null) throw new Error(`${operation}: unknown topic ${JSON.stringify(name)}`);
    return topic;
  }

  async topicId(topicName: TopicName): Promise<string> {
    this.assertOpen('topicId');
    validateTopicName(topicName, 'topicId: topic');
    // Fresh metadata, not the cached one: the topic may have been deleted and created again since.
    const topic = await this.cluster.topic(topicName, true);
    if (topic === null) throw new Error(`topicId: unknown topic ${JSON.stringify(topicName)}`);
    return topic.id;
  }

  async offsetsForTime(topicName: TopicName, timestampMs: number): Promise<Array<TopicPartition & { offset: number }>> {
    this.assertOpen('offsetsForTime');
    if (!Number.isFinite(timestampMs)) throw new Error(`offsetsForTime: timestampMs must be a number, got ${timestampMs}`);
    const topic = await this.requireTopic('offsetsForTime', topicName);
    const partitions = Array.from({ length: topic.partitions }, (_, p) => p);
    // Negative timestamps are Kafka's special queries (-1 latest, -2 earliest); every record is at or after 0.
    const at = BigInt(Math.max(0, Math.ceil(timestampMs)));
    const [found, latest] = await Promise.all([this.cluster.listOffsets(topicName, partitions, at), this.cluster.listOffsets(topicName, partitions, LATEST)]);
    // -1: no record at or after the time, so the next one produced is the first.
    return partitions.map((partition) => {
      const offset = found.get(partition) ?? -1;
      return { topic: topicName, partition, offset: offset >= 0 ? offset : (latest.get(partition) ?? 0) };
    });
  }

  async setCommitted(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    this.assertOpen('setCommitted');
    if (typeof groupId !== 'string' || groupId === '') throw new Error('setCommitted: groupId must be a non-empty string');
    validateCommits('setCommitted', offsets);
    // Committed as an outside tool: Kafka itself refuses it while the group has members.
    await commitOffsets(this.coordinatorFor(groupId), null, offsets, Date.now() + this.operationTimeoutMs);
  }

  async lag(groupId: string, topicName: TopicName): Promise<PartitionLag[]> {
    this.assertOpen('lag');
    if (typeof groupId !== 'string' || groupId === '') throw new Error('lag: groupId must be a non-empty string');
    const topic = await this.requireTopic('lag', topicName);
    const partitions = Array.from({ length: topic.partitions }, (_, p) => p);
    const [committed, starts, ends] = await Promise.all([
      fetchCommitted(this.coordinatorFor(groupId), partitions.map((partition) => ({ topic: topicName, partition })), Date.now() + this.operationTimeoutMs),
      this.cluster.listOffsets(topicName, partitions, EARLIEST),
      this.cluster.listOffsets(topicName, partitions, LATEST),
    ]);
    return partitions.map((partition) => {
      const logStart = starts.get(partition) ?? 0;
      const highWatermark = ends.get(partition) ?? 0;
      const c = committed.get(offsetKey(topicName, partition))?.offset ?? logStart;
      // Records below the log start were deleted by retention and can no longer be consumed.
      return { topic: topicName, partition, committed: c, highWatermark, lag: Math.max(0, highWatermark - Math.max(c, logStart)) };
    });
  }

  private coordinatorFor(groupId: string): GroupCoordinator {
    let c = this.coordinators.get(groupId);
    if (c === undefined) {
      if (this.coordinators.size >= MAX_CACHED_COORDINATORS) this.coordinators.delete(this.coordinators.keys().next().value!);
      c = new GroupCoordinator(this.groupPool, () => this.cluster.knownBrokers(this.bootstrap), groupId);
      this.coordinators.set(groupId, c);
    }
    return c;
  }

  assertOpen(operation: string): void {
    if (this.closed) throw new Error(`${operation}: the bus is closed`);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    // Calls accepted before close are flushed (each settles by its own deadline).
    await Promise.allSettled(this.producing);
    await this.produceQueue.close();
    await Promise.allSettled([this.admin.close(), this.groupPool.close()]);
  }
}
