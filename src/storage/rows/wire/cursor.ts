/**
 * The wire cursor the row decoders walk with: the codec's bounds-checked WireReader plus the
 * scalar reads the rows need. 64-bit values come back as two uint32 halves (low returned, high
 * left in `hi`) so nothing is allocated per value.
 */
import { WireReader, wireError } from '../../../otlp/index.ts';
import { asSlicingBuffer, jsonStringAt, type SlicingBuffer } from './text.ts';

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

export class WireCursor extends WireReader {
  /** The input as a Buffer (for the native text slicers). */
  b: SlicingBuffer;
  /** High 32 bits (uint32) of the last 64-bit read. */
  hi = 0;

  constructor(bytes: Uint8Array) {
    const b = asSlicingBuffer(bytes);
    super(b);
    this.b = b;
  }

  /**
   * A varint of up to 10 bytes as 64 bits, truncated like protobufjs (the 10th byte may only
   * hold the top bit). Returns the low half; the high half is in `hi`.
   */
  varint(end: number): number {
    const buf = this.b;
    let pos = this.pos;
    if (pos < end && buf[pos] < 0x80) {
      this.pos = pos + 1;
      this.hi = 0;
      return buf[pos];
    }
    const start = pos;
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < 10; k++) {
      if (pos >= end) throw wireError('truncated varint', start);
      const byte = buf[pos++];
      const bits = byte & 0x7f;
      if (k < 4) lo |= bits << (7 * k);
      else if (k === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else {
        if (k === 9 && byte > 1) break;
        hi |= bits << (7 * k - 32);
      }
      if (byte < 0x80) {
        this.pos = pos;
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    throw wireError(start + 10 <= end ? 'varint longer than 64 bits' : 'truncated varint', start);
  }

  /** Reads a length prefix; returns where the delimited bytes end (the cursor is at their start). */
  delimited(end: number): number {
    const len = this.length(end);
    return this.pos + len;
  }

  /** Moves past a length-delimited field; returns where its bytes start (they end at the cursor). */
  skipDelimited(end: number): number {
    const len = this.length(end);
    const s = this.pos;
    this.pos = s + len;
    return s;
  }

  /** A length-delimited string field as a JSON string literal. */
  jsonString(end: number): string {
    const len = this.length(end);
    const s = this.pos;
    this.pos = s + len;
    return jsonStringAt(this.b, s, s + len);
  }

  /** Little-endian 32 bits, unsigned. */
  fixed32(end: number): number {
    const p = this.pos;
    if (end - p < 4) throw wireError('truncated 32-bit value', p);
    const buf = this.b;
    this.pos = p + 4;
    return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
  }

  /** Little-endian 64 bits: returns the low half, the high half is in `hi`. */
  fixed64(end: number): number {
    const p = this.pos;
    if (end - p < 8) throw wireError('truncated 64-bit value', p);
    const buf = this.b;
    this.pos = p + 8;
    this.hi = (buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24)) >>> 0;
    return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
  }

  double(end: number): number {
    const p = this.pos;
    if (end - p < 8) throw wireError('truncated 64-bit value', p);
    const buf = this.b;
    for (let i = 0; i < 8; i++) f64Bytes[i] = buf[p + i];
    this.pos = p + 8;
    return f64[0];
  }
}
