/**
 * Conversions from OTLP (protobufjs) values to the text forms the ClickHouse rows carry.
 *
 * These run once per span / log record / data point and once per attribute, hundreds of
 * thousands of times per second, so they avoid intermediate objects: 64-bit integers are
 * formatted from their two 32-bit halves with exact integer arithmetic (every intermediate
 * stays below 2^53), never through a float of the whole value and never through BigInt.
 */
import { bytesToHex } from '../../otlp/index.ts';
// One implementation of the 64-bit arithmetic, over uint32 halves, shared with the wire mappers.
import { i64Text, nanosText as nanosOfHalves, u64Text } from './wire/numbers.ts';

/** A 64-bit integer as protobufjs hands it out: a Long (from the `long` package) or a number. */
export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}
export type Int64 = LongLike | number | bigint | string | null | undefined;

/** The structural shapes read here (the generated message classes satisfy them). */
export interface AnyValueLike {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64;
  doubleValue?: number | null;
  arrayValue?: { values?: AnyValueLike[] | null } | null;
  kvlistValue?: { values?: KeyValueLike[] | null } | null;
  bytesValue?: Uint8Array | null;
}
export interface KeyValueLike {
  key?: string | null;
  value?: AnyValueLike | null;
}

export type AttributeMap = Record<string, string>;

/** Lowercase hex of trace / span ids; '' for empty or missing ids. */
export function idToHex(bytes: Uint8Array | null | undefined): string {
  return bytes && bytes.length > 0 ? bytesToHex(bytes) : '';
}

const TWO_32 = 4294967296;

/** Splits a non-negative integer number (possibly beyond 2^53) into uint32 halves. */
function numberHigh(n: number): number {
  return Math.floor(n / TWO_32) >>> 0;
}

/** Decimal text of a signed or unsigned int64 (Long's `unsigned` flag decides). */
export function int64Text(v: Int64): string {
  if (v === null || v === undefined) return '0';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString();
  if (typeof v === 'bigint' || typeof v === 'string') return String(v);
  const high = v.high | 0;
  const low = v.low >>> 0;
  return v.unsigned ? u64Text(high >>> 0, low) : i64Text(high, low);
}

/** Decimal text of an unsigned 64-bit value (fixed64 / uint64 fields such as counts). */
export function uint64Text(v: Int64): string {
  if (v === null || v === undefined) return '0';
  if (typeof v === 'object') return u64Text(v.high >>> 0, v.low >>> 0);
  return int64Text(v);
}

/** The value as a JS number (for Float64 columns); exact below 2^53. */
export function int64Number(v: Int64): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  return v.unsigned ? (v.high >>> 0) * TWO_32 + (v.low >>> 0) : (v.high | 0) * TWO_32 + (v.low >>> 0);
}

/** Largest nanosecond time a DateTime64(9) holds (2262-04-11). */

/**
 * A nanosecond Unix time (fixed64) as DateTime64(9) input text: `ssssssssss.nnnnnnnnn`.
 * ClickHouse reads a bare integer as a date-time string (and fails), and reads fewer than
 * ten digits of seconds as a date, so the seconds are zero-padded to ten digits.
 * Times beyond DateTime64(9)'s range are clamped to its end.
 */
export function nanosText(v: Int64): string {
  let high: number;
  let low: number;
  if (v === null || v === undefined) return '0000000000.000000000';
  if (typeof v === 'object') {
    high = v.high >>> 0;
    low = v.low >>> 0;
  } else if (typeof v === 'number') {
    const n = v > 0 ? Math.trunc(v) : 0;
    high = numberHigh(n);
    low = (n - high * TWO_32) >>> 0;
  } else {
    const b = BigInt.asUintN(64, BigInt(v));
    high = Number(b >> 32n);
    low = Number(b & 0xffffffffn);
  }
  return nanosOfHalves(high, low);
}

/** end - start in nanoseconds as decimal text (UInt64), '0' when end is before start. */
export function durationText(end: Int64, start: Int64): string {
  if (typeof end === 'object' && end !== null && typeof start === 'object' && start !== null) {
    const eh = end.high >>> 0;
    const sh = start.high >>> 0;
    const el = end.low >>> 0;
    const sl = start.low >>> 0;
    if (eh < sh || (eh === sh && el <= sl)) return '0';
    let low = el - sl;
    let high = eh - sh;
    if (low < 0) {
      low += TWO_32;
      high -= 1;
    }
    return u64Text(high, low);
  }
  const d = BigInt(uint64Text(end)) - BigInt(uint64Text(start));
  return d > 0n ? d.toString() : '0';
}

function bytesBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/**
 * An attribute value flattened to the string a Map(String, String) column holds:
 * strings as is, bools true/false, ints in decimal (exact int64), doubles as JS prints them,
 * bytes as base64, arrays and key-value lists as JSON.
 */
export function anyValueText(v: AnyValueLike | null | undefined): string {
  if (!v) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) return int64Text(v.intValue);
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  if (v.doubleValue != null) return String(v.doubleValue);
  if (v.arrayValue != null || v.kvlistValue != null) return anyValueJson(v);
  if (v.bytesValue != null) return bytesBase64(v.bytesValue);
  return '';
}

/**
 * An AnyValue as JSON text. Ints are written as bare JSON numbers with all their digits
 * (exact even beyond 2^53), non-finite doubles as strings (JSON has no NaN), bytes as base64.
 */
export function anyValueJson(v: AnyValueLike | null | undefined): string {
  if (!v) return 'null';
  if (v.stringValue != null) return JSON.stringify(v.stringValue);
  if (v.intValue != null) return int64Text(v.intValue);
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? String(v.doubleValue) : `"${v.doubleValue}"`;
  if (v.arrayValue != null) {
    const values = v.arrayValue.values;
    let out = '[';
    if (values) {
      for (let i = 0; i < values.length; i++) {
        if (i > 0) out += ',';
        out += anyValueJson(values[i]);
      }
    }
    return out + ']';
  }
  if (v.kvlistValue != null) {
    const values = v.kvlistValue.values;
    let out = '{';
    if (values) {
      for (let i = 0; i < values.length; i++) {
        const kv = values[i];
        if (i > 0) out += ',';
        out += JSON.stringify(kv.key ?? '') + ':' + anyValueJson(kv.value);
      }
    }
    return out + '}';
  }
  if (v.bytesValue != null) return JSON.stringify(bytesBase64(v.bytesValue));
  return 'null';
}

const EMPTY_ATTRIBUTES: AttributeMap = Object.freeze({}) as AttributeMap;

/** Attributes as a Map(String, String) object; empty lists share one frozen empty object. */
export function attributesMap(kvs: KeyValueLike[] | null | undefined): AttributeMap {
  if (!kvs || kvs.length === 0) return EMPTY_ATTRIBUTES;
  const out: AttributeMap = {};
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i];
    out[kv.key ?? ''] = anyValueText(kv.value);
  }
  return out;
}

export const DEFAULT_SERVICE_NAME = 'unknown_service';

/** The `service.name` resource attribute (already flattened), or `unknown_service`. */
export function serviceNameOf(resourceAttributes: AttributeMap): string {
  const name = resourceAttributes['service.name'];
  return name === undefined || name === '' ? DEFAULT_SERVICE_NAME : name;
}
