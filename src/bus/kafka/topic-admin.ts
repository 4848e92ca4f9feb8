/**
 * ensureTopics on Kafka: creates missing topics with their partition count and retention (by age and size),
 * keeps the partition count of existing ones (Kafka cannot shrink it and growing it would
 * move keys to other partitions), and brings an existing topic's retention to the spec's.
 */
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes, type Admin } from '@platformatic/kafka';
import type { TopicSpec } from '../types.ts';
import type { BusLogger } from '../embedded/logger.ts';
import { validateTopicSpec } from '../embedded/topic-store.ts';
import { LATEST, type ClusterView } from './cluster.ts';
import { describeKafkaError, hasKafkaError, sleep } from './errors.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Largest record batch a topic accepts (Kafka's default is 1 MiB). One produce call can carry
 * a whole gateway request (32 MiB after decompression) for one key, so one partition's batch
 * can be that big; the broker's socket.request.max.bytes (100 MiB) stays the outer bound.
 */
export const TOPIC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Kafka deletes whole closed segments whose newest record is past retention; the active
 * segment closes only when it reaches segment.ms (default 7 days) or segment.bytes. Rolling at
 * min(retention, 1 day) lets data leave at most a day (or one retention period) late, while
 * long retentions are not split into needlessly many small files.
 */
export function segmentMsFor(retentionMs: number): number | null {
  return retentionMs > 0 ? Math.min(retentionMs, DAY_MS) : null;
}

/** Acks=all waits for this many in-sync replicas: 2 of 3 survives one broker down without losing acknowledged data. */
function minInsyncReplicas(replicationFactor: number): number {
  return Math.min(2, Math.max(1, replicationFactor - 1));
}

/** Kafka 4's smallest segment.bytes. */
const MIN_SEGMENT_BYTES = 1024 * 1024;
/** Kafka's default segment.bytes. */
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

/**
 * retention.bytes also deletes whole closed segments only: with the default 1 GiB segments a
 * smaller cap would never act. A sixteenth of the cap bounds the overshoot to about 6%.
 */
export function segmentBytesFor(retentionBytes: number): number {
  return Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(retentionBytes / 16)));
}

function retentionConfigs(spec: TopicSpec): Array<{ name: string; value: string }> {
  const segmentMs = segmentMsFor(spec.retentionMs);
  // -1 is Kafka's "no size cap", so a cap removed from the spec is removed from the topic too.
  const configs = [
    { name: 'retention.ms', value: String(spec.retentionMs) },
    { name: 'retention.bytes', value: String(spec.retentionBytes ?? -1) },
  ];
  if (segmentMs !== null) configs.push({ name: 'segment.ms', value: String(segmentMs) });
  if (spec.retentionBytes !== undefined) configs.push({ name: 'segment.bytes', value: String(segmentBytesFor(spec.retentionBytes)) });
  return configs;
}

export interface TopicAdminOptions {
  replicationFactor: number;
  logger: BusLogger;
  operationTimeoutMs: number;
}

export class TopicAdmin {
  private readonly admin: Admin;
  private readonly cluster: ClusterView;
  private readonly options: TopicAdminOptions;
  private replication: number | null = null;

  constructor(admin: Admin, cluster: ClusterView, options: TopicAdminOptions) {
    this.admin = admin;
    this.cluster = cluster;
    this.options = options;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    if (!Array.isArray(specs)) throw new Error('ensureTopics: specs must be an array');
    for (const spec of specs) validateTopicSpec(spec);
    const created: string[] = [];
    for (const spec of specs) {
      const existing = await this.cluster.topic(spec.name, true);
      if (existing === null && (await this.create(spec))) {
        created.push(spec.name);
        continue;
      }
      const current = existing ?? (await this.cluster.topic(spec.name, true));
      if (current !== null && current.partitions !== spec.partitions) {
        this.options.logger.warn(
          { topic: spec.name, partitions: current.partitions, requested: spec.partitions },
          'bus: topic exists with another partition count; keeping it',
        );
      }
      await this.alignRetention(spec);
    }
    await this.waitForLeaders(created);
  }

  /** Replication factor for new topics: the configured one, or the broker count when fewer. */
  private async replicationFactor(): Promise<number> {
    if (this.replication !== null) return this.replication;
    const brokers = await this.cluster.brokerCount();
    const wanted = this.options.replicationFactor;
    if (brokers < wanted) {
      this.options.logger.warn({ replicationFactor: wanted, brokers }, `bus: the cluster has ${brokers} broker(s); topics get replication factor ${brokers} instead of ${wanted}`);
    }
    this.replication = Math.max(1, Math.min(wanted, brokers));
    return this.replication;
  }

  /** Creates the topic; false when another client created it meanwhile. */
  private async create(spec: TopicSpec): Promise<boolean> {
    const replicas = await this.replicationFactor();
    const configs = [
      ...retentionConfigs(spec),
      { name: 'min.insync.replicas', value: String(minInsyncReplicas(replicas)) },
      { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
    ];
    try {
      await this.admin.createTopics({ topics: [{ topic: spec.name, partitions: spec.partitions, replicas }], configs });
    } catch (err) {
      if (hasKafkaError(err, 'TOPIC_ALREADY_EXISTS')) return false;
      throw new Error(`ensureTopics: creating topic ${spec.name} failed: ${describeKafkaError(err)}`, { cause: err });
    }
    this.options.logger.info({ topic: spec.name, partitions: spec.partitions, retentionMs: spec.retentionMs, retentionBytes: spec.retentionBytes, replicas }, 'bus: topic created');
    return true;
  }

  private async alignRetention(spec: TopicSpec): Promise<void> {
    const [description] = await this.admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: spec.name, configurationKeys: ['retention.ms', 'retention.bytes'] }],
    });
    const current = description?.configs.find((c) => c.name === 'retention.ms')?.value;
    const currentBytes = description?.configs.find((c) => c.name === 'retention.bytes')?.value;
    if (current === String(spec.retentionMs) && currentBytes === String(spec.retentionBytes ?? -1)) return;
    await this.admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: spec.name,
          configs: retentionConfigs(spec).map(({ name, value }) => ({ name, value, configOperation: IncrementalAlterConfigOperationTypes.SET })),
        },
      ],
    });
    this.options.logger.info(
      { topic: spec.name, retentionMs: spec.retentionMs, retentionBytes: spec.retentionBytes, was: current, wasBytes: currentBytes },
      'bus: topic retention updated',
    );
  }

  /**
   * A just-created topic has leaders in the metadata a moment before those brokers serve it;
   * producing then fails some partitions with NOT_LEADER_OR_FOLLOWER. ListOffsets answers
   * only once every partition's leader is ready.
   */
  private async waitForLeaders(topics: string[]): Promise<void> {
    const deadline = Date.now() + this.options.operationTimeoutMs;
    for (const name of topics) {
      for (;;) {
        const t = await this.cluster.topic(name, true).catch(() => null);
        if (t !== null && t.leaders.every((l) => l >= 0)) {
          const ready = await this.cluster.listOffsets(name, Array.from({ length: t.partitions }, (_, p) => p), LATEST).then(
            () => true,
            () => false,
          );
          if (ready) break;
        }
        if (Date.now() > deadline) throw new Error(`ensureTopics: topic ${name} has no serving leader for every partition after ${this.options.operationTimeoutMs} ms`);
        await sleep(50);
      }
    }
  }
}
