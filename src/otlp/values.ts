/** Small builders for OTLP field values: attributes and nanosecond timestamps. */
import protobuf from 'protobufjs/minimal.js';
import type { opentelemetry } from './generated/otlp.js';

export type KeyValue = opentelemetry.proto.common.v1.KeyValue.$Properties;
/** What the generated code takes for fixed64 fields: a Long, or a (possibly unsafe) number. */
export type Nanos = NonNullable<opentelemetry.proto.trace.v1.Span.$Properties['startTimeUnixNano']>;

interface LongFactory {
  fromBits(low: number, high: number, unsigned: boolean): Nanos;
}
// protobufjs types util.Long as a bare constructor; it is long.js, which has fromBits.
const Long = protobuf.util.Long as unknown as LongFactory | null;

const TWO_32 = 4294967296;

/**
 * Unix milliseconds (fractional part kept to the nanosecond) as OTLP nanoseconds.
 * ms * 1e6 passes 2^53, so a plain number would round to 256 ns steps; the product is
 * built in 32-bit halves instead, with every intermediate an exact double.
 */
export function msToNanos(ms: number): Nanos {
  const whole = Math.floor(ms);
  let sub = Math.round((ms - whole) * 1e6);
  if (sub > 999_999) sub = 999_999;
  if (!Long) return whole * 1e6 + sub;
  const hiMs = Math.floor(whole / 65536);
  const loMs = whole - hiMs * 65536;
  const x = hiMs * 1e6;
  let high = Math.floor(x / 65536);
  const y = (x - high * 65536) * 65536 + loMs * 1e6 + sub;
  const carry = Math.floor(y / TWO_32);
  high += carry;
  return Long.fromBits(y - carry * TWO_32, high, true);
}

/** Converts a decoded fixed64 (Long or number) back to a number; exact below 2^53. */
export function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return (l.high >>> 0) * TWO_32 + (l.low >>> 0);
  }
  throw new TypeError(`expected a Long or a number, got ${typeof v}`);
}

export function str(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

export function int(key: string, value: number): KeyValue {
  return { key, value: { intValue: value } };
}

export function dbl(key: string, value: number): KeyValue {
  return { key, value: { doubleValue: value } };
}

export function bool(key: string, value: boolean): KeyValue {
  return { key, value: { boolValue: value } };
}

/** Lowercase hex of an id, as ClickHouse stores TraceId/SpanId and logs print them. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
