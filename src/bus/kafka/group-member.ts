/**
 * Membership of one consumer in a Kafka consumer group with the KIP-848 protocol (Kafka 4):
 * the broker assigns partitions, the member only heartbeats (ConsumerGroupHeartbeat) with what
 * it owns. A partition moving to another member is first revoked here, the revocation is
 * acknowledged by the next heartbeat, and only then is it given to the other member, so two
 * members never fetch the same partition.
 *
 * Revocation is synchronous (the consumer drops the partition's buffered records at once), so
 * a new target assignment is acknowledged by an immediate heartbeat.
 */
import { randomUUID } from 'node:crypto';
import { consumerGroupHeartbeatV1 } from '@platformatic/kafka';
import type { TopicPartition } from '../types.ts';
import type { BusLogger } from '../embedded/logger.ts';
import type { ClusterView } from './cluster.ts';
import type { GroupCoordinator } from './coordinator.ts';
import { describeKafkaError, hasKafkaError } from './errors.ts';
import { offsetKey, type Membership } from './group-offsets.ts';

/** How long the broker waits for this member to give up revoked partitions before fencing it. */
const REBALANCE_TIMEOUT_MS = 60_000;
const LEAVE_EPOCH = -1;
/** Errors the member cannot recover from by retrying at once (it still retries slowly). */
const FATAL_ERRORS = ['UNSUPPORTED_VERSION', 'INVALID_REQUEST', 'UNSUPPORTED_ASSIGNOR', 'GROUP_MAX_SIZE_REACHED', 'GROUP_AUTHORIZATION_FAILED', 'INCONSISTENT_GROUP_PROTOCOL'];
const FATAL_RETRY_MS = 5_000;

export interface OwnedPartition extends TopicPartition {
  topicId: string;
}

export interface AssignmentChange {
  owned: OwnedPartition[];
  assigned: TopicPartition[];
  revoked: TopicPartition[];
}

export class GroupMember {
  readonly memberId = randomUUID();
  private memberEpoch = 0;
  private readonly topics: string[];
  private readonly coordinator: GroupCoordinator;
  private readonly cluster: ClusterView;
  private readonly logger: BusLogger;
  private readonly apply: (change: AssignmentChange) => void;
  private owned = new Map<string, OwnedPartition>();
  private target: Array<{ topicId: string; partitions: number[] }> | null = null;
  private intervalMs = 1_000;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private stopped = false;
  private failures = 0;
  private lastError: Error | null = null;
  private fatal: Error | null = null;
  private joinWaiters: Array<(joined: boolean) => void> = [];

  constructor(coordinator: GroupCoordinator, cluster: ClusterView, topics: string[], logger: BusLogger, apply: (change: AssignmentChange) => void) {
    this.coordinator = coordinator;
    this.cluster = cluster;
    this.topics = topics;
    this.logger = logger;
    this.apply = apply;
  }

  get groupId(): string {
    return this.coordinator.groupId;
  }

  start(): void {
    this.schedule(0);
  }

  membership(): Membership {
    return { memberId: this.memberId, memberEpoch: this.memberEpoch };
  }

  /** An error that stops this member from working (e.g. a broker without KIP-848), or null. */
  fatalError(): Error | null {
    return this.fatal;
  }

  /** Resolves once the broker accepted the member (commits need its epoch). */
  async whenJoined(timeoutMs: number): Promise<void> {
    if (this.memberEpoch > 0) return;
    let timer: NodeJS.Timeout | undefined;
    const joined = new Promise<boolean>((resolve) => {
      this.joinWaiters.push(resolve);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await joined;
    clearTimeout(timer);
    if (ok) return;
    if (this.stopped) throw new Error(`consumer of group ${this.groupId} is closed`);
    const why = this.fatal ?? this.lastError;
    throw new Error(`consumer of group ${this.groupId} has not joined the group within ${timeoutMs} ms${why ? `: ${why.message}` : ''}`);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.beating ??= this.beat().finally(() => {
        this.beating = null;
      });
    }, ms);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const owned = this.ownedByTopicId();
    try {
      const response = await this.coordinator.call((c) =>
        consumerGroupHeartbeatV1.api.async(c, this.groupId, this.memberId, this.memberEpoch, null, null, REBALANCE_TIMEOUT_MS, this.topics, null, null, owned),
      );
      if (this.stopped) return;
      if (this.failures > 0) this.logger.info({ groupId: this.groupId, failures: this.failures }, 'bus: consumer group heartbeat recovered');
      this.failures = 0;
      this.lastError = null;
      this.fatal = null;
      this.memberEpoch = response.memberEpoch;
      if (response.heartbeatIntervalMs > 0) this.intervalMs = response.heartbeatIntervalMs;
      if (response.assignment !== null) this.target = response.assignment.topicPartitions;
      const changed = this.target === null ? false : await this.reconcile();
      if (this.stopped) return;
      if (this.memberEpoch > 0) for (const wake of this.joinWaiters.splice(0)) wake(true);
      // A changed ownership is acknowledged at once; an unresolved topic id is retried soon.
      this.schedule(changed ? 0 : this.target !== null ? Math.min(200, this.intervalMs) : this.intervalMs);
    } catch (err) {
      if (this.stopped) return;
      this.onHeartbeatError(err as Error);
    }
  }

  private onHeartbeatError(err: Error): void {
    this.lastError = new Error(describeKafkaError(err), { cause: err });
    if (hasKafkaError(err, 'FENCED_MEMBER_EPOCH', 'UNKNOWN_MEMBER_ID', 'GROUP_ID_NOT_FOUND')) {
      // The group moved on without us (session expired): everything we owned is someone else's now.
      this.logger.warn({ groupId: this.groupId, err: this.lastError.message }, 'bus: consumer was removed from its group; rejoining');
      this.memberEpoch = 0;
      this.target = null;
      this.loseAll();
      this.schedule(0);
      return;
    }
    if (hasKafkaError(err, ...FATAL_ERRORS)) {
      this.fatal = new Error(`consumer group ${this.groupId}: the broker refused the member (${this.lastError.message}); the Kafka bus needs Kafka 4.0+ consumer groups (KIP-848)`, { cause: err });
      this.logger.warn({ groupId: this.groupId, err: this.fatal.message }, 'bus: consumer group heartbeat refused');
      this.schedule(FATAL_RETRY_MS);
      return;
    }
    if (this.failures === 0) this.logger.warn({ groupId: this.groupId, err: this.lastError.message }, 'bus: consumer group heartbeat failed; retrying');
    this.failures++;
    this.schedule(Math.min(100 * 2 ** Math.min(this.failures, 6), this.intervalMs));
  }

  private ownedByTopicId(): Array<{ topicId: string; partitions: number[] }> {
    const byId = new Map<string, number[]>();
    for (const p of this.owned.values()) {
      const list = byId.get(p.topicId);
      if (list === undefined) byId.set(p.topicId, [p.partition]);
      else list.push(p.partition);
    }
    return [...byId].map(([topicId, partitions]) => ({ topicId, partitions }));
  }

  /** Makes the target assignment ours; false when nothing changed or a topic id is not known yet. */
  private async reconcile(): Promise<boolean> {
    const target = this.target!;
    if (target.some((t) => this.cluster.nameOfId(t.topicId) === undefined)) {
      // Assignments name topics by id: learn the ids of the subscribed topics.
      await Promise.all(this.topics.map((name) => this.cluster.topic(name, true).catch(() => null)));
      if (this.stopped || this.target !== target) return false;
      if (target.some((t) => this.cluster.nameOfId(t.topicId) === undefined)) return false;
    }
    const next = new Map<string, OwnedPartition>();
    for (const t of target) {
      const topic = this.cluster.nameOfId(t.topicId)!;
      for (const partition of [...t.partitions].sort((a, b) => a - b)) next.set(offsetKey(topic, partition), { topic, topicId: t.topicId, partition });
    }
    const assigned: TopicPartition[] = [];
    const revoked: TopicPartition[] = [];
    for (const [key, p] of next) if (!this.owned.has(key)) assigned.push({ topic: p.topic, partition: p.partition });
    for (const [key, p] of this.owned) if (!next.has(key)) revoked.push({ topic: p.topic, partition: p.partition });
    this.owned = next;
    this.target = null;
    this.apply({ owned: [...next.values()], assigned, revoked });
    return assigned.length > 0 || revoked.length > 0;
  }

  private loseAll(): void {
    const revoked = [...this.owned.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
    this.owned.clear();
    this.apply({ owned: [], assigned: [], revoked });
  }

  /** Leaves the group (its partitions go to the other members right away), bounded by `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const wake of this.joinWaiters.splice(0)) wake(false);
    if (this.memberEpoch === 0 && this.beating === null) return;
    let timer: NodeJS.Timeout | undefined;
    const leave = this.coordinator.call((c) =>
      consumerGroupHeartbeatV1.api.async(c, this.groupId, this.memberId, LEAVE_EPOCH, null, null, 0, [], null, null, []),
    );
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([leave, timeout]);
    } catch (err) {
      // The broker drops the member at its session timeout instead.
      this.logger.warn({ groupId: this.groupId, err: describeKafkaError(err) }, 'bus: leaving the consumer group failed');
    } finally {
      clearTimeout(timer);
    }
    this.owned.clear();
  }
}
