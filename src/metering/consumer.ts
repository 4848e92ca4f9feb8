/**
 * The metering consumer: a consumer group of its own on the telemetry topics, counting events
 * and bytes per tenant, signal and hour into the usage table. It reads headers and value
 * lengths only, never decodes a payload.
 *
 * Exactly once under at-least-once delivery and across rewinds: it is the storage batch
 * consumer (src/storage/batch-consumer.ts) with a counting writer. Per partition and batch
 * [start, end) of offsets it pre-commits `pending:<end>:<nonce>`, inserts the batch's usage
 * rows with dedupToken `<topic>@<topicId>:<partition>:<start>:<end>:<nonce>:ollystack_usage`,
 * records [start, end) in the ingest ledger of its group, then commits end. A restarted member re-forms
 * a pending batch exactly (same token, same row keys: ClickHouse drops the repeat, and the
 * table engine would replace it, schema.ts); a group rewound over counted offsets skips them
 * (the ledger), so nothing is counted twice.
 *
 * While the store fails the batch is retried with backoff and polling soon pauses: the data
 * waits in the bus.
 */
import type { Registry } from 'prom-client';
import type { Bus, ConsumedRecord } from '../bus/index.ts';
import { checkPositive, countRows, createBatchConsumer, insertChecked, type BatchConsumer, type BatchConsumerLogger, type BatchWriter, type SealedBatch, type Store } from '../storage/index.ts';
import { SIGNALS, type Signal } from '../telemetry/index.ts';
import { BatchCounter } from './aggregate.ts';
import { createMeteringMetrics, type MeteringMetrics } from './metrics.ts';
import { USAGE_TABLE } from './schema.ts';

export const METERING_GROUP = 'metering';

/** pino-compatible subset. */
export type MeteringLogger = BatchConsumerLogger;

export interface MeteringConsumerOptions {
  bus: Bus;
  store: Store;
  /** Default `metering`. */
  groupId?: string;
  /** Default every signal topic. */
  topics?: Signal[];
  /** A partition's batch is written once its first record waited this long (default 5 s)... */
  batchMaxMs?: number;
  /** ...or once it counted this many records (default 10,000). */
  batchMaxRecords?: number;
  /** Records asked from the bus per poll (default 500; records are counted, not decoded). */
  pollMaxRecords?: number;
  /** First retry delay after a failed write; doubles up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: MeteringLogger;
  registry?: Registry;
  /**
   * Keep the ingest ledger of the group (default true), so a rewound group (a replay) skips
   * what it counted already. Needs the ledger table (storage migration 2).
   */
  ledger?: boolean;
  /**
   * After writing a batch that may have been written before (a retry, a batch re-formed after a
   * crash), count its rows and write it again when they are not all there (default true; see
   * src/storage/checked-insert.ts). Off for a cluster store: replicated tables commit token and
   * rows together, and rows inserted through Distributed tables are not countable at once.
   */
  checkRetriedWrites?: boolean;
}

/** start(); stop(): writes what was polled (one attempt), commits, closes; flushed(): everything polled so far is counted and committed. */
export type MeteringConsumer = BatchConsumer;

function validate(options: MeteringConsumerOptions): void {
  const { batchMaxMs, batchMaxRecords, pollMaxRecords, retryBaseMs, retryMaxMs } = options;
  checkPositive('metering consumer', { batchMaxMs, batchMaxRecords, pollMaxRecords, retryBaseMs, retryMaxMs });
  for (const t of options.topics ?? []) {
    if (!SIGNALS.includes(t)) throw new Error(`metering consumer: topics: unknown signal topic '${t}' (expected traces, metrics or logs)`);
  }
}

/** Usage rows of a batch in the store (a repeat not yet replaced counts too: checked-insert.ts). */
function countUsageRows(store: Store, b: SealedBatch): Promise<number> {
  return countRows(
    store,
    `SELECT count() AS n FROM ${USAGE_TABLE} WHERE Topic = {topic:String} AND Partition = {partition:UInt32} AND BatchStart = {start:UInt64} AND BatchEnd = {end:UInt64}`,
    { topic: b.incarnation, partition: b.partition, start: b.start, end: b.end },
  );
}

/** Counts records per (tenant, signal, hour) and writes a batch's totals as usage rows. */
function usageWriter(store: Store, metrics: MeteringMetrics, logger: MeteringLogger | undefined): BatchWriter<BatchCounter> {
  return {
    open: () => new BatchCounter(),
    add(counter: BatchCounter, rec: ConsumedRecord): number {
      const outcome = counter.add(rec);
      if (outcome === 'counted') return 1;
      metrics.recordIncomplete(outcome);
      if (outcome === 'no-items') return 1;
      logger?.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'metering: bus record without tenant header: not counted');
      return 0;
    },
    async write(counter: BatchCounter, b: SealedBatch): Promise<void> {
      // Rows name the topic incarnation: a topic created again counts from offset 0 again, and its
      // batches must not take the row keys (so replace the counts) of the old one's.
      const rows = counter.rows(b.incarnation, b.partition, b.start, b.end);
      const insert = (dedupToken: string) => store.insert(USAGE_TABLE, rows, { dedupToken });
      try {
        if (!b.mayBeWritten) await insert(b.tokenBase + USAGE_TABLE);
        else await insertChecked({ what: `usage of batch ${b.incarnation}:${b.partition}:${b.start}-${b.end}`, rows: rows.length, insert, count: () => countUsageRows(store, b) }, b.tokenBase + USAGE_TABLE, logger);
      } catch (err) {
        metrics.insertError();
        throw err;
      }
      metrics.rowsWritten(rows.length);
    },
    recordAlreadyWritten: () => metrics.recordAlreadyCounted(),
  };
}

export function createMeteringConsumer(options: MeteringConsumerOptions): MeteringConsumer {
  validate(options);
  // bus, store, logger, retries and ledger as given; the rest with the metering defaults.
  return createBatchConsumer({
    ...options,
    name: 'metering consumer',
    groupId: options.groupId ?? METERING_GROUP,
    topics: options.topics ?? [...SIGNALS],
    batchMaxUnits: options.batchMaxRecords ?? 10_000,
    batchMaxMs: options.batchMaxMs ?? 5_000,
    pollMaxRecords: options.pollMaxRecords ?? 500,
    writer: usageWriter(options.store, createMeteringMetrics(options.registry), options.logger),
  });
}
