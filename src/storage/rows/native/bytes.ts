/**
 * A growable little-endian byte buffer: one per column stream of a Native block (fixed-width
 * values, String data, array offsets). Strings are copied straight from the protobuf input.
 */
import { isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from '../../../otlp/index.ts';
import { i64Text, u64Text } from '../wire/numbers.ts';

const TWO_32 = 4294967296;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Lowercase hex digits of each byte value: high digit at [2b], low at [2b+1]. */
const HEX = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const h = b.toString(16).padStart(2, '0');
  HEX[2 * b] = h.charCodeAt(0);
  HEX[2 * b + 1] = h.charCodeAt(1);
}

/** Throws OtlpDecodeError unless src[start, end) is valid UTF-8 (what the codec's fatal TextDecoder accepts). */
export function checkUtf8At(src: Uint8Array, start: number, end: number): void {
  let high = 0;
  if (end - start < 64) {
    for (let i = start; i < end; i++) high |= src[i];
    if (high < 0x80) return;
  }
  if (!isUtf8(src.subarray(start, end))) throw new OtlpDecodeError('invalid UTF-8 in a string field', `byte ${start}`);
}

/** A Float64 as the JSON path stores it: its text is String(v), so -0 becomes 0 and every NaN the one NaN. */
export function storedFloat(v: number): number {
  return v === 0 ? 0 : v !== v ? NaN : v;
}

export class NativeBytes {
  buf: Buffer;
  /** Write position: the bytes written are buf[0, pos). */
  pos = 0;

  private markPos = 0;

  constructor(initialSize = 1 << 12) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Remembers the write position (a record that fails half-way is taken out with rollback). */
  mark(): void {
    this.markPos = this.pos;
  }

  rollback(): void {
    this.pos = this.markPos;
  }

  /** As a column stream: no prefix, the bytes written are the data. */
  prefix(_out: Buffer[]): void {}

  data(out: Buffer[]): void {
    out.push(this.view());
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

  u8(v: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
  }

  /** 32 bits little-endian (UInt32 or Int32: the two's complement bits are the same). */
  u32(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v;
    buf[p + 1] = v >>> 8;
    buf[p + 2] = v >>> 16;
    buf[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** 64 bits little-endian from two uint32 halves. */
  u64(hi: number, lo: number): void {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = lo;
    buf[p + 1] = lo >>> 8;
    buf[p + 2] = lo >>> 16;
    buf[p + 3] = lo >>> 24;
    buf[p + 4] = hi;
    buf[p + 5] = hi >>> 8;
    buf[p + 6] = hi >>> 16;
    buf[p + 7] = hi >>> 24;
    this.pos = p + 8;
  }

  /** A non-negative integer below 2^53 as 64 bits. */
  u64n(n: number): void {
    if (n < TWO_32) {
      this.u64(0, n);
      return;
    }
    const hi = Math.floor(n / TWO_32);
    this.u64(hi, n - hi * TWO_32);
  }

  /**
   * DateTime64(9) ticks of an unsigned nanosecond time: the value, or Int64's maximum past it
   * (the JSON path writes 9223372036.854775807 there, see ../wire/numbers.ts nanosText).
   */
  nanos(hi: number, lo: number): void {
    if (hi > 0x7fffffff) this.u64(0x7fffffff, 0xffffffff);
    else this.u64(hi, lo);
  }

  f64(v: number): void {
    this.ensure(8);
    f64[0] = v;
    const buf = this.buf;
    const p = this.pos;
    for (let i = 0; i < 8; i++) buf[p + i] = f64Bytes[i];
    this.pos = p + 8;
  }

  /** ClickHouse's VarUInt (LEB128) of a non-negative integer below 2^53. */
  varuint(n: number): void {
    this.ensure(8);
    const buf = this.buf;
    let p = this.pos;
    while (n >= 0x80) {
      buf[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[p++] = n;
    this.pos = p;
  }

  /** Appends bytes [start, end) of src unchanged. */
  copy(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    // Short copies are cheaper as a loop than as a native call.
    if (n < 32) for (let i = start; i < end; i++) buf[p++] = src[i];
    else {
      buf.set(src.subarray(start, end), p);
      p += n;
    }
    this.pos = p;
  }

  /** A String value: VarUInt length, then the bytes src[start, end), which must be valid UTF-8. */
  string(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n + 5);
    const buf = this.buf;
    let p = this.pos;
    if (n < 0x80) {
      buf[p++] = n;
      let high = 0;
      for (let i = start; i < end; i++) {
        const b = src[i];
        high |= b;
        buf[p++] = b;
      }
      this.pos = p;
      if (high >= 0x80) checkUtf8At(src, start, end);
      return;
    }
    checkUtf8At(src, start, end);
    this.varuint(n);
    this.copy(src, start, end);
  }

  /** A String value of bytes known to be valid (constants, already checked input). */
  stringTrusted(src: Uint8Array, start: number, end: number): void {
    this.varuint(end - start);
    this.copy(src, start, end);
  }

  /** A String value of code units below 0x80 (digits, base64, ASCII constants). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n + 5);
    this.varuint(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A String value of any JS string, UTF-8 encoded. */
  utf8(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.stringTrusted(bytes, 0, bytes.length);
  }

  /** A String value: the lowercase hex of src[start, end). */
  hex(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(2 * n + 5);
    this.varuint(2 * n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const b = src[i] << 1;
      buf[p++] = HEX[b];
      buf[p++] = HEX[b + 1];
    }
    this.pos = p;
  }

  /** A String value: the decimal text of a non-negative integer below 2^53. */
  uintText(n: number): void {
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    this.ensure(digits + 1);
    const buf = this.buf;
    buf[this.pos++] = digits;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = Math.floor(n / 10);
      buf[--p] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0);
  }

  /** A String value: the decimal text of the signed 64-bit value of the halves (../wire/numbers.ts i64Text). */
  i64Text(hi: number, lo: number): void {
    if (hi === 0) this.uintText(lo);
    else if ((hi | 0) >= 0 && hi < 0x200000) this.uintText(hi * TWO_32 + lo);
    else this.ascii((hi | 0) >= 0 ? u64Text(hi, lo) : i64Text(hi, lo));
  }

  /** Bytes [start, end) as a Buffer view (no copy; valid until the next write past them). */
  view(start = 0, end = this.pos): Buffer {
    return this.buf.subarray(start, end);
  }
}
