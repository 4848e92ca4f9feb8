/**
 * SQL fragments shared by the routes. Each time filter is on the table's sort or partition
 * key so ClickHouse prunes parts; values always arrive as `{name:Type}` query parameters.
 */
import type { QueryParams } from '../storage/index.ts';
import type { TimeRange } from './time.ts';

const NS_PER_S = 1_000_000_000n;

/** Parameters every time filter below reads. Int64 values go as decimal text: no float rounding. */
export function rangeParams(tenant: string, range: TimeRange): QueryParams {
  return {
    tenant,
    fromNs: range.fromNs.toString(),
    toNs: range.toNs.toString(),
    // Seconds for the logs' DateTime sort key; the range is [from, to) so the last second is that of to - 1ns.
    fromS: (range.fromNs / NS_PER_S).toString(),
    toS: ((range.toNs - 1n) / NS_PER_S).toString(),
  };
}

export const TRACES_IN_RANGE = `TenantId = {tenant:String}
  AND Timestamp >= fromUnixTimestamp64Nano({fromNs:Int64}) AND Timestamp < fromUnixTimestamp64Nano({toNs:Int64})`;

/** TimestampTime (seconds) is the logs' sort key; Timestamp then trims to the exact range. */
export const LOGS_IN_RANGE = `TenantId = {tenant:String}
  AND TimestampTime >= toDateTime({fromS:Int64}) AND TimestampTime <= toDateTime({toS:Int64})
  AND Timestamp >= fromUnixTimestamp64Nano({fromNs:Int64}) AND Timestamp < fromUnixTimestamp64Nano({toNs:Int64})`;

export const METRICS_IN_RANGE = `TenantId = {tenant:String}
  AND TimeUnix >= fromUnixTimestamp64Nano({fromNs:Int64}) AND TimeUnix < fromUnixTimestamp64Nano({toNs:Int64})`;

/** Entry spans: where a request enters a service (server or consumer side, or a trace root). */
export const ENTRY_SPAN = `(SpanKind IN ('Server', 'Consumer') OR ParentSpanId = '')`;

/** 64-bit integers come back as JSON strings (the store asks for that to keep precision). */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
