/**
 * In-process group coordinator: tracks a group's live members and reassigns partitions
 * whenever one joins or leaves, or a subscribed topic appears.
 */
import type { TopicPartition } from '../types.ts';
import { roundRobinAssign } from './group-assignment.ts';

export interface GroupMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  /** Receives the member's complete new assignment. */
  applyAssignment(partitions: TopicPartition[]): void;
}

export class ConsumerGroup {
  readonly groupId: string;
  private readonly members: GroupMember[] = [];
  private readonly partitionCount: (topic: string) => number;
  private nextMemberSeq = 0;

  constructor(groupId: string, partitionCount: (topic: string) => number) {
    this.groupId = groupId;
    this.partitionCount = partitionCount;
  }

  get size(): number {
    return this.members.length;
  }

  /** Ids sort in join order, so the assignment is stable across rebalances. */
  newMemberId(): string {
    return `${this.groupId}-${String(this.nextMemberSeq++).padStart(8, '0')}`;
  }

  subscribes(topic: string): boolean {
    return this.members.some((m) => m.topics.includes(topic));
  }

  join(member: GroupMember): void {
    this.members.push(member);
    this.rebalance();
  }

  leave(member: GroupMember): void {
    const i = this.members.indexOf(member);
    if (i < 0) return;
    this.members.splice(i, 1);
    this.rebalance();
  }

  rebalance(): void {
    const assignment = roundRobinAssign(this.members, this.partitionCount);
    for (const m of this.members) m.applyAssignment(assignment.get(m.memberId) ?? []);
  }
}
