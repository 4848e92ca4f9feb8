import type { ProduceRecord } from '../bus/index.ts';
import { HEADER_ITEMS, HEADER_SIGNAL, HEADER_TENANT } from '../bus/index.ts';
import type { RoutedPart } from '../otlp/index.ts';
import type { Signal, TenantId } from '../telemetry/signals.ts';

/**
 * One bus record per (tenant, service) of a request, keyed by both so one service's data
 * stays in one partition and keeps its order. The tenant goes in a header from the API key,
 * never from the payload.
 */
export function toProduceRecords(tenant: TenantId, signal: Signal, parts: RoutedPart[], now: number): ProduceRecord[] {
  const records: ProduceRecord[] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    records[i] = {
      key: Buffer.from(`${tenant}/${part.serviceName}`),
      value: Buffer.from(part.bytes.buffer, part.bytes.byteOffset, part.bytes.byteLength),
      timestamp: now,
      headers: { [HEADER_TENANT]: tenant, [HEADER_SIGNAL]: signal, [HEADER_ITEMS]: String(part.items) },
    };
  }
  return records;
}
