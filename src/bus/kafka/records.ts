/**
 * Bus records to and from Kafka's wire records. Values and keys are passed and returned as
 * the same Buffers (produce) or slices of the fetch response (consume): no per-record copy.
 */
import type { MessageToProduce, RecordsBatch } from '@platformatic/kafka';
import type { ConsumedRecord, ProduceRecord } from '../types.ts';

export type KafkaMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** Kafka record batch attribute bits. */
const IS_CONTROL_BATCH = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;

function validateRecord(r: ProduceRecord, i: number): void {
  if (r === null || typeof r !== 'object') throw new Error(`produce: records[${i}] must be an object`);
  if (!Buffer.isBuffer(r.value)) throw new Error(`produce: records[${i}].value must be a Buffer`);
  if (r.key !== null && !Buffer.isBuffer(r.key)) throw new Error(`produce: records[${i}].key must be a Buffer or null`);
  if (r.timestamp !== undefined && !(Number.isSafeInteger(r.timestamp) && r.timestamp >= 0)) {
    throw new Error(`produce: records[${i}].timestamp must be a non-negative integer (Unix ms), got ${r.timestamp}`);
  }
  if (r.headers !== undefined && (r.headers === null || typeof r.headers !== 'object')) throw new Error(`produce: records[${i}].headers must be an object`);
  for (const name in r.headers) {
    if (typeof r.headers[name] !== 'string') throw new Error(`produce: records[${i}].headers.${name} must be a string`);
  }
}

/** Validates every record first (a bad call sends nothing), then builds the wire messages and counts their bytes. */
export function toKafkaMessages(topic: string, records: ProduceRecord[], now: number): { messages: KafkaMessage[]; bytes: number } {
  if (!Array.isArray(records)) throw new Error('produce: records must be an array');
  for (let i = 0; i < records.length; i++) validateRecord(records[i], i);
  const nowBig = BigInt(now);
  let bytes = 0;
  const messages = new Array<KafkaMessage>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    let headers: Map<Buffer, Buffer> | undefined;
    if (r.headers !== undefined) {
      headers = new Map();
      for (const name in r.headers) {
        const k = Buffer.from(name);
        const v = Buffer.from(r.headers[name]);
        headers.set(k, v);
        bytes += k.length + v.length;
      }
    }
    bytes += r.value.length + (r.key?.length ?? 0);
    messages[i] = { topic, key: r.key ?? undefined, value: r.value, headers, timestamp: r.timestamp === undefined ? nowBig : BigInt(r.timestamp) };
  }
  return { messages, bytes };
}

/**
 * Records of a partition's fetched batches at or after `fromOffset`, appended to `out`.
 * Returns the offset after the last record of the batches (control batches included), so
 * the fetch position moves past batches that held nothing to deliver.
 */
export function fromKafkaBatches(topic: string, partition: number, batches: RecordsBatch[], fromOffset: number, out: ConsumedRecord[]): number {
  let next = fromOffset;
  for (const batch of batches) {
    const base = Number(batch.firstOffset);
    next = Math.max(next, base + batch.lastOffsetDelta + 1);
    if ((batch.attributes & IS_CONTROL_BATCH) !== 0) continue;
    const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const record of batch.records) {
      const offset = base + record.offsetDelta;
      // A fetch returns whole batches, which may start before the requested offset.
      if (offset < fromOffset) continue;
      const headers: Record<string, string> = {};
      for (const [k, v] of record.headers) if (k !== null) headers[k.toString()] = v === null ? '' : v.toString();
      out.push({
        topic,
        partition,
        offset,
        timestamp: logAppendTime ? Number(batch.maxTimestamp) : firstTimestamp + Number(record.timestampDelta),
        key: record.key ?? null,
        value: record.value ?? Buffer.alloc(0),
        headers,
      });
    }
  }
  return next;
}
