/**
 * Splits a file's bytes into lines with a bounded memory: at most maxLineBytes of an unfinished
 * line are held; past that the line is marked truncated and its remaining bytes are skipped as
 * they stream by, so a 10 MB line costs no more memory than a 64 KiB one.
 */
import { decodeUtf8, trimToCharBoundary } from './utf8.ts';

export interface Line {
  text: string;
  /** UTF-8 bytes kept (after any cut), without the line ending. */
  bytes: number;
  /** The line was longer than maxLineBytes and was cut. */
  truncated: boolean;
  /** File offset just past this line's newline (past its last byte for a flushed partial line). */
  endOffset: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Counters shared by all of a receiver's splitters, for its stats. */
export interface SplitCounters {
  decodeErrors: number;
  truncatedLines: number;
}

export class LineSplitter {
  private readonly maxLineBytes: number;
  readonly counters: SplitCounters;
  /** Copies of the unfinished line's bytes (the read buffer is reused, so nothing may point into it). */
  private parts: Buffer[] = [];
  private held = 0;
  /** The unfinished line already passed the limit; its further bytes are being skipped. */
  private cut = false;

  constructor(maxLineBytes: number, counters: SplitCounters = { decodeErrors: 0, truncatedLines: 0 }) {
    this.maxLineBytes = maxLineBytes;
    this.counters = counters;
  }

  /** Lines completed by `chunk`, which starts at file offset `chunkOffset`. */
  *push(chunk: Uint8Array, chunkOffset: number): Generator<Line> {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.hold(chunk.subarray(start));
        return;
      }
      const line = this.finish(chunk.subarray(start, nl), chunkOffset + nl + 1, true);
      start = nl + 1;
      yield line;
    }
  }

  /** Bytes of an unfinished line are held (or being skipped). */
  get hasPartial(): boolean {
    return this.held > 0 || this.cut;
  }

  /** Emits the unfinished line as it is (the writer went quiet, or the file is going away). */
  flush(endOffset: number): Line | undefined {
    if (!this.hasPartial) return undefined;
    return this.finish(new Uint8Array(0), endOffset, false);
  }

  /** Forgets the unfinished line (the file was truncated under it). */
  reset(): void {
    this.parts = [];
    this.held = 0;
    this.cut = false;
  }

  private hold(segment: Uint8Array): void {
    const room = this.maxLineBytes - this.held;
    if (segment.length > room) {
      this.cut = true;
      segment = segment.subarray(0, room);
    }
    if (segment.length === 0) return;
    this.parts.push(Buffer.from(segment));
    this.held += segment.length;
  }

  private finish(tail: Uint8Array, endOffset: number, terminated: boolean): Line {
    let bytes: Uint8Array;
    if (this.held === 0 && !this.cut && tail.length <= this.maxLineBytes) {
      bytes = tail;
    } else {
      this.hold(tail);
      bytes = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.held);
    }
    const truncated = this.cut;
    if (truncated) {
      this.counters.truncatedLines++;
      bytes = trimToCharBoundary(bytes);
    } else if (terminated && bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) {
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const { text, invalid } = decodeUtf8(bytes);
    if (invalid) this.counters.decodeErrors++;
    this.reset();
    return { text, bytes: bytes.length, truncated, endOffset };
  }
}
