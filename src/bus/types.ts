/**
 * The Bus: a durable, partitioned, replayable log shaped like Kafka.
 *
 * Two implementations share this contract: the embedded segment log (one process, one
 * machine) and Kafka (distributed). Nothing outside src/bus knows which one it talks to.
 * Semantics follow Kafka so code written against the embedded log behaves the same on Kafka:
 * - a topic has a fixed number of partitions and a retention period;
 * - a record's key picks its partition (same key, same partition, order kept);
 * - `produce` resolves only once every record in the call is durable (fsynced / acks=all);
 * - consumer groups track a committed offset per partition; a restarted consumer resumes
 *   from it (at-least-once), and may seek to an offset or a time to replay.
 */

export type TopicName = string;

export interface TopicSpec {
  name: TopicName;
  partitions: number;
  /** Records older than this may be deleted (whole segments at a time, as Kafka does). */
  retentionMs: number;
  /**
   * Size cap per partition (Kafka's retention.bytes); none when absent. Once a partition holds
   * more, its oldest whole segments are deleted, never the one being written, so a partition
   * may briefly hold up to one segment more. The embedded log deletes until it is back under
   * the cap; Kafka deletes a segment only while the rest still holds the cap, so it may keep
   * up to one segment more. A consumer behind the deleted records continues at the log start.
   */
  retentionBytes?: number;
}

export interface ProduceRecord {
  /** Partitioning key. Records with equal keys land in one partition, in order. */
  key: Buffer | null;
  value: Buffer;
  /** Producer timestamp in Unix milliseconds; defaults to now. */
  timestamp?: number;
  headers?: Record<string, string>;
}

export interface ConsumedRecord {
  topic: TopicName;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface TopicPartition {
  topic: TopicName;
  partition: number;
}

export interface CommittedOffset extends TopicPartition {
  /** The next offset to consume (Kafka convention: last processed + 1). */
  offset: number;
  /** Free-form string kept with the commit (Kafka's offset metadata). */
  metadata?: string;
}

export interface PartitionLag extends TopicPartition {
  committed: number;
  /** Offset the next produced record will get. */
  highWatermark: number;
  lag: number;
}

export interface ConsumerOptions {
  groupId: string;
  topics: TopicName[];
  /** Where a group with no committed offset starts. Default 'earliest'. */
  fromBeginning?: boolean;
}

export interface PollOptions {
  /** Upper bound on records returned by one poll. */
  maxRecords: number;
  /** How long to wait for at least one record before returning an empty batch. */
  maxWaitMs: number;
}

export interface Consumer {
  /** Partitions currently assigned to this member of the group. */
  assignment(): TopicPartition[];
  /**
   * Next records of the assigned partitions, in offset order within each partition,
   * starting at the committed offset (or the position set by seek).
   */
  poll(options: PollOptions): Promise<ConsumedRecord[]>;
  /** Durably records the group's position; resolves once it would survive a crash. */
  commit(offsets: CommittedOffset[]): Promise<void>;
  /** The group's committed position of a partition, or null when it never committed. */
  committed(tp: TopicPartition): Promise<CommittedOffset | null>;
  /** Moves this consumer's fetch position (not the committed offset). */
  seek(tp: TopicPartition, offset: number): void;
  /** Called with partitions taken away / given to this member on a rebalance. */
  onRebalance(listener: (event: { assigned: TopicPartition[]; revoked: TopicPartition[] }) => void): void;
  close(): Promise<void>;
}

export interface Bus {
  /** Creates missing topics; existing ones keep their partition count. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Appends records to a topic; resolves once all are durable. */
  produce(topic: TopicName, records: ProduceRecord[]): Promise<void>;
  consumer(options: ConsumerOptions): Consumer;
  /**
   * The id of the topic's current incarnation (Kafka's topic UUID). It stays the same for the
   * life of the topic (restarts, retention changes) and is new when a topic of that name is
   * deleted and created again, or, on the embedded bus, created in another data folder: its
   * offsets then start again at 0 and name other records. Whatever keeps offsets outside the
   * bus (the ingest ledger in the store) keys them by this id too. Rejects for an unknown topic.
   */
  topicId(topic: TopicName): Promise<string>;
  /** First offset whose timestamp is >= the time, per partition (Kafka's offsetsForTimes). */
  offsetsForTime(topic: TopicName, timestampMs: number): Promise<Array<TopicPartition & { offset: number }>>;
  /** Sets a group's committed offsets (used by replay); members must be stopped. */
  setCommitted(groupId: string, offsets: CommittedOffset[]): Promise<void>;
  lag(groupId: string, topic: TopicName): Promise<PartitionLag[]>;
  close(): Promise<void>;
}
