/** Storage: the ClickHouse store, its schema and migrations, row mapping, and the bus -> store consumer. */
export { createStore, type StoreOptions } from './clickhouse-store.ts';
export { rawBodyBytes, type Store, type InsertOptions, type QueryParams, type RawBody, type RawFormat } from './store.ts';
export { migrate, type MigrateLogger, type MigrateOptions, type MigrateResult } from './migrate.ts';
export { createTableStatements, checkClusterName, type DdlTarget, type TableSpec } from './cluster-ddl.ts';
export { countRows, insertChecked, type CheckedInsert, type CheckedInsertLogger } from './checked-insert.ts';
export { IngestLedger, CoveredRanges, LEDGER_TABLE } from './ledger.ts';
export {
  MIGRATIONS,
  MIGRATIONS_TABLE,
  TRACES_TABLE,
  LOGS_TABLE,
  METRIC_TABLES,
  DEDUP_WINDOW,
  type Migration,
  type RetentionDays,
} from './schema.ts';
export { createBatchConsumer, checkPositive, type BatchConsumer, type BatchConsumerOptions, type BatchConsumerLogger, type BatchWriter, type SealedBatch } from './batch-consumer.ts';
export { createStorageConsumer, type StorageConsumer, type StorageConsumerOptions, type ConsumerLogger } from './consumer.ts';
export * from './rows/index.ts';
// The raw mappers (bus record bytes -> Native blocks / JSONEachRow lines) the consumer inserts with, for callers that check records the way storage reads them.
export { NATIVE_MAPPERS, NativeRowSink, type NativeMapper } from './rows/native/index.ts';
export { WIRE_MAPPERS, TextRowSink, type WireMapper } from './rows/wire/index.ts';
