/**
 * 64-bit integers and doubles as the text the row mappers write (../values.ts), computed from
 * the two uint32 halves the wire holds, with exact integer arithmetic (no BigInt, no floats of
 * the whole value). values.ts uses these too, after splitting a Long or number into halves.
 */

const TWO_32 = 4294967296;

/**
 * Decimal text of the unsigned 64-bit value high·2^32 + low (both given as uint32).
 * 2^32 = 4294·10^6 + 967296, so the value is high·4294·10^6 + (high·967296 + low): both
 * terms stay below 2^53, and carrying the second's millions into the first gives the
 * digits exactly.
 */
export function u64Text(high: number, low: number): string {
  if (high === 0) return String(low);
  if (high < 0x200000) return String(high * TWO_32 + low);
  const lowPart = high * 967296 + low;
  const carry = Math.floor(lowPart / 1e6);
  const top = high * 4294 + carry;
  const rest = lowPart - carry * 1e6;
  return String(top) + String(rest).padStart(6, '0');
}

/** Decimal text of the two's complement signed value of the halves. */
export function i64Text(high: number, low: number): string {
  if ((high | 0) >= 0) return u64Text(high >>> 0, low >>> 0);
  const negLow = (~low + 1) >>> 0;
  const negHigh = (~high + (negLow === 0 ? 1 : 0)) >>> 0;
  return '-' + u64Text(negHigh, negLow);
}

/** The signed value as a double (what values.ts int64Number gives for a signed Long). */
export function i64Number(high: number, low: number): number {
  return (high | 0) * TWO_32 + (low >>> 0);
}

const MAX_NS_TEXT = '9223372036.854775807';
const MAX_NS_HIGH = 0x7fffffff;

/** Nanosecond Unix time as DateTime64(9) text `ssssssssss.nnnnnnnnn`; see values.ts nanosText. */
export function nanosText(high: number, low: number): string {
  if (high > MAX_NS_HIGH) return MAX_NS_TEXT;
  // value = top·10^6 + rest (see u64Text); seconds = top div 1000, nanos = (top mod 1000)·10^6 + rest.
  const lowPart = high * 967296 + low;
  const carry = Math.floor(lowPart / 1e6);
  const top = high * 4294 + carry;
  const rest = lowPart - carry * 1e6;
  const secs = Math.floor(top / 1000);
  const nanos = (top - secs * 1000) * 1e6 + rest;
  return String(secs).padStart(10, '0') + '.' + String(nanos).padStart(9, '0');
}
