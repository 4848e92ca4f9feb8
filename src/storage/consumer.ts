/**
 * The storage consumer: bus records -> micro-batches of rows -> ClickHouse, exactly once.
 *
 * The batching, the `pending:` commit protocol, deduplication tokens, the ingest ledger,
 * retries and stop semantics are the batch consumer's (batch-consumer.ts); this is its writer
 * for the signal tables: a record is decoded into the batch's rows, and a sealed batch is one
 * insert per table, with dedupToken `<topic>@<topicId>:<partition>:<start>:<end>:<nonce>:<table>`.
 */
import type { Registry } from 'prom-client';
import type { Bus, ConsumedRecord } from '../bus/index.ts';
import { HEADER_TENANT } from '../bus/index.ts';
import type { Signal } from '../telemetry/index.ts';
import { checkPositive, createBatchConsumer, type BatchConsumer, type BatchConsumerLogger, type BatchWriter, type SealedBatch } from './batch-consumer.ts';
import { countRows, insertChecked, type CheckedInsert } from './checked-insert.ts';
import { createConsumerMetrics, type ConsumerMetrics } from './consumer-metrics.ts';
import { RECORD_MAPPERS, type Row } from './rows/index.ts';
import { NATIVE_MAPPERS, NativeRowSink, NativeSinkPool } from './rows/native/index.ts';
import { RowSink } from './rows/sink.ts';
import { TextRowSink, WIRE_MAPPERS } from './rows/wire/index.ts';
import { RAW_FORMATS, type RawBody, type RawFormat, type Store } from './store.ts';

/** pino-compatible subset. */
export interface ConsumerLogger extends BatchConsumerLogger {
  debug?(obj: object, msg?: string): void;
}

export interface StorageConsumerOptions {
  bus: Bus;
  store: Store;
  groupId?: string;
  topics?: Signal[];
  /** A partition's batch is written once it holds this many rows (default 200,000: one part a second at 200k rows/s)... */
  batchMaxRows?: number;
  /** ...or once its first record waited this long. */
  batchMaxMs?: number;
  logger?: ConsumerLogger;
  registry?: Registry;
  /** Records asked from the bus per poll. */
  pollMaxRecords?: number;
  /** First retry delay after a failed insert; doubles up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * How batches go to a store with raw inserts: 'Native' (default; columnar blocks, the
   * cheapest for ClickHouse to ingest) or 'JSONEachRow' (the text path, kept as the reference
   * the Native encoders are checked against).
   */
  insertFormat?: RawFormat;
  /**
   * Bytes of emptied Native sinks kept for later batches (default batchMaxRows x 4 KiB, about
   * three full batches of span rows; 0 keeps none). Reusing a sink saves growing its buffers
   * again, their fresh pages and the garbage collections their memory triggers: with many
   * partitions (one open batch each), more of them fit and the consumer spends less CPU per row.
   */
  sinkPoolMaxBytes?: number;
  /**
   * Keep the ingest ledger (default true): the offset ranges written, recorded in the store
   * after each batch and consulted when a partition is taken, so records already stored are
   * skipped whatever the batch boundaries (a replay from a time, a rebalance). Needs the
   * ledger table (migration 2); test doubles without it pass false.
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

/** start(); stop(): writes what was polled (one attempt), commits, closes; flushed(): everything polled so far is stored and committed. */
export type StorageConsumer = BatchConsumer;

type BatchSink = NativeRowSink | TextRowSink | RowSink;
type SinkMapper = (bytes: Buffer, tenant: string, sink: BatchSink) => number;

/** One batch: its rows and the mapper of its topic (null for a topic without tables). */
interface RowBatch {
  sink: BatchSink;
  mapper: SinkMapper | null;
}

/** A batch's tables as [table, raw body or row objects, row count]. */
function batchEntries(sink: BatchSink): Array<[string, { raw: RawBody } | { rows: Row[] }, number]> {
  if (!(sink instanceof RowSink)) return sink.entries().map(([table, raw, count]) => [table, { raw }, count]);
  return [...sink.entries()].map(([table, rows]) => [table, { rows }, rows.length]);
}

function errorInfo(err: unknown): { err: string } {
  return { err: err instanceof Error ? err.message : String(err) };
}

function validate(options: StorageConsumerOptions): void {
  const { batchMaxRows, batchMaxMs, pollMaxRecords, retryBaseMs, retryMaxMs } = options;
  checkPositive('storage consumer', { batchMaxRows, batchMaxMs, pollMaxRecords, retryBaseMs, retryMaxMs });
  const pool = options.sinkPoolMaxBytes;
  if (pool !== undefined && !(Number.isSafeInteger(pool) && pool >= 0)) throw new Error(`storage consumer: sinkPoolMaxBytes must be a non-negative integer, got ${pool}`);
  if (options.insertFormat !== undefined && !RAW_FORMATS.includes(options.insertFormat)) {
    throw new Error(`storage consumer: insertFormat must be one of ${RAW_FORMATS.join(', ')}, got ${JSON.stringify(options.insertFormat)}`);
  }
  for (const t of options.topics ?? []) {
    if (!(t in RECORD_MAPPERS)) throw new Error(`storage consumer: topics: unknown signal topic '${t}' (expected traces, metrics or logs)`);
  }
}

/**
 * The default sinkPoolMaxBytes, per row of batchMaxRows: a full batch of span rows takes about
 * 1.2 KB a row (columns, dictionaries, the block written from them), so about three full
 * batches, or the part-filled batches of many partitions.
 */
const SINK_POOL_BYTES_PER_ROW = 4096;

/**
 * A batch's rows of one table as a checked insert (checked-insert.ts): found and deleted by
 * their IngestBatch (a minmax index on it keeps both to the granules of that time).
 */
function batchRows(store: Store, table: string, rows: number, ingestBatch: bigint, b: SealedBatch, insert: (dedupToken: string) => Promise<void>): CheckedInsert {
  return {
    what: `batch ${b.incarnation}:${b.partition}:${b.start}-${b.end} into ${table}`,
    rows,
    insert,
    count: () => countRows(store, `SELECT count() AS n FROM ${table} WHERE IngestBatch = {id:UInt64}`, { id: String(ingestBatch) }),
    async remove() {
      // ALTER ... DELETE rather than DELETE FROM: servers back to the minimum version have it.
      // The id is a number we drew, not input: written into the text as such.
      await store.command(`ALTER TABLE ${table} DELETE WHERE IngestBatch = ${BigInt.asUintN(64, ingestBatch)} SETTINGS mutations_sync = 2`);
    },
  };
}

/** Decodes records into row sinks and inserts a batch's tables, one insert each. */
function rowWriter(store: Store, insertFormat: RawFormat, sinkPoolMaxBytes: number, metrics: ConsumerMetrics, logger: ConsumerLogger | undefined): BatchWriter<RowBatch> {
  // Decoding straight to Native columns (or JSONEachRow text) is several times cheaper than
  // protobufjs objects -> row objects -> JSON.stringify, and chDB inserts Native blocks about 3x
  // faster than the same rows as JSON text (consumer.bench.ts); a store without raw inserts (a
  // test double) gets row objects.
  const insertRaw = store.insertRaw?.bind(store);
  const mappers = (insertRaw ? (insertFormat === 'Native' ? NATIVE_MAPPERS : WIRE_MAPPERS) : RECORD_MAPPERS) as Record<string, SinkMapper>;
  // A batch's sink grows to hold it; reusing it saves the regrowing, the fresh pages and the garbage.
  const pool = insertRaw && insertFormat === 'Native' ? new NativeSinkPool(sinkPoolMaxBytes) : null;
  const newSink = (): BatchSink => (!insertRaw ? new RowSink() : pool !== null ? pool.take() : new TextRowSink());
  return {
    open(topic: string, _partition: number, ingestBatch: bigint | null): RowBatch {
      const sink = newSink();
      if (!(sink instanceof RowSink)) sink.ingestBatch = ingestBatch;
      return { sink, mapper: Object.hasOwn(mappers, topic) ? mappers[topic] : null };
    },
    add(batch: RowBatch, rec: ConsumedRecord): number {
      const tenant = rec.headers[HEADER_TENANT];
      if (batch.mapper === null) {
        metrics.recordDropped('topic');
      } else if (!tenant) {
        metrics.recordDropped('tenant');
        logger?.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'bus record without tenant header: skipped');
      } else {
        try {
          return batch.mapper(rec.value, tenant, batch.sink);
        } catch (err) {
          metrics.recordDropped('decode');
          logger?.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset, ...errorInfo(err) }, 'bus record could not be decoded: skipped');
        }
      }
      return 0;
    },
    async write(batch: RowBatch, b: SealedBatch, owned: () => boolean): Promise<void> {
      const ingestBatch = b.ingestBatch;
      for (const [table, body, count] of batchEntries(batch.sink)) {
        if (!owned()) return;
        if ('rows' in body && ingestBatch !== null) for (const row of body.rows) row.IngestBatch = String(ingestBatch);
        const insert = (dedupToken: string) => ('raw' in body ? insertRaw!(table, insertFormat, body.raw, { dedupToken }) : store.insert(table, body.rows, { dedupToken }));
        const t0 = performance.now();
        try {
          const token = b.tokenBase + table;
          if (b.mayBeWritten && ingestBatch !== null) await insertChecked(batchRows(store, table, count, ingestBatch, b, insert), token, logger);
          else await insert(token);
        } catch (err) {
          metrics.insertError(table);
          throw err;
        }
        metrics.insertDuration(table, (performance.now() - t0) / 1000);
        metrics.rowsWritten(table, count);
      }
      metrics.batch(b.topic, b.units);
    },
    recordAlreadyWritten: () => metrics.recordSkipped(),
    release(batch: RowBatch): void {
      if (pool !== null && batch.sink instanceof NativeRowSink) pool.give(batch.sink);
    },
  };
}

export function createStorageConsumer(options: StorageConsumerOptions): StorageConsumer {
  validate(options);
  const metrics = createConsumerMetrics(options.registry);
  const batchMaxRows = options.batchMaxRows ?? 200_000;
  // bus, store, logger, retries and ledger as given; the rest with the storage defaults.
  return createBatchConsumer({
    ...options,
    name: 'storage consumer',
    groupId: options.groupId ?? 'storage',
    topics: options.topics ?? ['traces', 'metrics', 'logs'],
    batchMaxUnits: batchMaxRows,
    batchMaxMs: options.batchMaxMs ?? 2_000,
    // A bus record is a whole export request (often hundreds of items), so polls stay small.
    pollMaxRecords: options.pollMaxRecords ?? 64,
    writer: rowWriter(options.store, options.insertFormat ?? 'Native', options.sinkPoolMaxBytes ?? batchMaxRows * SINK_POOL_BYTES_PER_ROW, metrics, options.logger),
  });
}
