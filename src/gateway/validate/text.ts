/**
 * UTF-8 checks of string fields, straight on the request bytes, as the codec requires them
 * (protobufjs's strict decoding: the same verdict as isUtf8). Most text in OTLP is ASCII, so the
 * fast question is "any byte >= 0x80?", asked of 32-bit words rather than single bytes.
 */
import { isUtf8 } from 'node:buffer';
import { endianness } from 'node:os';
import { wireError } from '../../otlp/index.ts';

/**
 * Ranges at least this long go to isUtf8 (native, vectorised) straight away; shorter ones are
 * scanned for a non-ASCII byte first (measured: a call with its subarray costs 60-80 ns, which
 * the word scan takes for about 500 bytes).
 */
const NATIVE_FROM = 512;
/** Ranges shorter than this are scanned byte by byte (they span at most two words anyway). */
const WORDS_FROM = 8;

const LITTLE_ENDIAN = endianness() === 'LE';
/** Little-endian masks of a word's bytes from byte k on (HEAD_MASK[k]) and before byte k (TAIL_MASK[k]). */
const HEAD_MASK = Int32Array.of(-1, -256, -65536, -16777216);
const TAIL_MASK = Int32Array.of(0, 0xff, 0xffff, 0xffffff);

export class TextCheck {
  private readonly buf: Uint8Array;
  /**
   * The memory under buf as aligned 32-bit words: buf[q] is byte (q + shift) & 3 of
   * words[(q + shift) >> 2]. Empty on a big-endian machine, where the masks would pick the
   * wrong bytes (isAscii then scans bytes).
   */
  private readonly words: Int32Array;
  private readonly shift: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.shift = buf.byteOffset & 3;
    const wordsAt = buf.byteOffset - this.shift;
    // The words covering the view, as far as the memory under it goes (it may end mid-word).
    const count = Math.min((this.shift + buf.byteLength + 3) >> 2, (buf.buffer.byteLength - wordsAt) >> 2);
    this.words = LITTLE_ENDIAN ? new Int32Array(buf.buffer, wordsAt, count) : new Int32Array(0);
  }

  /**
   * Whether bytes [start, end) are all below 0x80: read as the words covering the range, the
   * bytes outside it masked off (a handful of aligned loads instead of a byte loop; this runs
   * over every key and string of every attribute).
   */
  isAscii(start: number, end: number): boolean {
    const a = start + this.shift;
    const z = end + this.shift;
    const words = this.words;
    if (end - start < WORDS_FROM || (z + 3) >> 2 > words.length) {
      const b = this.buf;
      let high = 0;
      for (let q = start; q < end; q++) high |= b[q];
      return high < 0x80;
    }
    let w = a >> 2;
    const last = z >> 2;
    let high = words[w] & HEAD_MASK[a & 3];
    for (w++; w + 4 <= last; w += 4) high |= words[w] | words[w + 1] | words[w + 2] | words[w + 3];
    for (; w < last; w++) high |= words[w];
    if ((z & 3) !== 0) high |= words[last] & TAIL_MASK[z & 3];
    return (high & 0x80808080) === 0;
  }

  /** Whether bytes [start, end) are valid UTF-8. */
  isUtf8(start: number, end: number): boolean {
    if (end - start < NATIVE_FROM && this.isAscii(start, end)) return true;
    return isUtf8(this.buf.subarray(start, end));
  }

  /** Throws OtlpDecodeError (naming the string's offset) unless bytes [start, end) are valid UTF-8. */
  utf8(start: number, end: number): void {
    if (!this.isUtf8(start, end)) throw wireError('invalid UTF-8 in a string field', start);
  }
}
