/**
 * Protobuf wire-format primitives shared by the validator and the routing scanner. They never
 * allocate: the reader is one small object whose `pos` moves forward, every read is bounded by an
 * explicit `end`, and every violation throws OtlpDecodeError with the byte offset.
 */
import { OtlpDecodeError } from './errors.ts';

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_START_GROUP = 3;
export const WT_END_GROUP = 4;
export const WT_I32 = 5;

/** Nesting limit for groups inside unknown fields (proto2 relics; no OTLP field uses them). */
const MAX_GROUP_DEPTH = 64;

export function wireError(message: string, pos: number): OtlpDecodeError {
  return new OtlpDecodeError(message, `byte ${pos}`);
}

export class WireReader {
  buf: Uint8Array;
  pos: number;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  /** A varint that must fit in 32 bits (tags, lengths, uint32 fields); at most 5 bytes. */
  uint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < end && buf[pos] < 0x80) {
      this.pos = pos + 1;
      return buf[pos];
    }
    let value = 0;
    // A running factor, not 2 ** shift: V8 computes a power with a variable exponent by a call
    // to pow(), which showed in the gateway's profile (multi-byte lengths are most of them).
    let factor = 1;
    for (let shift = 0; shift < 35; shift += 7, factor *= 128) {
      if (pos >= end) throw wireError('truncated varint', this.pos);
      const b = buf[pos++];
      if (shift === 28 && b > 0x0f) throw wireError('varint does not fit in 32 bits', this.pos);
      value += (b & 0x7f) * factor;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    throw wireError('varint does not fit in 32 bits', this.pos);
  }

  /** Skips a varint of any size up to 64 bits (10 bytes). */
  skipVarint(end: number): void {
    const buf = this.buf;
    const start = this.pos;
    const limit = Math.min(end, start + 10);
    for (let pos = start; pos < limit; pos++) {
      if (buf[pos] < 0x80) {
        if (pos - start === 9 && buf[pos] > 1) break;
        this.pos = pos + 1;
        return;
      }
    }
    throw wireError(start + 10 <= end ? 'varint longer than 64 bits' : 'truncated varint', start);
  }

  /** Reads a tag: returns `fieldNumber << 3 | wireType` after checking the field number and wire type are legal. */
  tag(end: number): number {
    const at = this.pos;
    const tag = this.uint32(end);
    if (tag < 8) throw wireError('field number 0 is not allowed', at);
    const wt = tag & 7;
    if (wt > 5) throw wireError(`invalid wire type ${wt}`, at);
    return tag;
  }

  /** Reads a length prefix and checks the bytes it announces are all there; returns the length. */
  length(end: number): number {
    const at = this.pos;
    const len = this.uint32(end);
    if (len > end - this.pos) throw wireError(`length ${len} exceeds the ${end - this.pos} bytes left`, at);
    return len;
  }

  /** Skips one value of the given wire type (for unknown fields, or known ones we do not descend into). */
  skip(wt: number, fieldNumber: number, end: number): void {
    switch (wt) {
      case WT_VARINT:
        this.skipVarint(end);
        return;
      case WT_I64:
        this.fixed(8, end);
        return;
      case WT_LEN: {
        const len = this.length(end);
        this.pos += len;
        return;
      }
      case WT_I32:
        this.fixed(4, end);
        return;
      case WT_START_GROUP:
        this.skipGroup(fieldNumber, end);
        return;
      default:
        throw wireError(`unexpected end-group tag for field ${fieldNumber}`, this.pos);
    }
  }

  /** Skips a fixed-width value. */
  fixed(width: number, end: number): void {
    if (end - this.pos < width) throw wireError(`truncated ${width * 8}-bit value`, this.pos);
    this.pos += width;
  }

  /** Skips a group iteratively (no recursion, whatever the input's nesting). */
  private skipGroup(fieldNumber: number, end: number): void {
    const open: number[] = [fieldNumber];
    while (open.length > 0) {
      const at = this.pos;
      const tag = this.tag(end);
      const wt = tag & 7;
      const no = tag >>> 3;
      if (wt === WT_END_GROUP) {
        if (open.pop() !== no) throw wireError(`end-group tag for field ${no} does not match its start`, at);
      } else if (wt === WT_START_GROUP) {
        if (open.length >= MAX_GROUP_DEPTH) throw wireError('groups nested too deeply', at);
        open.push(no);
      } else {
        this.skip(wt, no, end);
      }
    }
  }
}
