/**
 * One agent batch as a record of the buffer topic: the value is the encoded Export request,
 * the headers say what it is. Headers also carry, in the same durable write as the data, the
 * receiver's checkpoint and a running item count (so items deleted by the cap can be counted
 * from the records around the hole).
 */
import type { ConsumedRecord, ProduceRecord } from '../../bus/index.ts';
import { SIGNALS } from '../../telemetry/index.ts';
import type { Signal } from '../../telemetry/index.ts';
import type { SourceCheckpoint } from '../types.ts';

export const BUFFER_TOPIC = 'buffer';

const H_SIGNAL = 'signal';
const H_ITEMS = 'items';
/** Items written to the buffer so far, this record's included. */
const H_ITEMS_TOTAL = 'items.total';
const H_CHECKPOINT_SOURCE = 'checkpoint.source';
const H_CHECKPOINT_STATE = 'checkpoint.state';
/** Orders checkpoints across the json file and the records (higher is newer). */
const H_CHECKPOINT_SEQ = 'checkpoint.seq';

export interface StoredCheckpoint extends SourceCheckpoint {
  seq: number;
}

export interface RecordMeta {
  signal: Signal;
  items: number;
  itemsTotal: number;
  checkpoint?: StoredCheckpoint;
}

export function toBufferRecord(value: Uint8Array, meta: RecordMeta): ProduceRecord {
  const headers: Record<string, string> = {
    [H_SIGNAL]: meta.signal,
    [H_ITEMS]: String(meta.items),
    [H_ITEMS_TOTAL]: String(meta.itemsTotal),
  };
  if (meta.checkpoint !== undefined) {
    headers[H_CHECKPOINT_SOURCE] = meta.checkpoint.source;
    headers[H_CHECKPOINT_STATE] = meta.checkpoint.state;
    headers[H_CHECKPOINT_SEQ] = String(meta.checkpoint.seq);
  }
  return { key: null, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), headers };
}

/** The record's meta, or null when its headers are not ours (not expected: the topic is private). */
export function readRecordMeta(record: ConsumedRecord): RecordMeta | null {
  const h = record.headers;
  const signal = h[H_SIGNAL] as Signal;
  const items = Number(h[H_ITEMS]);
  const itemsTotal = Number(h[H_ITEMS_TOTAL]);
  if (!SIGNALS.includes(signal) || !Number.isSafeInteger(items) || items < 0 || !Number.isSafeInteger(itemsTotal)) return null;
  const meta: RecordMeta = { signal, items, itemsTotal };
  const source = h[H_CHECKPOINT_SOURCE];
  const state = h[H_CHECKPOINT_STATE];
  const seq = Number(h[H_CHECKPOINT_SEQ]);
  if (source !== undefined && state !== undefined && Number.isSafeInteger(seq)) meta.checkpoint = { source, state, seq };
  return meta;
}
