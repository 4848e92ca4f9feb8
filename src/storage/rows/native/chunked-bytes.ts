/**
 * An insert body written across fixed-size chunks instead of one buffer that doubles.
 *
 * A batch's body grows to megabytes. Doubling one buffer copies it again at every step and
 * touches fresh pages each time (page faults, zeroing by the kernel): in the storage consumer's
 * profile the doublings and the copies into fresh memory were a fifth of its CPU. Chunks never
 * move once written, and the sink pool hands the same chunks to the next batch, so a body is
 * written into memory that is already mapped and often still in cache. The body goes to the
 * store as its list of chunks (an HTTP insert streams them; chDB's insert file is written with
 * them in order): it is never joined into one buffer.
 */
import { NativeBytes } from './bytes.ts';

/** Bytes of a pooled chunk: small enough that a table's first block wastes little, large enough for few writes. */
export const CHUNK_BYTES = 256 * 1024;

/** Where a body takes its chunks and gives them back when its insert is done. */
export interface ChunkSource {
  /** A chunk of CHUNK_BYTES (contents undefined). */
  takeChunk(): Buffer;
  /** Takes back chunks no longer read by anyone. */
  giveChunks(chunks: readonly Buffer[]): void;
}

/** Fresh chunks, none kept: the source of sinks outside a pool (tests, benches). */
export const UNPOOLED_CHUNKS: ChunkSource = {
  takeChunk: () => Buffer.allocUnsafeSlow(CHUNK_BYTES),
  giveChunks: () => {},
};

const EMPTY = Buffer.alloc(0);

export class ChunkedBytes extends NativeBytes {
  /** Filled chunks, each cut to the bytes written in it. */
  #done: Buffer[] = [];
  /** Bytes in #done. */
  #doneBytes = 0;
  /** Every chunk taken from the source (the full buffers, to give back). */
  #taken: Buffer[] = [];
  readonly #source: ChunkSource;

  constructor(source: ChunkSource = UNPOOLED_CHUNKS) {
    super(0);
    this.#source = source;
    // No buffer until the first write: a table's body takes its first chunk with its first block.
    this.#empty();
  }

  #empty(): void {
    this.buf = EMPTY;
    this.dv = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);
  }

  /** Moves on to a new chunk that has n contiguous bytes (a chunk of its own when n is larger than one). */
  protected override grow(n: number): void {
    if (this.pos > 0) {
      this.#done.push(this.buf.subarray(0, this.pos));
      this.#doneBytes += this.pos;
    }
    const chunk = n <= CHUNK_BYTES ? this.#source.takeChunk() : Buffer.allocUnsafeSlow(n);
    if (chunk.length === CHUNK_BYTES) this.#taken.push(chunk);
    this.buf = chunk;
    this.dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pos = 0;
  }

  /** Bulk copies run on across chunks: a column's data need not fit in one. */
  override append(other: NativeBytes): void {
    this.#copySplit(other.buf, 0, other.pos);
  }

  override copy(src: Uint8Array, start: number, end: number, view: DataView | null = null): void {
    if (this.pos + (end - start) <= this.buf.length) super.copy(src, start, end, view);
    else this.#copySplit(src, start, end);
  }

  #copySplit(src: Uint8Array, start: number, end: number): void {
    while (start < end) {
      if (this.pos === this.buf.length) this.grow(1);
      const n = Math.min(end - start, this.buf.length - this.pos);
      this.buf.set(src.subarray(start, start + n), this.pos);
      this.pos += n;
      start += n;
    }
  }

  /** A whole block need not be contiguous here (NativeBytes grows once for it instead). */
  override reserve(_n: number): void {}

  override byteSize(): number {
    return this.#doneBytes + this.pos;
  }

  /** Bytes held, written or not. */
  override capacity(): number {
    // A chunk of its own (a write longer than a chunk) is not in #taken.
    return this.#taken.length * CHUNK_BYTES + (this.buf.length === CHUNK_BYTES ? 0 : this.buf.length);
  }

  /** Views of every byte written, in order; later writes go after them and leave them as they are. */
  chunks(): Buffer[] {
    return this.pos > 0 ? [...this.#done, this.buf.subarray(0, this.pos)] : [...this.#done];
  }

  /** Gives every chunk back to the source: views handed out before are overwritten from now on. */
  override reset(): void {
    super.reset();
    this.#source.giveChunks(this.#taken);
    this.#taken = [];
    this.#done = [];
    this.#doneBytes = 0;
    this.#empty();
  }
}
