/**
 * Kafka's RoundRobinAssignor: all subscribed topic-partitions, sorted by topic then
 * partition, dealt one at a time to the members (sorted by id) subscribed to that topic.
 * Chosen over range assignment because our topics share partition counts, where range
 * would give the first members a partition of every topic more than the others.
 */
import type { TopicPartition } from '../types.ts';

export interface AssignableMember {
  readonly memberId: string;
  readonly topics: readonly string[];
}

export function roundRobinAssign(
  members: readonly AssignableMember[],
  partitionCount: (topic: string) => number,
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, TopicPartition[]>();
  for (const m of sorted) result.set(m.memberId, []);
  if (sorted.length === 0) return result;
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  let cursor = 0;
  for (const topic of topics) {
    const n = partitionCount(topic);
    for (let partition = 0; partition < n; partition++) {
      // Next member in the circle that subscribes to this topic (one exists: topic came from a member).
      for (let tries = 0; tries < sorted.length; tries++) {
        const m = sorted[cursor % sorted.length];
        cursor++;
        if (m.topics.includes(topic)) {
          result.get(m.memberId)!.push({ topic, partition });
          break;
        }
      }
    }
  }
  return result;
}
