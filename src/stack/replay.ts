/**
 * Replay: rewind a consumer group on one topic to a time or an offset and let it consume again.
 *
 * The group's members must be stopped (Kafka only lets an empty group's offsets be changed).
 * The replay runs the group's own component in this process until every partition of the
 * topic reached its target (the end of the log when the replay started, or the offsets of
 * `to`), then puts back any partition's position that was further along before the replay,
 * so records after `to` are not consumed twice. The store side is idempotent (the storage
 * consumer skips offset ranges its ledger says are already written), so a replay over data
 * that is still in the store does not duplicate it.
 */
import type { Bus, CommittedOffset } from '../bus/index.ts';

export interface ReplayRequest {
  topic: string;
  group: string;
  /** Start at the first record at or after this time (Unix ms)... */
  fromTime?: number;
  /** ...or at this offset in every partition (clamped to the log). */
  fromOffset?: number;
  /** Stop once the group passed the first record at or after this time; default: the end of the log now. */
  toTime?: number;
}

export interface PartitionPlan {
  partition: number;
  from: number;
  target: number;
  /** The group's position before the replay. */
  before: number;
}

export interface ReplayPlan {
  topic: string;
  group: string;
  partitions: PartitionPlan[];
  /** Records to consume again, over all partitions. */
  total: number;
}

export async function planReplay(bus: Bus, request: ReplayRequest): Promise<ReplayPlan> {
  if ((request.fromTime === undefined) === (request.fromOffset === undefined)) throw new Error('replay needs exactly one of a start time or a start offset');
  const lag = await bus.lag(request.group, request.topic);
  const fromByPartition = new Map<number, number>();
  if (request.fromTime !== undefined) {
    for (const p of await bus.offsetsForTime(request.topic, request.fromTime)) fromByPartition.set(p.partition, p.offset);
  }
  const targetByPartition = new Map<number, number>();
  if (request.toTime !== undefined) {
    if (request.fromTime !== undefined && request.toTime <= request.fromTime) throw new Error('replay: the end time must be after the start time');
    for (const p of await bus.offsetsForTime(request.topic, request.toTime)) targetByPartition.set(p.partition, p.offset);
  }
  const partitions = lag.map((p): PartitionPlan => {
    const from = Math.min(fromByPartition.get(p.partition) ?? request.fromOffset ?? 0, p.highWatermark);
    const target = Math.max(from, Math.min(targetByPartition.get(p.partition) ?? p.highWatermark, p.highWatermark));
    return { partition: p.partition, from, target, before: p.committed };
  });
  return { topic: request.topic, group: request.group, partitions, total: partitions.reduce((n, p) => n + (p.target - p.from), 0) };
}

/** Moves the (stopped) group to the plan's start offsets. */
export async function rewindGroup(bus: Bus, plan: ReplayPlan): Promise<void> {
  await bus.setCommitted(
    plan.group,
    plan.partitions.map((p) => ({ topic: plan.topic, partition: p.partition, offset: p.from })),
  );
}

/** Records of the plan the group has consumed again so far, and whether it reached every target. */
export async function replayProgress(bus: Bus, plan: ReplayPlan): Promise<{ done: number; finished: boolean }> {
  const lag = await bus.lag(plan.group, plan.topic);
  const committed = new Map(lag.map((p) => [p.partition, p.committed]));
  let done = 0;
  let finished = true;
  for (const p of plan.partitions) {
    const at = committed.get(p.partition) ?? p.from;
    done += Math.max(0, Math.min(at, p.target) - p.from);
    if (at < p.target) finished = false;
  }
  return { done, finished };
}

/**
 * After the replay (group stopped again): partitions the group had consumed further than
 * the replay went get their old position back. Returns the offsets it set.
 */
export async function restoreAfterReplay(bus: Bus, plan: ReplayPlan): Promise<CommittedOffset[]> {
  const lag = await bus.lag(plan.group, plan.topic);
  const now = new Map(lag.map((p) => [p.partition, p.committed]));
  const restore = plan.partitions
    .filter((p) => p.before > (now.get(p.partition) ?? 0))
    .map((p) => ({ topic: plan.topic, partition: p.partition, offset: p.before }));
  if (restore.length > 0) await bus.setCommitted(plan.group, restore);
  return restore;
}
