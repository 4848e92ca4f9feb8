/**
 * Packs buffered batches into one request: consecutive records of one signal, up to a size.
 * Concatenated Export*ServiceRequest encodings are themselves a valid request (protobuf
 * concatenates repeated fields), so packing is just joining the bytes.
 */
import type { ConsumedRecord } from '../../bus/index.ts';
import type { Signal } from '../../telemetry/index.ts';
import type { RecordMeta } from './buffer-record.ts';

export interface PendingRecord {
  record: ConsumedRecord;
  meta: RecordMeta;
}

export interface PackedRequest {
  signal: Signal;
  records: PendingRecord[];
  /** Uncompressed request bytes. */
  bytes: number;
  items: number;
}

/**
 * The request the oldest pending records make: at least one record (never split), then more
 * of the same signal while the total stays within `maxBytes` and the count within `maxRecords`.
 */
export function packRequest(pending: readonly PendingRecord[], maxBytes: number, maxRecords: number): PackedRequest | null {
  if (pending.length === 0) return null;
  const signal = pending[0].meta.signal;
  let bytes = 0;
  let items = 0;
  let n = 0;
  while (n < pending.length && n < maxRecords) {
    const p = pending[n];
    if (p.meta.signal !== signal) break;
    if (n > 0 && bytes + p.record.value.length > maxBytes) break;
    bytes += p.record.value.length;
    items += p.meta.items;
    n++;
  }
  return { signal, records: pending.slice(0, n), bytes, items };
}

/** True when more records could still join the request the pending ones make. */
export function requestCouldGrow(pending: readonly PendingRecord[], maxBytes: number): boolean {
  let bytes = 0;
  for (const p of pending) {
    if (p.meta.signal !== pending[0].meta.signal) return false;
    bytes += p.record.value.length;
  }
  return bytes < maxBytes;
}

/** The request's bytes: the one record's own value, or a single copy joining several. */
export function requestBody(request: PackedRequest): Buffer {
  if (request.records.length === 1) return request.records[0].record.value;
  return Buffer.concat(
    request.records.map((p) => p.record.value),
    request.bytes,
  );
}
