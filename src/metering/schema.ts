/**
 * The usage table, owned by metering: whoever writes or reads usage creates it with
 * `ensureUsageTable` (idempotent, and ON CLUSTER when the store is a cluster).
 *
 * A row holds the counts of one (tenant, signal, hour) within one batch of the metering
 * consumer: the offsets [BatchStart, BatchEnd) of one bus partition. Topic names the topic
 * incarnation, `<topic>@<topicId>` (offsets start again at 0 when a topic is created again);
 * rows written before carry the bare topic name. Two layers keep a batch
 * from counting twice when it is written again after a crash (see consumer.ts):
 * - the insert carries a deduplication token made of the batch's offsets, so ClickHouse drops
 *   the repeat while the table's deduplication window remembers it;
 * - past that window, the engine still holds the line: ReplacingMergeTree keyed by the batch
 *   (..., Topic, Partition, BatchStart) keeps one row per key, and readers take
 *   argMax(.., BatchEnd) per key, so a repeat not yet merged away is not summed either.
 * A deliberate rewind of the `metering` group (setCommitted, `ollystack replay`) counts
 * nothing twice: the consumer skips the offset ranges its ingest ledger says are counted
 * (src/storage/ledger.ts), whatever the new batch bounds. To recount a range, delete its usage
 * rows and its ledger rows (ConsumerGroup 'metering') first.
 *
 * No TTL: usage is billing data, a few rows per tenant, hour and partition.
 */
import { DEDUP_WINDOW, createTableStatements, type DdlTarget, type Store, type TableSpec } from '../storage/index.ts';

export const USAGE_TABLE = 'ollystack_usage';

/** The usage table; on a ClickHouse cluster sharded by tenant, so one tenant's usage is read from one shard. */
export function usageTableSpec(): TableSpec {
  return {
    name: USAGE_TABLE,
    body: `
  TenantId LowCardinality(String),
  Hour DateTime('UTC'),
  Signal LowCardinality(String),
  Topic LowCardinality(String),
  Partition UInt32,
  BatchStart UInt64,
  BatchEnd UInt64,
  Events UInt64,
  Bytes UInt64`,
    engine: 'ReplacingMergeTree',
    engineArgs: ['BatchEnd'],
    partitionBy: 'toYYYYMM(Hour)',
    orderBy: '(TenantId, Hour, Signal, Topic, Partition, BatchStart)',
    settings: (dedupWindow) => `${dedupWindow} = ${DEDUP_WINDOW}`,
    placement: { kind: 'sharded', shardingKey: 'cityHash64(TenantId)' },
  };
}

/** One row as inserted (JSONEachRow: Hour in Unix seconds). A type, not an interface, so it is a Record for Store.insert. */
export type UsageTableRow = {
  TenantId: string;
  Hour: number;
  Signal: string;
  Topic: string;
  Partition: number;
  BatchStart: number;
  BatchEnd: number;
  Events: number;
  Bytes: number;
};

export async function ensureUsageTable(store: Store, target: DdlTarget = {}): Promise<void> {
  for (const sql of createTableStatements(usageTableSpec(), target)) await store.command(sql);
}
