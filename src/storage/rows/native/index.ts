/**
 * Native row encoders: OTLP Export request bytes -> ClickHouse Native blocks per table,
 * column by column, without protobufjs objects, row objects or text. Each stores exactly the
 * rows the JSONEachRow wire mappers (../wire) store, accepts and rejects the same requests
 * (OtlpDecodeError), and is checked against them through chDB in differential.test.ts.
 */
import type { Signal, TenantId } from '../../../telemetry/signals.ts';
import { LOGS_TABLE, TRACES_TABLE } from '../../schema.ts';
import type { NativeTable } from './columns.ts';
import { LogsTable, appendLogNative } from './logs.ts';
import { METRIC_NATIVE_TABLES, appendMetricNative } from './metrics.ts';
import type { NativeRowSink } from './sink.ts';
import { TracesTable, appendTraceNative } from './traces.ts';

export { NativeRowSink, NativeSinkPool, type NativeEntry } from './sink.ts';
export type { NativeTable, ColumnDef } from './columns.ts';
export { appendTraceNative } from './traces.ts';
export { appendLogNative } from './logs.ts';
export { appendMetricNative } from './metrics.ts';

/** Decodes one bus record's value and appends its rows; returns the rows appended. */
export type NativeMapper = (bytes: Uint8Array, tenant: TenantId, sink: NativeRowSink) => number;

/** A record that fails half-way leaves nothing behind in the sink (as the other mappers). */
function atomic(map: NativeMapper): NativeMapper {
  return (bytes, tenant, sink) => {
    sink.begin();
    try {
      return map(bytes, tenant, sink);
    } catch (err) {
      sink.rollback();
      throw err;
    }
  };
}

export const NATIVE_MAPPERS: Record<Signal, NativeMapper> = {
  traces: atomic(appendTraceNative),
  metrics: atomic(appendMetricNative),
  logs: atomic(appendLogNative),
};

/** A new, empty encoder of each table, by table name (tests check their columns against the database's). */
export const NATIVE_TABLES: ReadonlyMap<string, () => NativeTable> = new Map([
  [TRACES_TABLE, () => new TracesTable()],
  [LOGS_TABLE, () => new LogsTable()],
  ...METRIC_NATIVE_TABLES,
]);
