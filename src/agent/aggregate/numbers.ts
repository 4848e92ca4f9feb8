/**
 * 64-bit OTLP fields as the generated model hands them over: a Long after protobuf decode, a
 * number when built in code, sometimes a string (JSON) or a bigint. Everything here reads all
 * of them without allocating in the common cases.
 */
import type { opentelemetry } from '../../otlp/index.ts';

/** A fixed64 time as the model types it (Long or number), or whatever a caller put there. */
export type Fixed64 = opentelemetry.proto.metrics.v1.NumberDataPoint.$Properties['timeUnixNano'];

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

const TWO_32 = 4294967296;

function isLongLike(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v;
}

/**
 * A 64-bit integer field (int64, sfixed64, uint64, fixed64) as a number. Exact below 2^53;
 * beyond that it rounds, which counts and sums of a minute never reach. A Long's own
 * `unsigned` flag decides the sign, so sfixed64 values decoded as signed Longs stay negative.
 */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  if (isLongLike(v)) {
    const high = v.unsigned ? v.high >>> 0 : v.high | 0;
    return high * TWO_32 + (v.low >>> 0);
  }
  if (typeof v === 'string') {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new TypeError(`expected an integer, got ${JSON.stringify(v)}`);
    return n;
  }
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError(`expected a 64-bit integer (Long, number, string or bigint), got ${typeof v}`);
}

/** High and low 32-bit halves of an unsigned 64-bit time, so times compare exactly past 2^53. */
function halves(v: unknown): [number, number] {
  if (typeof v === 'number') {
    const high = Math.floor(v / TWO_32);
    return [high, v - high * TWO_32];
  }
  if (v === null || v === undefined) return [0, 0];
  if (isLongLike(v)) return [v.high >>> 0, v.low >>> 0];
  const big = BigInt(v as string | bigint);
  return [Number(big >> 32n), Number(big & 0xffffffffn)];
}

/** Orders two fixed64 nanosecond times: negative when a is earlier, 0 when equal. */
export function compareNanos(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [ah, al] = halves(a);
  const [bh, bl] = halves(b);
  return ah !== bh ? ah - bh : al - bl;
}

/** The earlier of two times (the first on a tie). */
export function earliest(a: Fixed64, b: Fixed64): Fixed64 {
  return compareNanos(b, a) < 0 ? b : a;
}

/** The later of two times (the second on a tie, so the most recent arrival wins). */
export function latest(a: Fixed64, b: Fixed64): Fixed64 {
  return compareNanos(b, a) >= 0 ? b : a;
}

/**
 * A canonical text for an integer attribute value, equal for the same value whether it came
 * as a Long, a number, a string or a bigint (series identity must not depend on the decoder).
 */
export function intKey(v: unknown): string {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString();
  if (isLongLike(v)) {
    const n = toNumber(v);
    if (Number.isSafeInteger(n)) return String(n);
    const unsigned = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return (v.unsigned ? unsigned : BigInt.asIntN(64, unsigned)).toString();
  }
  if (typeof v === 'string' || typeof v === 'bigint') {
    try {
      return BigInt(v).toString();
    } catch {
      return String(v);
    }
  }
  return String(v);
}
