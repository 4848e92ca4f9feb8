/**
 * The embedded Bus: Kafka's design on one machine. Topics are folders of partitions, each
 * a segmented append-only log with group-committed fsyncs; consumer groups are coordinated
 * in process and commit offsets to small JSON files. See partition-log.ts for the write path.
 */
import { GroupHasMembersError } from '../errors.ts';
import fs from 'node:fs';
import path from 'node:path';
import type {
  Bus,
  CommittedOffset,
  Consumer,
  ConsumerOptions,
  PartitionLag,
  ProduceRecord,
  TopicName,
  TopicPartition,
  TopicSpec,
} from '../types.ts';
import type { BusLogger } from './logger.ts';
import { silentLogger } from './logger.ts';
import type { PartitionLog, PendingBatch, PartitionLogOptions } from './partition-log.ts';
import { kafkaPartitionForKey } from './partitioner.ts';
import { OffsetStore } from './offset-store.ts';
import { ConsumerGroup } from './consumer-group.ts';
import { EmbeddedConsumer } from './embedded-consumer.ts';
import type { ConsumerHost } from './embedded-consumer.ts';
import type { Topic } from './topic-store.ts';
import { loadTopics, createTopic, writeTopicMeta, validateTopicSpec, validateTopicName, RETAIN_FOREVER } from './topic-store.ts';
import { lockDataDir } from './dir-lock.ts';

export interface EmbeddedBusOptions {
  /** Data folder; created if missing. */
  dir: string;
  /** Partitions of a topic created implicitly by produce (Kafka's num.partitions). Default 1. */
  defaultPartitions?: number;
  logger?: BusLogger;
  /** Segment roll size. Default 64 MiB. */
  segmentBytes?: number;
  /** How often retention runs (it also runs at open). Default 5 minutes. */
  retentionCheckIntervalMs?: number;
  /** Retention of topics created implicitly by produce. Default 7 days. */
  defaultRetentionMs?: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_RETENTION_CHECK_MS = 5 * 60 * 1000;
const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_HEADER_NAME_BYTES = 0xffff;

export async function createEmbeddedBus(options: EmbeddedBusOptions): Promise<Bus> {
  return EmbeddedBus.open(options);
}

class EmbeddedBus implements Bus, ConsumerHost {
  readonly logger: BusLogger;
  private readonly dir: string;
  private readonly defaultPartitions: number;
  private readonly defaultRetentionMs: number;
  private readonly logOptions: PartitionLogOptions;
  private readonly topics: Map<string, Topic>;
  private readonly creating = new Map<string, Promise<Topic>>();
  private readonly offsets: OffsetStore;
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private readonly releaseLock: () => void;
  private readonly retentionTimer: NodeJS.Timeout;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    options: EmbeddedBusOptions,
    logOptions: PartitionLogOptions,
    topics: Map<string, Topic>,
    offsets: OffsetStore,
    releaseLock: () => void,
  ) {
    this.dir = options.dir;
    this.logger = logOptions.logger;
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.defaultRetentionMs = options.defaultRetentionMs ?? DEFAULT_RETENTION_MS;
    this.logOptions = logOptions;
    this.topics = topics;
    this.offsets = offsets;
    this.releaseLock = releaseLock;
    this.applyRetention();
    const every = options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_MS;
    this.retentionTimer = setInterval(() => this.applyRetention(), every);
    this.retentionTimer.unref();
  }

  static open(options: EmbeddedBusOptions): EmbeddedBus {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir === '') {
      throw new Error('createEmbeddedBus: options.dir must be a non-empty path');
    }
    const { defaultPartitions, segmentBytes, retentionCheckIntervalMs, defaultRetentionMs } = options;
    if (defaultPartitions !== undefined && !(Number.isInteger(defaultPartitions) && defaultPartitions >= 1)) {
      throw new Error(`createEmbeddedBus: defaultPartitions must be a positive integer, got ${defaultPartitions}`);
    }
    if (segmentBytes !== undefined && !(Number.isSafeInteger(segmentBytes) && segmentBytes >= 1)) {
      throw new Error(`createEmbeddedBus: segmentBytes must be a positive integer, got ${segmentBytes}`);
    }
    if (retentionCheckIntervalMs !== undefined && !(Number.isFinite(retentionCheckIntervalMs) && retentionCheckIntervalMs > 0)) {
      throw new Error(`createEmbeddedBus: retentionCheckIntervalMs must be positive, got ${retentionCheckIntervalMs}`);
    }
    if (defaultRetentionMs !== undefined) {
      validateTopicSpec({ name: 'default', partitions: 1, retentionMs: defaultRetentionMs });
    }
    fs.mkdirSync(options.dir, { recursive: true });
    const releaseLock = lockDataDir(options.dir);
    try {
      const logOptions: PartitionLogOptions = {
        segmentBytes: segmentBytes ?? DEFAULT_SEGMENT_BYTES,
        logger: options.logger ?? silentLogger,
      };
      const topics = loadTopics(options.dir, logOptions);
      const offsets = OffsetStore.open(path.join(options.dir, 'groups'));
      return new EmbeddedBus(options, logOptions, topics, offsets, releaseLock);
    } catch (err) {
      releaseLock();
      throw err;
    }
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen('ensureTopics');
    if (!Array.isArray(specs)) throw new Error('ensureTopics: specs must be an array');
    for (const spec of specs) validateTopicSpec(spec);
    for (const spec of specs) {
      const existing = this.topics.get(spec.name) ?? (await this.creating.get(spec.name));
      if (existing === undefined) {
        this.addTopic(spec);
        continue;
      }
      if (existing.spec.partitions !== spec.partitions) {
        this.logger.warn(
          { topic: spec.name, partitions: existing.spec.partitions, requested: spec.partitions },
          'bus: topic exists with another partition count; keeping it',
        );
      }
      if (existing.spec.retentionMs !== spec.retentionMs || existing.spec.retentionBytes !== spec.retentionBytes) {
        existing.spec.retentionMs = spec.retentionMs;
        if (spec.retentionBytes === undefined) delete existing.spec.retentionBytes;
        else existing.spec.retentionBytes = spec.retentionBytes;
        writeTopicMeta(existing);
        this.logger.info({ topic: spec.name, retentionMs: spec.retentionMs, retentionBytes: spec.retentionBytes }, 'bus: topic retention updated');
      }
    }
  }

  private addTopic(spec: TopicSpec): Topic {
    const topic = createTopic(this.dir, spec, this.logOptions);
    this.topics.set(spec.name, topic);
    this.logger.info({ topic: spec.name, partitions: spec.partitions, retentionMs: spec.retentionMs, retentionBytes: spec.retentionBytes }, 'bus: topic created');
    for (const group of this.groups.values()) {
      if (group.subscribes(spec.name)) group.rebalance();
    }
    return topic;
  }

  private topicForProduce(name: string): Topic | Promise<Topic> {
    const topic = this.topics.get(name);
    if (topic !== undefined) return topic;
    validateTopicName(name);
    let creating = this.creating.get(name);
    if (creating === undefined) {
      creating = Promise.resolve().then(() => {
        this.assertOpen('produce');
        return this.topics.get(name) ?? this.addTopic({ name, partitions: this.defaultPartitions, retentionMs: this.defaultRetentionMs });
      });
      const forget = () => this.creating.delete(name);
      creating.then(forget, forget);
      this.creating.set(name, creating);
    }
    return creating;
  }

  async produce(topicName: TopicName, records: ProduceRecord[]): Promise<void> {
    this.assertOpen('produce');
    if (!Array.isArray(records)) throw new Error('produce: records must be an array');
    if (records.length === 0) return;
    for (let i = 0; i < records.length; i++) validateRecord(records[i], i);
    const found = this.topicForProduce(topicName);
    const topic = found instanceof Promise ? await found : found;
    this.assertOpen('produce');
    const partitions = topic.partitions;
    const n = partitions.length;
    const now = Date.now();
    // One produce usually touches few partitions; dedupe their batches without a Set.
    let only: PendingBatch | null = null;
    let many: PendingBatch[] | null = null;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      let p: number;
      if (r.key === null) {
        p = topic.nextRoundRobin;
        topic.nextRoundRobin = p + 1 === n ? 0 : p + 1;
      } else {
        p = kafkaPartitionForKey(r.key, n);
      }
      const batch = partitions[p].enqueue(r, r.timestamp ?? now);
      if (only === null) only = batch;
      else if (batch !== only && (many === null || !many.includes(batch))) {
        if (many === null) many = [only];
        many.push(batch);
      }
    }
    if (many !== null) await Promise.all(many.map((b) => b.done));
    else await only!.done;
  }

  consumer(options: ConsumerOptions): Consumer {
    this.assertOpen('consumer');
    if (options === null || typeof options !== 'object') throw new Error('consumer: options must be an object');
    if (typeof options.groupId !== 'string' || options.groupId === '') throw new Error('consumer: groupId must be a non-empty string');
    if (!Array.isArray(options.topics) || options.topics.length === 0) throw new Error('consumer: topics must be a non-empty array');
    for (const t of options.topics) validateTopicName(t, 'consumer topics[]');
    let group = this.groups.get(options.groupId);
    if (group === undefined) {
      group = new ConsumerGroup(options.groupId, (t) => this.topics.get(t)?.partitions.length ?? 0);
      this.groups.set(options.groupId, group);
    }
    const consumer = new EmbeddedConsumer(this, options, group.newMemberId());
    this.consumers.add(consumer);
    group.join(consumer);
    return consumer;
  }

  leaveGroup(consumer: EmbeddedConsumer): void {
    this.consumers.delete(consumer);
    this.groups.get(consumer.groupId)?.leave(consumer);
  }

  partitionLog(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  committedOffset(groupId: string, tp: TopicPartition): CommittedOffset | null {
    return this.offsets.get(groupId, tp);
  }

  async commitOffsets(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    this.assertOpen('commit');
    if (!Array.isArray(offsets)) throw new Error('commit: offsets must be an array');
    offsets.forEach((o, i) => this.validateCommit(o, i));
    await this.offsets.commit(groupId, offsets);
  }

  private validateCommit(o: CommittedOffset, i: number): void {
    const where = `commit: offsets[${i}]`;
    if (o === null || typeof o !== 'object') throw new Error(`${where} must be an object`);
    const topic = this.topics.get(o.topic);
    if (topic === undefined) throw new Error(`${where}.topic: unknown topic ${JSON.stringify(o.topic)}`);
    if (!Number.isInteger(o.partition) || o.partition < 0 || o.partition >= topic.partitions.length) {
      throw new Error(`${where}.partition: ${o.partition} is not a partition of ${o.topic} (0..${topic.partitions.length - 1})`);
    }
    if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw new Error(`${where}.offset must be a non-negative integer, got ${o.offset}`);
    if (o.metadata !== undefined && typeof o.metadata !== 'string') throw new Error(`${where}.metadata must be a string`);
  }

  async topicId(topicName: TopicName): Promise<string> {
    this.assertOpen('topicId');
    validateTopicName(topicName, 'topicId: topic');
    // A topic produce is creating right now exists as soon as that finishes.
    const topic = this.topics.get(topicName) ?? (await this.creating.get(topicName));
    if (topic === undefined) throw new Error(`topicId: unknown topic ${JSON.stringify(topicName)}`);
    return topic.id;
  }

  async offsetsForTime(topicName: TopicName, timestampMs: number): Promise<Array<TopicPartition & { offset: number }>> {
    this.assertOpen('offsetsForTime');
    if (!Number.isFinite(timestampMs)) throw new Error(`offsetsForTime: timestampMs must be a number, got ${timestampMs}`);
    const topic = this.requireTopic('offsetsForTime', topicName);
    return Promise.all(
      topic.partitions.map(async (log) => ({ topic: topicName, partition: log.partition, offset: await log.offsetForTime(timestampMs) })),
    );
  }

  async setCommitted(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    this.assertOpen('setCommitted');
    const live = this.groups.get(groupId)?.size ?? 0;
    if (live > 0) throw new GroupHasMembersError(groupId, String(live));
    await this.commitOffsets(groupId, offsets);
  }

  async lag(groupId: string, topicName: TopicName): Promise<PartitionLag[]> {
    this.assertOpen('lag');
    const topic = this.requireTopic('lag', topicName);
    return topic.partitions.map((log) => {
      const committed = this.offsets.get(groupId, { topic: topicName, partition: log.partition })?.offset ?? log.logStartOffset;
      const highWatermark = log.highWatermark;
      // Records below the log start were deleted by retention and can no longer be consumed.
      const lag = Math.max(0, highWatermark - Math.max(committed, log.logStartOffset));
      return { topic: topicName, partition: log.partition, committed, highWatermark, lag };
    });
  }

  private requireTopic(operation: string, name: string): Topic {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new Error(`${operation}: unknown topic ${JSON.stringify(name)}`);
    return topic;
  }

  private applyRetention(): void {
    const now = Date.now();
    for (const topic of this.topics.values()) {
      const { retentionMs, retentionBytes } = topic.spec;
      if (retentionMs === RETAIN_FOREVER && retentionBytes === undefined) continue;
      for (const log of topic.partitions) {
        try {
          if (retentionMs !== RETAIN_FOREVER) log.applyRetention(now - retentionMs);
          if (retentionBytes !== undefined) log.applySizeRetention();
        } catch (err) {
          this.logger.warn({ topic: topic.spec.name, partition: log.partition, err: (err as Error).message }, 'bus: retention failed');
        }
      }
    }
  }

  assertOpen(operation: string): void {
    if (this.closed) throw new Error(`${operation}: the bus is closed`);
  }

  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.retentionTimer);
    for (const c of this.consumers) c.closeForShutdown();
    this.consumers.clear();
    this.groups.clear();
    await Promise.allSettled(this.creating.values());
    await Promise.all([...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.close())));
    await this.offsets.drain();
    this.releaseLock();
  }
}

function validateRecord(r: ProduceRecord, i: number): void {
  if (r === null || typeof r !== 'object') throw new Error(`produce: records[${i}] must be an object`);
  if (!Buffer.isBuffer(r.value)) throw new Error(`produce: records[${i}].value must be a Buffer`);
  if (r.key !== null && !Buffer.isBuffer(r.key)) throw new Error(`produce: records[${i}].key must be a Buffer or null`);
  if (r.timestamp !== undefined && !(Number.isSafeInteger(r.timestamp) && r.timestamp >= 0)) {
    throw new Error(`produce: records[${i}].timestamp must be a non-negative integer (Unix ms), got ${r.timestamp}`);
  }
  const headers = r.headers;
  if (headers !== undefined) {
    if (headers === null || typeof headers !== 'object') throw new Error(`produce: records[${i}].headers must be an object`);
    for (const name in headers) {
      if (typeof headers[name] !== 'string') throw new Error(`produce: records[${i}].headers.${name} must be a string`);
      if (name.length > MAX_HEADER_NAME_BYTES / 3 && Buffer.byteLength(name) > MAX_HEADER_NAME_BYTES) {
        throw new Error(`produce: records[${i}].headers name ${name.slice(0, 40)}... is longer than ${MAX_HEADER_NAME_BYTES} bytes`);
      }
    }
  }
}
