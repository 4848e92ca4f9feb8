/**
 * A member of an in-process consumer group. Fetches straight from the partition files,
 * waits on append notifications (no polling loop), and keeps a fetch position per
 * assigned partition that starts from the group's committed offset.
 */
import type { CommittedOffset, ConsumedRecord, Consumer, ConsumerOptions, PollOptions, TopicPartition } from '../types.ts';
import type { PartitionLog } from './partition-log.ts';
import type { GroupMember } from './consumer-group.ts';
import type { BusLogger } from './logger.ts';

/** What a consumer needs from its bus. */
export interface ConsumerHost {
  readonly logger: BusLogger;
  partitionLog(topic: string, partition: number): PartitionLog | undefined;
  committedOffset(groupId: string, tp: TopicPartition): CommittedOffset | null;
  commitOffsets(groupId: string, offsets: CommittedOffset[]): Promise<void>;
  leaveGroup(consumer: EmbeddedConsumer): void;
  /** Throws the bus-closed error when the bus is closed. */
  assertOpen(operation: string): void;
}

interface Slot {
  topic: string;
  partition: number;
  log: PartitionLog;
  /** Next offset to fetch; -1 until first used (then taken from the committed offset). */
  position: number;
}

type RebalanceListener = (event: { assigned: TopicPartition[]; revoked: TopicPartition[] }) => void;

/** Bounds memory per poll: a partition contributes at most this many bytes to one poll. */
const MAX_BYTES_PER_PARTITION_READ = 4 * 1024 * 1024;

export class EmbeddedConsumer implements Consumer, GroupMember {
  readonly memberId: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  private readonly fromBeginning: boolean;
  private readonly host: ConsumerHost;
  private slots: Slot[] = [];
  private readonly listeners: RebalanceListener[] = [];
  private closed = false;
  private polling = false;
  private generation = 0;
  private cursor = 0;
  private wakeWaiter: (() => void) | null = null;

  constructor(host: ConsumerHost, options: ConsumerOptions, memberId: string) {
    this.host = host;
    this.memberId = memberId;
    this.groupId = options.groupId;
    this.topics = [...new Set(options.topics)];
    this.fromBeginning = options.fromBeginning ?? true;
  }

  assignment(): TopicPartition[] {
    return this.slots.map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  applyAssignment(partitions: TopicPartition[]): void {
    const old = new Map<string, Slot>();
    for (const s of this.slots) old.set(slotKey(s.topic, s.partition), s);
    const next: Slot[] = [];
    const assigned: TopicPartition[] = [];
    for (const tp of partitions) {
      const key = slotKey(tp.topic, tp.partition);
      const kept = old.get(key);
      if (kept !== undefined) {
        next.push(kept);
        old.delete(key);
        continue;
      }
      const log = this.host.partitionLog(tp.topic, tp.partition);
      if (log === undefined) continue;
      next.push({ topic: tp.topic, partition: tp.partition, log, position: -1 });
      assigned.push({ topic: tp.topic, partition: tp.partition });
    }
    const revoked = [...old.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
    this.slots = next;
    this.generation++;
    this.wake();
    if (assigned.length === 0 && revoked.length === 0) return;
    // Delivered after the rebalance completes (and after listeners registered right after
    // bus.consumer() returns), in order.
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
    const { maxRecords, maxWaitMs } = options;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new Error(`poll: maxRecords must be a positive integer, got ${maxRecords}`);
    if (!(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) throw new Error(`poll: maxWaitMs must be a non-negative number, got ${maxWaitMs}`);
    if (this.polling) throw new Error('poll: another poll is still running on this consumer (a consumer is not safe for concurrent polls)');
    this.polling = true;
    try {
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        const records = await this.fetch(maxRecords);
        if (records.length > 0 || this.closed) return records;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return records;
        // Checked synchronously right before registering the waiter, so no append is missed.
        if (this.hasDataReady()) continue;
        await this.waitForData(remaining);
      }
    } finally {
      this.polling = false;
    }
  }

  private async fetch(maxRecords: number): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    const generation = this.generation;
    // Which slot read which records: a partition revoked and assigned again mid-fetch has a new
    // slot, reading again from the committed offset, so the old slot's records must not go out.
    const reads: Array<{ slot: Slot; from: number; to: number }> = [];
    let progress = true;
    while (out.length < maxRecords && progress && !this.closed) {
      progress = false;
      const slots = this.slots;
      const n = slots.length;
      if (n === 0) break;
      // Fair share per partition, starting at a rotating partition; later passes hand the
      // unused budget to partitions that still have records.
      const quota = Math.max(1, Math.ceil((maxRecords - out.length) / n));
      const first = this.cursor++ % n;
      for (let k = 0; k < n && out.length < maxRecords; k++) {
        const slot = slots[(first + k) % n];
        if (slot.position < 0) this.initPosition(slot);
        if (slot.position >= slot.log.highWatermark) continue;
        const before = out.length;
        const next = await slot.log.read(slot.position, Math.min(quota, maxRecords - out.length), MAX_BYTES_PER_PARTITION_READ, out);
        if (this.slots.includes(slot)) {
          slot.position = next;
          if (out.length > before) {
            progress = true;
            reads.push({ slot, from: before, to: out.length });
          }
        } else {
          out.length = before;
        }
      }
    }
    if (generation !== this.generation && out.length > 0) {
      // A rebalance ran during the reads: hand back only what slots still ours read.
      const kept: ConsumedRecord[] = [];
      for (const r of reads) if (this.slots.includes(r.slot)) for (let i = r.from; i < r.to; i++) kept.push(out[i]);
      return kept;
    }
    return out;
  }

  private initPosition(slot: Slot): void {
    const committed = this.host.committedOffset(this.groupId, slot);
    const hw = slot.log.highWatermark;
    if (committed === null) {
      slot.position = this.fromBeginning ? slot.log.logStartOffset : hw;
    } else if (committed.offset > hw) {
      this.host.logger.warn(
        { groupId: this.groupId, topic: slot.topic, partition: slot.partition, committed: committed.offset, highWatermark: hw },
        'bus: committed offset is past the end of the log; starting at the end',
      );
      slot.position = hw;
    } else {
      slot.position = committed.offset;
    }
  }

  private hasDataReady(): boolean {
    for (const s of this.slots) {
      if (s.position < 0 || s.position < s.log.highWatermark) return true;
    }
    return false;
  }

  private waitForData(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const logs = this.slots.map((s) => s.log);
      const done = (): void => {
        clearTimeout(timer);
        for (const log of logs) log.appendWaiters.delete(done);
        if (this.wakeWaiter === done) this.wakeWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const log of logs) log.appendWaiters.add(done);
      this.wakeWaiter = done;
    });
  }

  private wake(): void {
    this.wakeWaiter?.();
  }

  async commit(offsets: CommittedOffset[]): Promise<void> {
    this.assertUsable('commit');
    await this.host.commitOffsets(this.groupId, offsets);
  }

  async committed(tp: TopicPartition): Promise<CommittedOffset | null> {
    this.host.assertOpen('committed');
    return this.host.committedOffset(this.groupId, tp);
  }

  seek(tp: TopicPartition, offset: number): void {
    this.assertUsable('seek');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`seek: offset must be a non-negative integer, got ${offset}`);
    const slot = this.slots.find((s) => s.topic === tp.topic && s.partition === tp.partition);
    if (slot === undefined) throw new Error(`seek: ${tp.topic}/${tp.partition} is not assigned to this consumer`);
    slot.position = offset;
    this.wake();
  }

  onRebalance(listener: RebalanceListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.slots = [];
    this.generation++;
    this.host.leaveGroup(this);
    this.wake();
  }

  /** Closed by the bus shutting down: no rebalance of the others (they are closing too). */
  closeForShutdown(): void {
    this.closed = true;
    this.slots = [];
    this.generation++;
    this.wake();
  }

  private assertUsable(operation: string): void {
    this.host.assertOpen(operation);
    if (this.closed) throw new Error(`${operation}: consumer ${this.memberId} of group ${this.groupId} is closed`);
  }
}

function slotKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
