/**
 * Append-only slabs for the encodings of held spans: spans share 256 KiB buffers instead of
 * having one small buffer each (a ~100-byte object per span, and allocation churn). A slab is
 * garbage once no held span points into it. The sampler uses one store for spans awaiting a
 * decision, which all leave within decisionWaitMs of arriving, and copies kept spans into a
 * second store, which empties in order as they are handed on: so slabs empty out in about the
 * order they were filled, and a few kept spans never pin slabs full of dropped ones.
 *
 * Slabs are Buffers, outside the V8 heap: they count toward RSS, not toward the heap limit.
 */
import type { SlabRange } from './held-span.ts';

export const SLAB_BYTES = 256 * 1024;

export class SlabStore {
  private readonly slabBytes: number;
  /** Encodings longer than this get a buffer of their own, so a slab wastes at most this much at its end. */
  private readonly ownBufferBytes: number;
  private slab: Buffer | undefined;
  private used = 0;

  constructor(slabBytes = SLAB_BYTES) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes < 16) throw new RangeError(`slabBytes must be an integer >= 16, got ${slabBytes}`);
    this.slabBytes = slabBytes;
    this.ownBufferBytes = slabBytes / 16;
  }

  /** Copies `bytes` into the store and points `range` at the copy. */
  put(range: SlabRange, bytes: Uint8Array): void {
    const length = bytes.byteLength;
    if (length > this.ownBufferBytes) {
      const own = Buffer.allocUnsafeSlow(length);
      own.set(bytes);
      range.slab = own;
      range.offset = 0;
      range.length = length;
      return;
    }
    let slab = this.slab;
    if (slab === undefined || this.used + length > slab.length) {
      // allocUnsafeSlow: never from Node's shared pool, and only bytes written here are ever read.
      slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.slab = slab;
      this.used = 0;
    }
    slab.set(bytes, this.used);
    range.slab = slab;
    range.offset = this.used;
    range.length = length;
    this.used += length;
  }

  /** Copies what `range` points at (in another store) into this one, and points it at the copy. */
  move(range: SlabRange): void {
    this.put(range, range.slab.subarray(range.offset, range.offset + range.length));
  }
}
