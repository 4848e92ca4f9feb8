/**
 * What the bus reads about the cluster through one Admin client: topics (id, partition
 * count, leaders), broker addresses, and partition offsets by time (ListOffsets).
 */
import { findErrorBy, type Admin } from '@platformatic/kafka';
import type { BrokerAddress } from './coordinator.ts';

export interface TopicInfo {
  name: string;
  /** Kafka's topic UUID (group assignments and fetches name topics by it). */
  id: string;
  partitions: number;
  /** Leader broker id per partition; -1 while a partition has none. */
  leaders: number[];
}

/** ListOffsets special timestamps. */
export const LATEST = -1n;
export const EARLIEST = -2n;

export class ClusterView {
  private readonly admin: Admin;
  private readonly byId = new Map<string, string>();

  constructor(admin: Admin) {
    this.admin = admin;
  }

  /** The topic, or null when the cluster does not have it. */
  async topic(name: string, forceUpdate = false): Promise<TopicInfo | null> {
    try {
      const metadata = await this.admin.metadata({ topics: [name], forceUpdate });
      const t = metadata.topics.get(name);
      if (t === undefined) return null;
      this.byId.set(t.id, name);
      return { name, id: t.id, partitions: t.partitionsCount, leaders: Array.from({ length: t.partitionsCount }, (_, p) => t.partitions[p]?.leader ?? -1) };
    } catch (err) {
      if (isUnknownTopic(err)) return null;
      throw err;
    }
  }

  /** Name of a topic id seen in an earlier topic() answer. */
  nameOfId(id: string): string | undefined {
    return this.byId.get(id);
  }

  async broker(nodeId: number): Promise<BrokerAddress | undefined> {
    const b = this.admin.currentMetadata?.brokers.get(nodeId) ?? (await this.admin.metadata({ topics: [] })).brokers.get(nodeId);
    return b === undefined ? undefined : { host: b.host, port: b.port };
  }

  /** The bootstrap brokers, then every broker the last metadata named. */
  knownBrokers(bootstrap: BrokerAddress[]): BrokerAddress[] {
    const out = [...bootstrap];
    for (const b of this.admin.currentMetadata?.brokers.values() ?? []) {
      if (!out.some((o) => o.host === b.host && o.port === b.port)) out.push({ host: b.host, port: b.port });
    }
    return out;
  }

  async brokerCount(): Promise<number> {
    return (await this.admin.metadata({ topics: [], forceUpdate: true })).brokers.size;
  }

  /**
   * Offsets of partitions at a timestamp (or LATEST / EARLIEST); -1 where no record is at or
   * after the timestamp. Indexed by partition.
   */
  async listOffsets(topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, number>> {
    const listed = await this.admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
    const out = new Map<number, number>();
    for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, Number(p.offset));
    return out;
  }
}

export function isUnknownTopic(err: unknown): boolean {
  return (
    findErrorBy(err as Error, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION') !== null ||
    findErrorBy(err as Error, 'apiId', 'UNKNOWN_TOPIC_ID') !== null ||
    ((err as Error)?.message ?? '').startsWith('Unknown topic ')
  );
}
