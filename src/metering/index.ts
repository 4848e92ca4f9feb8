/**
 * Usage metering: a consumer group on the telemetry topics counting, per tenant and hour,
 * events and bytes per signal. The bus records carry what it needs in headers (tenant,
 * signal, item count), so it never decodes a payload. This is its contract.
 */
import type { Signal, TenantId } from '../telemetry/signals.ts';

export interface UsageRow {
  tenant: TenantId;
  /** Start of the hour, Unix milliseconds. */
  hour: number;
  signal: Signal;
  events: number;
  bytes: number;
}

export interface UsageReader {
  usage(tenant: TenantId, fromMs: number, toMs: number): Promise<UsageRow[]>;
}

export { createMeteringConsumer, METERING_GROUP, type MeteringConsumer, type MeteringConsumerOptions, type MeteringLogger } from './consumer.ts';
export { createUsageReader } from './reader.ts';
export { ensureUsageTable, usageTableSpec, USAGE_TABLE, type UsageTableRow } from './schema.ts';
