/**
 * One Fetch request to a partition leader, long-polled by the broker until data arrives or
 * `maxWaitMs` passes. Full fetches (no incremental fetch session): the consumer asks for few
 * partitions, and a stateless request needs no session repair after errors or reassignments.
 */
import { fetchV17, protocolErrorsCodesById, type ConnectionPool } from '@platformatic/kafka';
import type { ConsumedRecord } from '../types.ts';
import type { BrokerAddress } from './coordinator.ts';
import { fromKafkaBatches } from './records.ts';

/** Bounds memory per fetch; Kafka still returns a first batch larger than this (KIP-74). */
const FETCH_MAX_BYTES = 16 * 1024 * 1024;
const PARTITION_MAX_BYTES = 4 * 1024 * 1024;
const READ_UNCOMMITTED = 0;

type FetchResponse = fetchV17.FetchResponse;
/** Session id 0 with epoch -1: a full fetch that opens no session. */
const NO_SESSION_ID = 0;
const NO_SESSION_EPOCH = -1;

export interface FetchTarget {
  topic: string;
  topicId: string;
  partition: number;
  offset: number;
}

export interface FetchedPartition {
  target: FetchTarget;
  /** Kafka's error name for this partition (e.g. 'OFFSET_OUT_OF_RANGE'), or null. */
  error: string | null;
  records: ConsumedRecord[];
  /** Where the next fetch of this partition starts. */
  nextOffset: number;
}

export async function fetchPartitions(pool: ConnectionPool, leader: BrokerAddress, targets: FetchTarget[], maxWaitMs: number): Promise<FetchedPartition[]> {
  const byTopic = new Map<string, FetchTarget[]>();
  for (const t of targets) {
    const list = byTopic.get(t.topicId);
    if (list === undefined) byTopic.set(t.topicId, [t]);
    else list.push(t);
  }
  const topics = [...byTopic].map(([topicId, list]) => ({
    topicId,
    partitions: list.map((t) => ({ partition: t.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(t.offset), lastFetchedEpoch: -1, partitionMaxBytes: PARTITION_MAX_BYTES })),
  }));
  const connection = await pool.get(leader);
  let response: FetchResponse;
  try {
    response = await fetchV17.api.async(connection, Math.max(0, Math.round(maxWaitMs)), 1, FETCH_MAX_BYTES, READ_UNCOMMITTED, NO_SESSION_ID, NO_SESSION_EPOCH, topics, [], '');
  } catch (err) {
    // Partition-level errors come as an error carrying the whole response: the other partitions' data is good.
    const partial = (err as { response?: FetchResponse }).response;
    if (partial === undefined || partial.errorCode !== 0) throw err;
    response = partial;
  }
  const out: FetchedPartition[] = [];
  for (const topic of response.responses) {
    const requested = byTopic.get(topic.topicId);
    if (requested === undefined) continue;
    for (const p of topic.partitions) {
      const target = requested.find((t) => t.partition === p.partitionIndex);
      if (target === undefined) continue;
      const records: ConsumedRecord[] = [];
      let nextOffset = target.offset;
      if (p.errorCode === 0 && p.records) nextOffset = fromKafkaBatches(target.topic, target.partition, p.records, target.offset, records);
      out.push({ target, error: p.errorCode === 0 ? null : (protocolErrorsCodesById[p.errorCode] ?? `error ${p.errorCode}`), records, nextOffset });
    }
  }
  return out;
}
