/**
 * A member of a Kafka consumer group behind the Bus Consumer interface: the group assigns
 * partitions (group-member.ts), poll() long-polls their leaders and hands out records in
 * offset order per partition, and offsets move only by an explicit commit (no autocommit).
 *
 * Each consumer has two connections per broker: one for the group (heartbeats, commits, in
 * order) and one for fetches, because a broker answers one request per connection at a time
 * and a long-polled fetch would hold heartbeats back.
 */
import { ConnectionPool } from '@platformatic/kafka';
import type { CommittedOffset, ConsumedRecord, Consumer, ConsumerOptions, PollOptions, TopicPartition } from '../types.ts';
import type { BusLogger } from '../embedded/logger.ts';
import { validateTopicName } from '../embedded/topic-store.ts';
import { EARLIEST, LATEST, type ClusterView } from './cluster.ts';
import { GroupCoordinator, type BrokerAddress } from './coordinator.ts';
import { describeKafkaError } from './errors.ts';
import { fetchPartitions, type FetchedPartition, type FetchTarget } from './fetch.ts';
import { GroupMember, type AssignmentChange } from './group-member.ts';
import { commitOffsets, fetchCommitted, offsetKey, validateCommits } from './group-offsets.ts';

/** A fetch waits at most this long at the broker, so seeks, reassignments and close apply quickly. */
const FETCH_MAX_WAIT_MS = 500;
/** Pause after a failed fetch or offset lookup before the next try (the broker may be down). */
const RETRY_PAUSE_MS = 250;

/** What a consumer needs from its bus. */
export interface KafkaConsumerHost {
  readonly cluster: ClusterView;
  readonly logger: BusLogger;
  readonly clientId: string;
  readonly bootstrap: BrokerAddress[];
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
  /** Throws the bus-closed error when the bus is closed. */
  assertOpen(operation: string): void;
  forget(consumer: KafkaConsumer): void;
}

interface Slot {
  topic: string;
  topicId: string;
  partition: number;
  /** Next offset to hand out; null until read from the committed offset (or reset). */
  position: number | null;
  /** A position the broker refused as outside the log (retention deleted it, or past the end). */
  lost: number | null;
  /** Fetched records not handed out yet, from `next` on. */
  records: ConsumedRecord[];
  next: number;
  /** Bumped by seek: a fetch started before it is dropped. */
  version: number;
}

type RebalanceListener = (event: { assigned: TopicPartition[]; revoked: TopicPartition[] }) => void;

export class KafkaConsumer implements Consumer {
  readonly groupId: string;
  private readonly topics: string[];
  private readonly fromBeginning: boolean;
  private readonly host: KafkaConsumerHost;
  private readonly groupPool: ConnectionPool;
  private readonly fetchPool: ConnectionPool;
  private readonly coordinator: GroupCoordinator;
  private readonly member: GroupMember;
  /** For fromBeginning=false: the log ends when the consumer was created, where a group without commits starts. */
  private readonly endsAtStart: Promise<Map<string, number>> | null;
  private slots = new Map<string, Slot>();
  private hasAssignment = false;
  private readonly pendingSeeks = new Map<string, number>();
  private readonly listeners: RebalanceListener[] = [];
  private readonly inFlight = new Map<number, Promise<void>>();
  private wakeSeq = 0;
  private readonly wakeWaiters = new Set<() => void>();
  private cursor = 0;
  private polling = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private failures = 0;

  constructor(host: KafkaConsumerHost, options: ConsumerOptions) {
    if (options === null || typeof options !== 'object') throw new Error('consumer: options must be an object');
    if (typeof options.groupId !== 'string' || options.groupId === '') throw new Error('consumer: groupId must be a non-empty string');
    if (!Array.isArray(options.topics) || options.topics.length === 0) throw new Error('consumer: topics must be a non-empty array');
    for (const t of options.topics) validateTopicName(t, 'consumer topics[]');
    this.host = host;
    this.groupId = options.groupId;
    this.topics = [...new Set(options.topics)];
    this.fromBeginning = options.fromBeginning ?? true;
    const poolOptions = { connectTimeout: host.connectTimeoutMs, requestTimeout: host.operationTimeoutMs + FETCH_MAX_WAIT_MS };
    this.groupPool = new ConnectionPool(host.clientId, poolOptions);
    this.fetchPool = new ConnectionPool(host.clientId, poolOptions);
    this.coordinator = new GroupCoordinator(this.groupPool, () => host.cluster.knownBrokers(host.bootstrap), this.groupId);
    this.member = new GroupMember(this.coordinator, host.cluster, this.topics, host.logger, (change) => this.applyAssignment(change));
    this.endsAtStart = this.fromBeginning ? null : this.readLogEnds();
    this.member.start();
  }

  private async readLogEnds(): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    await Promise.all(
      this.topics.map(async (name) => {
        try {
          const topic = await this.host.cluster.topic(name);
          if (topic === null) return;
          const offsets = await this.host.cluster.listOffsets(name, Array.from({ length: topic.partitions }, (_, p) => p), LATEST);
          for (const [partition, offset] of offsets) ends.set(offsetKey(name, partition), offset);
        } catch {
          // Without the snapshot a partition starts at the end as of its first fetch.
        }
      }),
    );
    return ends;
  }

  assignment(): TopicPartition[] {
    return [...this.slots.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  private applyAssignment(change: AssignmentChange): void {
    if (this.closed) return;
    const next = new Map<string, Slot>();
    for (const p of change.owned) {
      const key = offsetKey(p.topic, p.partition);
      const kept = this.slots.get(key);
      const seek = this.pendingSeeks.get(key);
      next.set(key, kept ?? { topic: p.topic, topicId: p.topicId, partition: p.partition, position: seek ?? null, lost: null, records: [], next: 0, version: 0 });
    }
    for (const [key, offset] of this.pendingSeeks) {
      if (!next.has(key)) this.host.logger.warn({ groupId: this.groupId, partition: key.replace('\u0000', '/'), offset }, 'bus: seek dropped: the partition was not assigned to this consumer');
    }
    this.pendingSeeks.clear();
    this.slots = next;
    this.hasAssignment = true;
    this.wake();
    const { assigned, revoked } = change;
    if (assigned.length === 0 && revoked.length === 0) return;
    // Delivered after the assignment took effect, in order, like the embedded bus.
    queueMicrotask(() => {
      for (const listener of this.listeners) {
        try {
          listener({ assigned, revoked });
        } catch (err) {
          this.host.logger.warn({ groupId: this.groupId, err: (err as Error).message }, 'bus: onRebalance listener threw');
        }
      }
    });
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.assertUsable('poll');
    const { maxRecords, maxWaitMs } = options ?? ({} as PollOptions);
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new Error(`poll: maxRecords must be a positive integer, got ${maxRecords}`);
    if (!(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) throw new Error(`poll: maxWaitMs must be a non-negative number, got ${maxWaitMs}`);
    if (this.polling) throw new Error('poll: another poll is still running on this consumer (a consumer is not safe for concurrent polls)');
    const fatal = this.member.fatalError();
    if (fatal !== null) throw fatal;
    this.polling = true;
    try {
      const deadline = Date.now() + maxWaitMs;
      let tried = false;
      for (;;) {
        const records = this.drain(maxRecords);
        if (records.length > 0 || this.closed) return records;
        const remaining = deadline - Date.now();
        if (tried && remaining <= 0) return records;
        tried = true;
        if (this.slots.size === 0) {
          // Joining, or nothing assigned: wait for an assignment.
          if (remaining > 0) await this.waitForWake(remaining, this.wakeSeq);
          continue;
        }
        await this.fetchRound(Math.max(0, remaining));
      }
    } finally {
      this.polling = false;
    }
  }

  /** Hands out buffered records: a fair share per partition, starting at a rotating partition. */
  private drain(maxRecords: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    const ready = [...this.slots.values()].filter((s) => s.next < s.records.length);
    if (ready.length === 0) return out;
    const first = this.cursor++ % ready.length;
    while (out.length < maxRecords) {
      let progress = false;
      const quota = Math.max(1, Math.ceil((maxRecords - out.length) / ready.length));
      for (let k = 0; k < ready.length && out.length < maxRecords; k++) {
        const slot = ready[(first + k) % ready.length];
        const end = Math.min(slot.records.length, slot.next + quota, slot.next + maxRecords - out.length);
        for (let i = slot.next; i < end; i++) out.push(slot.records[i]);
        if (end > slot.next) {
          progress = true;
          slot.position = slot.records[end - 1].offset + 1;
          slot.next = end;
        }
        if (slot.next >= slot.records.length) {
          slot.records = [];
          slot.next = 0;
        }
      }
      if (!progress) break;
    }
    return out;
  }

  /** Starts fetches for partitions with nothing buffered, then waits for data, a change, or `waitMs`. */
  private async fetchRound(waitMs: number): Promise<void> {
    const seq = this.wakeSeq;
    const unplaced = [...this.slots.values()].filter((s) => s.position === null);
    if (unplaced.length > 0) {
      try {
        await this.placeSlots(unplaced);
        this.failures = 0;
      } catch (err) {
        this.noteFailure('reading start offsets', err);
        await this.waitForWake(Math.min(waitMs, RETRY_PAUSE_MS), seq);
        return;
      }
    }
    const leaders = new Map<string, number[]>();
    for (const topic of new Set([...this.slots.values()].map((s) => s.topic))) {
      leaders.set(topic, (await this.host.cluster.topic(topic).catch(() => null))?.leaders ?? []);
    }
    const byLeader = new Map<number, Array<{ slot: Slot; version: number; target: FetchTarget }>>();
    for (const slot of this.slots.values()) {
      if (slot.position === null || slot.next < slot.records.length) continue;
      const leader = leaders.get(slot.topic)?.[slot.partition] ?? -1;
      if (leader < 0 || this.inFlight.has(leader)) continue;
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push({ slot, version: slot.version, target: { topic: slot.topic, topicId: slot.topicId, partition: slot.partition, offset: slot.position } });
    }
    const fetchWait = Math.min(waitMs, FETCH_MAX_WAIT_MS);
    for (const [leader, list] of byLeader) {
      const done = this.fetchFrom(leader, list, fetchWait).finally(() => {
        this.inFlight.delete(leader);
        this.wake();
      });
      this.inFlight.set(leader, done);
    }
    if (this.inFlight.size === 0) {
      // Leaders unknown (e.g. a broker just failed): look again shortly.
      await this.waitForWake(Math.min(waitMs, RETRY_PAUSE_MS), seq);
      return;
    }
    // A fetch finishing wakes us, with or without data; so do reassignments, seeks and close.
    await this.waitForWake(fetchWait + this.host.operationTimeoutMs, seq);
  }

  private async fetchFrom(leader: number, list: Array<{ slot: Slot; version: number; target: FetchTarget }>, maxWaitMs: number): Promise<void> {
    try {
      const address = await this.host.cluster.broker(leader);
      if (address === undefined) throw new Error(`broker ${leader} is not in the cluster metadata`);
      const results = await fetchPartitions(this.fetchPool, address, list.map((l) => l.target), maxWaitMs);
      this.failures = 0;
      let refused = false;
      for (const result of results) {
        const entry = list.find((l) => l.target === result.target);
        if (entry !== undefined && !this.applyFetch(entry.slot, entry.version, result)) refused = true;
      }
      // A partition error answers at once: pause so a lasting one (a deleted topic) is no busy loop.
      if (refused) await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS).unref());
    } catch (err) {
      if (this.closed) return;
      this.noteFailure('fetching', err);
      // Leaders may have moved; the next round reads fresh metadata.
      await Promise.all([...new Set(list.map((l) => l.slot.topic))].map((t) => this.host.cluster.topic(t, true).catch(() => null)));
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS).unref());
    }
  }

  /** Buffers a partition's fetched records; false when Kafka answered with an error to retry later. */
  private applyFetch(slot: Slot, version: number, result: FetchedPartition): boolean {
    // The partition was revoked, seeked or already refilled since the fetch started.
    if (this.slots.get(offsetKey(slot.topic, slot.partition)) !== slot || slot.version !== version) return true;
    if (slot.position !== result.target.offset || slot.next < slot.records.length) return true;
    if (result.error === 'OFFSET_OUT_OF_RANGE') {
      slot.lost = slot.position;
      slot.position = null;
      return true;
    }
    if (result.error !== null) {
      // NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_ID, FENCED_LEADER_EPOCH...: fresh metadata, then again.
      this.host.cluster.topic(slot.topic, true).catch(() => null);
      return false;
    }
    if (result.records.length > 0) {
      slot.records = result.records;
      slot.next = 0;
    } else if (result.nextOffset > slot.position) {
      slot.position = result.nextOffset; // batches with nothing to deliver (transaction markers)
    }
    return true;
  }

  /**
   * Start positions: the committed offset; without one the log start (fromBeginning) or end;
   * after an out-of-range answer the log start when retention deleted the position, else the end.
   */
  private async placeSlots(slots: Slot[]): Promise<void> {
    const deadline = Date.now() + this.host.operationTimeoutMs;
    const fresh = slots.filter((s) => s.lost === null);
    const committed = fresh.length > 0 ? await fetchCommitted(this.coordinator, fresh, deadline) : new Map<string, CommittedOffset>();
    const ends = this.endsAtStart === null ? null : await this.endsAtStart;
    const byTopic = new Map<string, Slot[]>();
    for (const s of slots) {
      const c = s.lost !== null ? undefined : committed.get(offsetKey(s.topic, s.partition));
      if (c !== undefined) {
        this.place(s, c.offset);
        continue;
      }
      const list = byTopic.get(s.topic);
      if (list === undefined) byTopic.set(s.topic, [s]);
      else list.push(s);
    }
    for (const [topic, list] of byTopic) {
      const partitions = list.map((s) => s.partition);
      const [earliest, latest] = await Promise.all([this.host.cluster.listOffsets(topic, partitions, EARLIEST), this.host.cluster.listOffsets(topic, partitions, LATEST)]);
      for (const s of list) {
        const start = earliest.get(s.partition) ?? 0;
        const end = latest.get(s.partition) ?? start;
        if (s.lost === null) {
          const snapshot = ends?.get(offsetKey(s.topic, s.partition));
          this.place(s, this.fromBeginning ? start : Math.max(start, Math.min(snapshot ?? end, end)));
        } else if (s.lost < start) {
          this.host.logger.info({ groupId: this.groupId, topic, partition: s.partition, position: s.lost, logStart: start }, 'bus: records were deleted by retention before being consumed; continuing at the log start');
          this.place(s, start);
        } else {
          this.host.logger.warn({ groupId: this.groupId, topic, partition: s.partition, position: s.lost, highWatermark: end }, 'bus: position is past the end of the log; starting at the end');
          this.place(s, end);
        }
      }
    }
  }

  /** Sets a start position unless a seek or a reassignment got there first. */
  private place(slot: Slot, offset: number): void {
    if (this.slots.get(offsetKey(slot.topic, slot.partition)) !== slot || slot.position !== null) return;
    slot.position = offset;
    slot.lost = null;
  }

  private noteFailure(what: string, err: unknown): void {
    if (this.failures === 0) {
      this.host.logger.warn({ groupId: this.groupId, err: describeKafkaError(err) }, `bus: consumer failed ${what}; retrying`);
    }
    this.failures++;
  }

  private wake(): void {
    this.wakeSeq++;
    // Deleting the visited entry while iterating a Set is safe.
    for (const done of this.wakeWaiters) done();
  }

  /** Resolves on the next wake() after `seq` was read, or after `ms`. */
  private waitForWake(ms: number, seq: number): Promise<void> {
    if (this.wakeSeq !== seq || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakeWaiters.add(done);
    });
  }

  async commit(offsets: CommittedOffset[]): Promise<void> {
    this.assertUsable('commit');
    validateCommits('commit', offsets);
    if (offsets.length === 0) return;
    await this.member.whenJoined(this.host.operationTimeoutMs);
    await commitOffsets(this.coordinator, () => this.member.membership(), offsets, Date.now() + this.host.operationTimeoutMs);
  }

  async committed(tp: TopicPartition): Promise<CommittedOffset | null> {
    this.host.assertOpen('committed');
    if (tp === null || typeof tp !== 'object') throw new Error('committed: tp must be an object');
    validateTopicName(tp.topic, 'committed: tp.topic');
    if (!Number.isInteger(tp.partition) || tp.partition < 0) throw new Error(`committed: tp.partition must be a non-negative integer, got ${tp.partition}`);
    const found = await fetchCommitted(this.coordinator, [tp], Date.now() + this.host.operationTimeoutMs);
    return found.get(offsetKey(tp.topic, tp.partition)) ?? null;
  }

  seek(tp: TopicPartition, offset: number): void {
    this.assertUsable('seek');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`seek: offset must be a non-negative integer, got ${offset}`);
    const key = offsetKey(tp.topic, tp.partition);
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      slot.position = offset;
      slot.lost = null;
      slot.records = [];
      slot.next = 0;
      slot.version++;
      this.wake();
      return;
    }
    // Before the group's first answer nothing is assigned yet: the seek waits for the assignment.
    if (!this.hasAssignment && this.topics.includes(tp.topic) && Number.isInteger(tp.partition) && tp.partition >= 0) {
      this.pendingSeeks.set(key, offset);
      return;
    }
    throw new Error(`seek: ${tp.topic}/${tp.partition} is not assigned to this consumer`);
  }

  onRebalance(listener: RebalanceListener): void {
    this.listeners.push(listener);
  }

  /** Leaves the group (its partitions move to the other members at once) and closes the connections. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.slots = new Map();
    this.wake();
    try {
      // Closing the fetch connections ends a long-polled fetch at once.
      await Promise.allSettled([this.fetchPool.close(), this.member.stop(this.host.operationTimeoutMs)]);
      await Promise.allSettled(this.inFlight.values());
    } finally {
      await this.groupPool.close().catch(() => undefined);
      this.host.forget(this);
    }
  }

  private assertUsable(operation: string): void {
    this.host.assertOpen(operation);
    if (this.closed) throw new Error(`${operation}: this consumer of group ${this.groupId} is closed`);
  }
}
