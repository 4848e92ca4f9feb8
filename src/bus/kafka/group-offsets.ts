/**
 * Committed offsets of a group, with their metadata string, through the raw OffsetCommit and
 * OffsetFetch APIs (the client's own commit() drops the metadata the storage consumer keeps
 * its pending-batch marker in).
 */
import { GroupHasMembersError } from '../errors.ts';
import { offsetCommitV9, offsetFetchV9 } from '@platformatic/kafka';
import type { CommittedOffset, TopicPartition } from '../types.ts';
import type { GroupCoordinator } from './coordinator.ts';
import { validateTopicName } from '../embedded/topic-store.ts';
import { describeKafkaError, hasKafkaError, isCoordinatorError, sleep } from './errors.ts';

type OffsetCommitRequestTopic = offsetCommitV9.OffsetCommitRequestTopic;

/** Kafka's default offset.metadata.max.bytes. */
const MAX_METADATA_CHARS = 4096;
const RETRY_DELAY_MS = 100;

export function validateCommits(operation: string, offsets: CommittedOffset[]): void {
  if (!Array.isArray(offsets)) throw new Error(`${operation}: offsets must be an array`);
  offsets.forEach((o, i) => {
    const where = `${operation}: offsets[${i}]`;
    if (o === null || typeof o !== 'object') throw new Error(`${where} must be an object`);
    validateTopicName(o.topic, `${where}.topic`);
    if (!Number.isInteger(o.partition) || o.partition < 0) throw new Error(`${where}.partition must be a non-negative integer, got ${o.partition}`);
    if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw new Error(`${where}.offset must be a non-negative integer, got ${o.offset}`);
    if (o.metadata !== undefined && typeof o.metadata !== 'string') throw new Error(`${where}.metadata must be a string`);
    if (o.metadata !== undefined && o.metadata.length > MAX_METADATA_CHARS) throw new Error(`${where}.metadata is longer than ${MAX_METADATA_CHARS} characters`);
  });
}

function commitTopics(offsets: CommittedOffset[]): OffsetCommitRequestTopic[] {
  const byTopic = new Map<string, OffsetCommitRequestTopic>();
  for (const o of offsets) {
    let t = byTopic.get(o.topic);
    if (t === undefined) byTopic.set(o.topic, (t = { name: o.topic, partitions: [] }));
    // An empty string (not null) so a commit without metadata replaces the previous one.
    t.partitions.push({ partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedLeaderEpoch: -1, committedMetadata: o.metadata ?? '' });
  }
  return [...byTopic.values()];
}

export interface Membership {
  memberId: string;
  memberEpoch: number;
}

/**
 * Commits as `member` (its current epoch read at each attempt), or as an outside tool when
 * `member` is null: Kafka accepts that only while the group has no members.
 */
export async function commitOffsets(
  coordinator: GroupCoordinator,
  member: (() => Membership) | null,
  offsets: CommittedOffset[],
  deadline: number,
): Promise<void> {
  if (offsets.length === 0) return;
  const topics = commitTopics(offsets);
  for (let attempt = 0; ; attempt++) {
    const m = member?.() ?? { memberId: '', memberEpoch: -1 };
    try {
      await coordinator.call((c) => offsetCommitV9.api.async(c, coordinator.groupId, m.memberEpoch, m.memberId, null, topics));
      return;
    } catch (err) {
      if (member === null && hasKafkaError(err, 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_MEMBER_EPOCH', 'STALE_MEMBER_EPOCH')) {
        throw new GroupHasMembersError(coordinator.groupId, '', { cause: err });
      }
      if (hasKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) {
        throw new Error(`commit: unknown topic or partition in ${offsets.map((o) => `${o.topic}/${o.partition}`).join(', ')}`, { cause: err });
      }
      // A heartbeat moved the member epoch on while the commit was on its way: retry with the new one.
      const retriable = isCoordinatorError(err) || hasKafkaError(err, 'STALE_MEMBER_EPOCH', 'REBALANCE_IN_PROGRESS');
      if (!retriable || Date.now() + RETRY_DELAY_MS >= deadline) {
        throw new Error(`commit of group ${coordinator.groupId} failed: ${describeKafkaError(err)}`, { cause: err });
      }
      await sleep(Math.min(RETRY_DELAY_MS * (attempt + 1), 1_000));
    }
  }
}

/** Committed offsets of the given partitions; partitions never committed are absent. */
export async function fetchCommitted(coordinator: GroupCoordinator, partitions: TopicPartition[], deadline: number): Promise<Map<string, CommittedOffset>> {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = byTopic.get(tp.topic);
    if (list === undefined) byTopic.set(tp.topic, [tp.partition]);
    else list.push(tp.partition);
  }
  const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  for (let attempt = 0; ; attempt++) {
    try {
      // memberId null and epoch -1: read as an observer, valid whatever the membership state.
      const response = await coordinator.call((c) => offsetFetchV9.api.async(c, [{ groupId: coordinator.groupId, memberId: null, memberEpoch: -1, topics }], false));
      const out = new Map<string, CommittedOffset>();
      for (const group of response.groups) {
        for (const topic of group.topics) {
          for (const p of topic.partitions) {
            if (p.committedOffset < 0n) continue;
            const committed: CommittedOffset = { topic: topic.name, partition: p.partitionIndex, offset: Number(p.committedOffset) };
            if (p.metadata) committed.metadata = p.metadata;
            out.set(offsetKey(topic.name, p.partitionIndex), committed);
          }
        }
      }
      return out;
    } catch (err) {
      const retriable = isCoordinatorError(err) || hasKafkaError(err, 'UNSTABLE_OFFSET_COMMIT');
      if (!retriable || Date.now() + RETRY_DELAY_MS >= deadline) {
        throw new Error(`reading committed offsets of group ${coordinator.groupId} failed: ${describeKafkaError(err)}`, { cause: err });
      }
      await sleep(Math.min(RETRY_DELAY_MS * (attempt + 1), 1_000));
    }
  }
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
