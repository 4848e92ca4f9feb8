/**
 * A growable byte buffer the wire mappers write JSONEachRow into, copying strings straight
 * from the protobuf input instead of decoding them to JS strings and encoding them back.
 *
 * JSON string escaping matches JSON.stringify byte for byte for valid UTF-8 input: '"', '\\'
 * and bytes below 0x20 are escaped (\b \t \n \f \r, else \u00xx lowercase); JSON.stringify's
 * other escape, lone surrogates, cannot occur in valid UTF-8. Validation accepts what the
 * codec's fatal TextDecoder accepts (node's native isUtf8 implements the same strict rules).
 */
import { isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from '../../../otlp/index.ts';
import { i64Text, u64Text } from './numbers.ts';

/** Byte classes: 0 = copied as is, 1 = escaped in JSON, 2 = not ASCII (copied; the string needs UTF-8 validation). */
const CLASS = new Uint8Array(256);
/** The escape sequence of each class-1 byte, 6 bytes a slot, its length in ESC_LEN. */
const ESC = new Uint8Array(256 * 6);
const ESC_LEN = new Uint8Array(256);
{
  const set = (b: number, text: string) => {
    CLASS[b] = 1;
    ESC_LEN[b] = text.length;
    for (let i = 0; i < text.length; i++) ESC[b * 6 + i] = text.charCodeAt(i);
  };
  for (let b = 0; b < 0x20; b++) set(b, '\\u00' + b.toString(16).padStart(2, '0'));
  set(0x08, '\\b');
  set(0x09, '\\t');
  set(0x0a, '\\n');
  set(0x0c, '\\f');
  set(0x0d, '\\r');
  set(0x22, '\\"');
  set(0x5c, '\\\\');
  for (let b = 0x80; b < 0x100; b++) CLASS[b] = 2;
}

/** Lowercase hex digits of each byte value: high digit at [2b], low at [2b+1]. */
const HEX = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const h = b.toString(16).padStart(2, '0');
  HEX[2 * b] = h.charCodeAt(0);
  HEX[2 * b + 1] = h.charCodeAt(1);
}

const TWO_32 = 4294967296;
const MAX_NS = Buffer.from('9223372036.854775807', 'latin1');

/** A constant JSON fragment, encoded once. */
export function fragment(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export class JsonBytes {
  buf: Buffer;
  /** Write position: the bytes written are buf[0, pos). */
  pos = 0;
  /** Rows completed (the sink's row count for this table). */
  rows = 0;

  constructor(initialSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** Appends bytes [start, end) of src unchanged. */
  copy(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    // Short copies (most fragments) are cheaper as a loop than as a native call (measured: equal at ~32 bytes).
    if (n < 32) for (let i = start; i < end; i++) buf[p++] = src[i];
    else p += src.copy(buf, p, start, end);
    this.pos = p;
  }

  /** Appends a pre-encoded fragment. */
  raw(src: Buffer): void {
    this.copy(src, 0, src.length);
  }

  /** Appends a string of code units below 0x100 (digits, base64, ASCII literals) as latin1. */
  latin1(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Appends any JS string as UTF-8. */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * Appends the UTF-8 string in src[start, end) as a JSON string literal, identical to
   * JSON.stringify of its decoded text; throws OtlpDecodeError when it is not valid UTF-8.
   */
  jsonString(src: Buffer, start: number, end: number): void {
    this.ensure((end - start) * 6 + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    let i = start;
    if (end - start >= 32) {
      // A long string is mostly plain ASCII: scan it (a read-only loop), then copy the run natively.
      while (i < end && CLASS[src[i]] === 0) i++;
      p += src.copy(buf, p, start, i);
    } else {
      // The common case, kept to a tight loop: plain ASCII needing no escape.
      for (; i < end; i++) {
        const b = src[i];
        if (CLASS[b] !== 0) break;
        buf[p++] = b;
      }
    }
    if (i < end) p = this.escapedTail(src, start, i, end, p);
    buf[p++] = 0x22;
    this.pos = p;
  }

  /** jsonString from src[i] on (some byte there needs escaping or is not ASCII); returns the new write position. */
  private escapedTail(src: Buffer, start: number, i: number, end: number, p: number): number {
    const buf = this.buf;
    let cls = 0;
    for (; i < end; i++) {
      const b = src[i];
      const k = CLASS[b];
      if (k !== 1) {
        cls |= k;
        buf[p++] = b;
      } else {
        const len = ESC_LEN[b];
        for (let j = 0; j < len; j++) buf[p++] = ESC[b * 6 + j];
      }
    }
    if (cls !== 0 && !isUtf8(src.subarray(start, end))) {
      throw new OtlpDecodeError('invalid UTF-8 in a string field', `byte ${start}`);
    }
    return p;
  }

  /** Replaces the bytes [start, pos) (valid UTF-8) with their JSON string literal. */
  quoteRegion(start: number): void {
    const text = Buffer.from(this.buf.subarray(start, this.pos));
    this.pos = start;
    this.jsonString(text, 0, text.length);
  }

  /** Lowercase hex of src[start, end). */
  hex(src: Uint8Array, start: number, end: number): void {
    this.ensure((end - start) * 2);
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const b = src[i] << 1;
      buf[p++] = HEX[b];
      buf[p++] = HEX[b + 1];
    }
    this.pos = p;
  }

  /** Decimal digits of a non-negative integer below 2^53. */
  uint(n: number): void {
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    this.ensure(digits);
    const buf = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = Math.floor(n / 10);
      buf[--p] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0);
  }

  /** Decimal text of a 32-bit signed integer (or any integer of magnitude below 2^53). */
  int(n: number): void {
    if (n < 0) {
      this.byte(0x2d);
      this.uint(-n);
    } else {
      this.uint(n);
    }
  }

  /** Decimal text of the unsigned 64-bit value high·2^32 + low (numbers.ts u64Text). */
  u64(high: number, low: number): void {
    if (high < 0x200000) this.uint(high * TWO_32 + low);
    else this.latin1(u64Text(high, low));
  }

  /** Decimal text of the signed 64-bit value of the halves (numbers.ts i64Text). */
  i64(high: number, low: number): void {
    if ((high | 0) >= 0) this.u64(high >>> 0, low >>> 0);
    else this.latin1(i64Text(high, low));
  }

  /** Exactly `width` digits of n (0 <= n < 10^width), zero-padded. */
  private fixedDigits(n: number, width: number): void {
    const buf = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      const q = Math.floor(n / 10);
      buf[--p] = 0x30 + (n - q * 10);
      n = q;
    }
  }

  /** Nanosecond Unix time as `ssssssssss.nnnnnnnnn` (numbers.ts nanosText, unquoted). */
  nanos(high: number, low: number): void {
    if (high > 0x7fffffff) {
      this.raw(MAX_NS);
      return;
    }
    const lowPart = high * 967296 + low;
    const carry = Math.floor(lowPart / 1e6);
    const top = high * 4294 + carry;
    const rest = lowPart - carry * 1e6;
    const secs = Math.floor(top / 1000);
    const nanos = (top - secs * 1000) * 1e6 + rest;
    // secs <= 9223372036 (high <= 2^31 - 1): always exactly 10 digits.
    this.ensure(20);
    this.fixedDigits(secs, 10);
    this.buf[this.pos++] = 0x2e;
    this.fixedDigits(nanos, 9);
  }

  /** A Float64 cell as JSON: the number, or quoted nan/inf/-inf (../values.ts `float`). */
  float(n: number): void {
    if (n - n === 0) this.latin1(String(n));
    else this.latin1(n !== n ? '"nan"' : n > 0 ? '"inf"' : '"-inf"');
  }

  /** Bytes [start, end) as a Buffer view (no copy; valid until the next write past them). */
  view(start = 0, end = this.pos): Buffer {
    return this.buf.subarray(start, end);
  }
}

/** Whether buf[aS, aE) and buf[bS, bE) hold the same bytes. */
export function sameBytes(buf: Uint8Array, aS: number, aE: number, bS: number, bE: number): boolean {
  if (aE - aS !== bE - bS) return false;
  for (let i = 0; i < aE - aS; i++) if (buf[aS + i] !== buf[bS + i]) return false;
  return true;
}

/** Whether buf[s, e) holds exactly the bytes of `lit`. */
export function isBytes(buf: Uint8Array, s: number, e: number, lit: Uint8Array): boolean {
  if (e - s !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[s + i] !== lit[i]) return false;
  return true;
}
