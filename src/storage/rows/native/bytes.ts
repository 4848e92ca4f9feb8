/**
 * A growable little-endian byte buffer: one per column stream of a Native block (fixed-width
 * values, String data, array offsets). Strings are copied straight from the protobuf input.
 */
import { isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from '../../../otlp/index.ts';
import { i64Text, u64Text } from '../wire/numbers.ts';

const TWO_32 = 4294967296;

/** The two lowercase hex digits of each byte value, as a little-endian 16-bit pair (high digit first in memory). */
const HEX_PAIRS = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  const h = b.toString(16).padStart(2, '0');
  HEX_PAIRS[b] = h.charCodeAt(0) | (h.charCodeAt(1) << 8);
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

/** A DataView of exactly the bytes of `b`. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// The DataView of the input last mapped (made once per record, not per value).
let viewed: Uint8Array | null = null;
let viewedAs: DataView = new DataView(new ArrayBuffer(0));

/** viewOf(b), made once while the same source is used again. */
export function viewOfCached(b: Uint8Array): DataView {
  if (b !== viewed) {
    viewed = b;
    viewedAs = viewOf(b);
  }
  return viewedAs;
}

export class NativeBytes {
  buf: Buffer;
  /** `buf` as a DataView: hot loops move 4 bytes at a time through it. */
  dv: DataView;
  /** Write position: the bytes written are buf[0, pos). */
  pos = 0;

  private markPos = 0;

  constructor(initialSize = 1 << 12) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
    this.dv = viewOf(this.buf);
  }

  /** Remembers the write position (a record that fails half-way is taken out with rollback). */
  mark(): void {
    this.markPos = this.pos;
  }

  rollback(): void {
    this.pos = this.markPos;
  }

  reset(): void {
    this.pos = this.markPos = 0;
  }

  capacity(): number {
    return this.buf.length;
  }

  byteSize(): number {
    return this.pos;
  }

  /** As a column stream: no prefix, the bytes written are the data. */
  prefix(_out: NativeBytes): void {}

  data(out: NativeBytes): void {
    out.append(this);
  }

  /** Appends every byte written to `other`. */
  append(other: NativeBytes): void {
    const n = other.pos;
    this.ensure(n);
    other.buf.copy(this.buf, this.pos, 0, n);
    this.pos += n;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Room for a run of writes of n bytes in all (a body of chunks takes it as a hint only). */
  reserve(n: number): void {
    this.ensure(n);
  }

  protected grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = viewOf(next);
  }

  u8(v: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
  }

  /** 32 bits little-endian (UInt32 or Int32: the two's complement bits are the same). */
  u32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  /** 64 bits little-endian from two uint32 halves. */
  u64(hi: number, lo: number): void {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    const dv = this.dv;
    const p = this.pos;
    dv.setUint32(p, lo >>> 0, true);
    dv.setUint32(p + 4, hi >>> 0, true);
    this.pos = p + 8;
  }

  /** An Array offset: a non-negative integer as UInt64, the common case (below 2^31) written in place. */
  offset(n: number): void {
    const p = this.pos;
    if (n > 0x7fffffff || p + 8 > this.buf.length) {
      this.u64n(n);
      return;
    }
    const dv = this.dv;
    dv.setInt32(p, n, true);
    dv.setInt32(p + 4, 0, true);
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
    this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
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

  /** Appends bytes [start, end) of src unchanged; `view`, viewOf(src), lets it move 4 bytes at a time. */
  copy(src: Uint8Array, start: number, end: number, view: DataView | null = null): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    // Short copies are cheaper as a loop than as a native call (and its subarray).
    if (n < 256) {
      let i = start;
      if (view !== null) {
        const dv = this.dv;
        for (; i + 4 <= end; i += 4, p += 4) dv.setInt32(p, view.getInt32(i, true), true);
      }
      for (; i < end; i++) buf[p++] = src[i];
    } else {
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
    const dv = this.dv;
    let p = this.pos;
    let i = start;
    for (; i + 2 <= end; i += 2, p += 4) dv.setUint32(p, HEX_PAIRS[src[i]] | (HEX_PAIRS[src[i + 1]] << 16), true);
    if (i < end) {
      dv.setUint16(p, HEX_PAIRS[src[i]], true);
      p += 2;
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
