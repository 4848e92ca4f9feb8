/**
 * One tailed file: its identity, its open handle (while it has one), and three positions:
 * readOffset (bytes read), emittedOffset (end of the last record handed to a batch) and
 * committedOffset (end of the last record in a durable batch). Bytes between emittedOffset
 * and readOffset are an unfinished line or multiline record; after a restart they are read again.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fileKey, FINGERPRINT_BYTES, fingerprintOf, prefixMatches, readPrefix, type Fingerprint } from './fingerprint.ts';
import { LineSplitter, type SplitCounters } from './line-splitter.ts';
import { RecordJoiner, type FileRecord } from './multiline.ts';

export interface TailSettings {
  maxLineBytes: number;
  maxRecordBytes: number;
  multilineStart: RegExp | undefined;
  counters: SplitCounters & { linesRead: number; bytesRead: number };
  /** Monotonic milliseconds, for idle timers. */
  now: () => number;
}

/** Hands a record to the batch; returns a promise when the batch had to be sent first. */
export type EmitRecord = (path: string, record: FileRecord) => Promise<void> | undefined;

export class TrackedFile {
  readonly key: string;
  readonly dev: string;
  readonly ino: string;
  /** The path it was last matched under (kept after a rotation, for the records' log.file.path). */
  path: string;
  fingerprint: Fingerprint;
  handle: FileHandle | undefined;
  readOffset: number;
  emittedOffset: number;
  committedOffset: number;
  /** Found under an include glob in the last poll. */
  matched = true;
  /** Its last name is gone (nlink 0): read to the end, then let go. */
  deleted = false;
  /** Read to the end and let go; forgotten once its last records are durable. */
  done = false;
  lastSize: number;
  lastMtimeNs = -1n;
  lastGrowthAt: number;
  lastLineAt: number;
  private readonly settings: TailSettings;
  private readonly splitter: LineSplitter;
  private readonly joiner: RecordJoiner;

  constructor(path: string, dev: bigint, ino: bigint, handle: FileHandle, settings: TailSettings) {
    this.key = fileKey(dev, ino);
    this.dev = String(dev);
    this.ino = String(ino);
    this.path = path;
    this.handle = handle;
    this.settings = settings;
    this.splitter = new LineSplitter(settings.maxLineBytes, settings.counters);
    this.joiner = new RecordJoiner(settings.multilineStart, settings.maxRecordBytes);
    this.fingerprint = fingerprintOf(new Uint8Array(0));
    this.readOffset = this.emittedOffset = this.committedOffset = 0;
    this.lastSize = -1;
    this.lastGrowthAt = this.lastLineAt = settings.now();
  }

  /** Opens `path` and checks it is still the inode that was stat'ed; undefined if it vanished or changed. */
  static async openAt(path: string, expect: { dev: bigint; ino: bigint } | undefined, settings: TailSettings): Promise<TrackedFile | undefined> {
    const opened = await openFile(path, expect);
    return opened && new TrackedFile(path, opened.dev, opened.ino, opened.handle, settings);
  }

  /** Starts reading at `offset`, with `prefix` (the file's first bytes) as its fingerprint. */
  startAt(offset: number, prefix: Uint8Array): void {
    this.readOffset = this.emittedOffset = this.committedOffset = offset;
    this.fingerprint = fingerprintOf(prefix);
  }

  /**
   * Reopens a file let go earlier (too many open files, or rotated out and back in). False when
   * the inode now holds other content: the old file was deleted and its inode number reused.
   */
  async reopen(): Promise<boolean> {
    const opened = await openFile(this.path, { dev: BigInt(this.dev), ino: BigInt(this.ino) });
    if (!opened) return false;
    const prefix = await readPrefix(opened.handle);
    if (!prefixMatches(this.fingerprint, prefix)) {
      await opened.handle.close();
      return false;
    }
    this.handle = opened.handle;
    this.lastSize = -1;
    return true;
  }

  /**
   * Stats the open file. Returns true when it was truncated (copy-truncate rotation, or an
   * overwrite): its size fell below what was read, or its first bytes changed.
   */
  async check(): Promise<boolean> {
    const handle = this.handle!;
    const st = await handle.stat({ bigint: true });
    this.deleted = st.nlink === 0n;
    const size = Number(st.size);
    const changed = size !== this.lastSize || st.mtimeNs !== this.lastMtimeNs;
    this.lastSize = size;
    this.lastMtimeNs = st.mtimeNs;
    if (size < this.readOffset) return true;
    if (!changed) return false;
    // Hashing the first KiB again on every change catches a truncate followed by writes that
    // brought the file back past our offset between two polls.
    const prefix = await readPrefix(handle, FINGERPRINT_BYTES);
    if (!prefixMatches(this.fingerprint, prefix)) return true;
    if (prefix.length > this.fingerprint.length) this.fingerprint = fingerprintOf(prefix);
    return false;
  }

  /** Restarts at the beginning after a truncation; returns what was read but not yet emitted. */
  restart(): FileRecord[] {
    const leftovers = this.drainHeld();
    this.readOffset = this.emittedOffset = 0;
    this.fingerprint = fingerprintOf(new Uint8Array(0));
    this.lastSize = -1;
    return leftovers;
  }

  /** Reads from readOffset up to `size` (at most `budget` bytes), handing out each finished record. */
  async read(buffer: Buffer, budget: number, emit: EmitRecord): Promise<void> {
    const handle = this.handle!;
    const { counters, now } = this.settings;
    const end = Math.min(this.lastSize, this.readOffset + budget);
    while (this.readOffset < end) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - this.readOffset), this.readOffset);
      if (bytesRead === 0) break;
      const chunkOffset = this.readOffset;
      this.readOffset += bytesRead;
      counters.bytesRead += bytesRead;
      this.lastGrowthAt = now();
      // The generator borrows `buffer`; it is fully consumed before the next read reuses it.
      for (const line of this.splitter.push(buffer.subarray(0, bytesRead), chunkOffset)) {
        counters.linesRead++;
        this.lastLineAt = this.lastGrowthAt;
        const record = this.joiner.push(line);
        if (record) await this.deliver(record, emit);
      }
    }
  }

  get drained(): boolean {
    return this.readOffset >= this.lastSize;
  }

  get holdsData(): boolean {
    return this.splitter.hasPartial || this.joiner.hasPending;
  }

  get hasPartialLine(): boolean {
    return this.splitter.hasPartial;
  }

  get hasPendingRecord(): boolean {
    return this.joiner.hasPending;
  }

  /** Emits the unterminated last line (through the multiline joiner). */
  async flushPartialLine(emit: EmitRecord): Promise<void> {
    const line = this.splitter.flush(this.readOffset);
    if (!line) return;
    this.settings.counters.linesRead++;
    const record = this.joiner.push(line);
    if (record) await this.deliver(record, emit);
  }

  /** Emits the multiline record being built. */
  async flushPendingRecord(emit: EmitRecord): Promise<void> {
    const record = this.joiner.flush();
    if (record) await this.deliver(record, emit);
  }

  /** Emits everything held and closes the handle: the file is finished. */
  async finish(emit: EmitRecord): Promise<void> {
    await this.flushPartialLine(emit);
    await this.flushPendingRecord(emit);
    await this.close();
    this.done = true;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }

  private drainHeld(): FileRecord[] {
    const out: FileRecord[] = [];
    const line = this.splitter.flush(this.readOffset);
    if (line) {
      const record = this.joiner.push(line);
      if (record) out.push(record);
    }
    const pending = this.joiner.flush();
    if (pending) out.push(pending);
    this.splitter.reset();
    this.joiner.reset();
    return out;
  }

  private async deliver(record: FileRecord, emit: EmitRecord): Promise<void> {
    // Set first: the batch may be sent inside emit, and its checkpoint must cover this record.
    this.emittedOffset = record.endOffset;
    const sending = emit(this.path, record);
    if (sending) await sending;
  }
}

async function openFile(path: string, expect: { dev: bigint; ino: bigint } | undefined): Promise<{ handle: FileHandle; dev: bigint; ino: bigint } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isFile() || (expect && (st.dev !== expect.dev || st.ino !== expect.ino))) {
      await handle.close();
      return undefined;
    }
    return { handle, dev: st.dev, ino: st.ino };
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}
