/**
 * One topic-partition: an ordered list of segments, group-commit appends, and reads.
 *
 * Group commit: records produced while a flush is pending or in flight pile into one batch;
 * the batch is written with a single writev and made durable with a single fdatasync, and
 * only then do its producers' promises resolve and consumers see its records. Offsets are
 * assigned when the batch is written, so a failed write (truncated back) leaves no gap.
 */
import fs from 'node:fs';
import type { ConsumedRecord, ProduceRecord } from '../types.ts';
import { Segment, scanSegment, listSegmentBases, segmentPath } from './segment.ts';
import { frameHeadBytes, writeFrameHead, decodeFrame, frameOffset, frameTimestamp, FRAME_PREFIX_BYTES } from './record-format.ts';
import { writevAt, fdatasync, fsyncDir, fsyncDirSync, readExactly } from './fs-util.ts';
import type { BusLogger } from './logger.ts';

export interface PartitionLogOptions {
  segmentBytes: number;
  logger: BusLogger;
  /** The topic's size cap per partition (retention.bytes), read at each check; none when undefined. */
  retentionBytes?: () => number | undefined;
}

/** Records of one group commit, and the promise their producers wait on. */
export interface PendingBatch {
  records: ProduceRecord[];
  timestamps: number[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

const READ_CHUNK_BYTES = 1024 * 1024;

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  private readonly options: PartitionLogOptions;
  private segments: Segment[];
  private pending: PendingBatch | null = null;
  /** The running (or scheduled) flush loop; null when idle. */
  private flushLoop: Promise<void> | null = null;
  private closed = false;
  /** Set when an fsync failed: every later append fails until the bus is reopened. */
  private failure: Error | null = null;
  /** End of the last batch written to the active segment, durable or not yet. */
  private writeCursor: { segment: Segment; offset: number; position: number } | null = null;
  /** Wake-ups of consumers waiting for new records here; fired after each durable append. */
  readonly appendWaiters = new Set<() => void>();

  private constructor(topic: string, partition: number, dir: string, segments: Segment[], options: PartitionLogOptions) {
    this.topic = topic;
    this.partition = partition;
    this.dir = dir;
    this.segments = segments;
    this.options = options;
  }

  /** Opens (or creates) the partition folder, rebuilding indexes and truncating a torn tail. */
  static open(topic: string, partition: number, dir: string, options: PartitionLogOptions): PartitionLog {
    fs.mkdirSync(dir, { recursive: true });
    let bases = listSegmentBases(dir);
    // A crash right after a roll can leave an empty newest segment; drop it so the tail
    // check below runs on the segment that actually holds the last records.
    while (bases.length > 1 && fs.statSync(segmentPath(dir, bases[bases.length - 1])).size === 0) {
      fs.rmSync(segmentPath(dir, bases.pop()!));
    }
    if (bases.length === 0) {
      fs.closeSync(fs.openSync(segmentPath(dir, 0), 'wx'));
      fsyncDirSync(dir);
      bases = [0];
    }
    const segments: Segment[] = [];
    for (let i = 0; i < bases.length; i++) {
      const isLast = i === bases.length - 1;
      const file = segmentPath(dir, bases[i]);
      const fd = fs.openSync(file, isLast ? 'r+' : 'r');
      const segment = new Segment(bases[i], file, isLast ? fd : -1, isLast);
      try {
        const fileSize = fs.fstatSync(fd).size;
        const validEnd = scanSegment(fd, fileSize, segment, isLast);
        if (validEnd < fileSize) {
          if (isLast) {
            options.logger.warn(
              { topic, partition, file, validBytes: validEnd, droppedBytes: fileSize - validEnd, nextOffset: segment.nextOffset },
              'bus: truncating torn or corrupt tail of partition log',
            );
            fs.ftruncateSync(fd, validEnd);
            fs.fsyncSync(fd);
          } else {
            options.logger.warn(
              { topic, partition, file, validBytes: validEnd, fileBytes: fileSize },
              'bus: sealed segment has unreadable bytes after its last valid record; they are skipped',
            );
          }
        }
        const previous = segments[segments.length - 1];
        if (previous !== undefined && previous.nextOffset !== segment.baseOffset) {
          options.logger.warn(
            { topic, partition, file, expectedBase: previous.nextOffset },
            'bus: offset gap between segments; reads skip it',
          );
        }
      } finally {
        if (!isLast) fs.closeSync(fd);
      }
      segments.push(segment);
    }
    return new PartitionLog(topic, partition, dir, segments, options);
  }

  /** Offset the next appended record gets; also the end of what consumers can read. */
  get highWatermark(): number {
    return this.segments[this.segments.length - 1].nextOffset;
  }

  get logStartOffset(): number {
    return this.segments[0].baseOffset;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Adds a record to the current group-commit batch; the returned batch resolves once durable. */
  enqueue(record: ProduceRecord, timestamp: number): PendingBatch {
    if (this.closed) throw new Error(`partition ${this.topic}/${this.partition} is closed`);
    let batch = this.pending;
    if (batch === null) {
      batch = newBatch();
      this.pending = batch;
      if (this.flushLoop === null) {
        // setImmediate, not a microtask: produce calls arriving from other I/O callbacks of
        // the same event-loop turn join this batch too.
        this.flushLoop = new Promise<void>((resolve) => setImmediate(() => void this.runFlushLoop().then(resolve)));
      }
    }
    batch.records.push(record);
    batch.timestamps.push(timestamp);
    return batch;
  }

  /**
   * Writes batches in order, overlapping the fdatasync of one batch with the write of the
   * next: with write and sync each taking a few milliseconds, the partition's cycle becomes
   * the longer of the two instead of their sum. At most two batches are in flight, and they
   * become durable (acknowledged, visible to consumers) strictly in order.
   */
  private async runFlushLoop(): Promise<void> {
    let inFlight: Promise<void> | null = null;
    try {
      while (this.pending !== null || inFlight !== null) {
        if (this.pending === null) {
          await inFlight;
          inFlight = null;
          continue;
        }
        const active = this.segments[this.segments.length - 1];
        if (this.writePosition(active) >= this.options.segmentBytes && inFlight !== null) {
          // A roll changes the file; let the previous batch finish on the old one first.
          await inFlight;
          inFlight = null;
        }
        const batch = this.pending;
        this.pending = null;
        const written = await this.writeBatch(batch);
        if (written === null) continue;
        const prior = inFlight;
        const synced = fdatasync(written.fd).then(
          () => null,
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        );
        const done = (async () => {
          const syncError = await synced;
          if (prior !== null) await prior;
          this.finishBatch(written, syncError);
        })();
        if (prior !== null) await prior;
        inFlight = done;
      }
    } finally {
      this.flushLoop = null;
    }
  }

  /** Where the next batch will be written: past the durable records and any batch being synced. */
  private writePosition(segment: Segment): number {
    return this.writeCursor !== null && this.writeCursor.segment === segment ? this.writeCursor.position : segment.size;
  }

  /** Writes a batch (not yet durable nor visible). Returns null when it failed and was rejected. */
  private async writeBatch(batch: PendingBatch): Promise<WrittenBatch | null> {
    let segment = this.segments[this.segments.length - 1];
    let startPosition = -1;
    try {
      if (this.failure !== null) throw this.failure;
      if (this.writePosition(segment) >= this.options.segmentBytes && segment.recordCount > 0) {
        segment = await this.roll();
        this.writeCursor = null;
        this.applySizeRetentionAfterRoll();
      }
      const { records, timestamps } = batch;
      const n = records.length;
      let headTotal = 0;
      const headSizes: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const r = records[i];
        const h = frameHeadBytes(r.key, r.headers);
        headSizes[i] = h;
        headTotal += h;
      }
      const heads = Buffer.allocUnsafe(headTotal);
      const iov: Buffer[] = [];
      const cursor = this.writeCursor !== null && this.writeCursor.segment === segment ? this.writeCursor : null;
      const base = cursor !== null ? cursor.offset : segment.nextOffset;
      let hp = 0;
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        const r = records[i];
        const h = headSizes[i];
        writeFrameHead(heads, hp, h, base + i, timestamps[i], r.key, r.headers, r.value);
        iov.push(heads.subarray(hp, hp + h));
        if (r.value.length > 0) iov.push(r.value);
        hp += h;
        bytes += h + r.value.length;
      }
      startPosition = cursor !== null ? cursor.position : segment.size;
      const fd = segment.writeFd();
      const written = await writevAt(fd, iov, startPosition);
      if (written !== bytes) throw new Error(`short write to ${segment.file}: ${written} of ${bytes} bytes`);
      this.writeCursor = { segment, offset: base + n, position: startPosition + bytes };
      return { batch, segment, fd, base, startPosition, headSizes };
    } catch (err) {
      // Cut off whatever part of the batch reached the file so the next batch starts clean.
      const error = err instanceof Error ? err : new Error(String(err));
      if (startPosition >= 0) {
        try {
          fs.ftruncateSync(segment.writeFd(), startPosition);
        } catch {
          // the original error is the one worth reporting
        }
      }
      this.rejectBatch(batch, error);
      return null;
    }
  }

  /** Called in batch order once the batch's fdatasync returned. */
  private finishBatch(w: WrittenBatch, syncError: Error | null): void {
    if (syncError !== null) {
      // After a failed fsync the kernel may have dropped the dirty pages and cleared the
      // error; retrying could ack lost data. Stop appending; reopening recovers from disk.
      this.failure ??= new Error(`partition ${this.topic}/${this.partition} stopped after fsync failed: ${syncError.message}`, { cause: syncError });
    }
    if (this.failure !== null) {
      this.rejectBatch(w.batch, syncError ?? this.failure);
      return;
    }
    const { records, timestamps } = w.batch;
    let pos = w.startPosition;
    for (let i = 0; i < records.length; i++) {
      const frameBytes = w.headSizes[i] + records[i].value.length;
      w.segment.noteRecord(w.base + i, pos, frameBytes, timestamps[i]);
      pos += frameBytes;
    }
    w.batch.resolve();
    this.wakeConsumers();
  }

  private rejectBatch(batch: PendingBatch, error: Error): void {
    this.options.logger.warn({ topic: this.topic, partition: this.partition, err: error.message }, 'bus: append failed');
    batch.reject(new Error(`append to ${this.topic}/${this.partition} failed: ${error.message}`, { cause: error }));
  }

  private wakeConsumers(): void {
    if (this.appendWaiters.size === 0) return;
    const waiters = [...this.appendWaiters];
    this.appendWaiters.clear();
    for (const wake of waiters) wake();
  }

  private async roll(): Promise<Segment> {
    const previous = this.segments[this.segments.length - 1];
    const base = previous.nextOffset;
    const file = segmentPath(this.dir, base);
    const fd = fs.openSync(file, 'wx+');
    const segment = new Segment(base, file, fd, true);
    try {
      await fsyncDir(this.dir);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
      throw err;
    }
    this.segments.push(segment);
    previous.seal();
    return segment;
  }

  /**
   * Appends to `out` up to `maxRecords` records starting at `fromOffset` (clamped into the
   * log), from at most one segment and about `maxBytes`. Returns the next offset to read.
   */
  async read(fromOffset: number, maxRecords: number, maxBytes: number, out: ConsumedRecord[]): Promise<number> {
    const from = Math.max(fromOffset, this.logStartOffset);
    const segment = this.segmentFor(from);
    if (segment === null) return from;
    const start = Math.max(from, segment.baseOffset);
    const end = segment.size;
    let pos = segment.index.positionForOffset(start);
    let next = start;
    let got = 0;
    let bytes = 0;
    const fd = segment.acquire();
    try {
      while (got < maxRecords && bytes < maxBytes && pos < end) {
        const want = Math.min(end - pos, READ_CHUNK_BYTES);
        let buf = await readExactly(fd, want, pos);
        let len = want;
        const firstFrame = FRAME_PREFIX_BYTES + buf.readUInt32BE(0);
        if (firstFrame > len) {
          buf = await readExactly(fd, firstFrame, pos);
          len = firstFrame;
        }
        let p = 0;
        while (p + FRAME_PREFIX_BYTES <= len && got < maxRecords && bytes < maxBytes) {
          const bodyLength = buf.readUInt32BE(p);
          const frameBytes = FRAME_PREFIX_BYTES + bodyLength;
          if (p + frameBytes > len) break;
          if (frameOffset(buf, p) >= start) {
            const rec = decodeFrame(buf, p, bodyLength);
            if (rec === null) throw new Error(`corrupt record in ${segment.file} at position ${pos + p}`);
            out.push({
              topic: this.topic,
              partition: this.partition,
              offset: rec.offset,
              timestamp: rec.timestamp,
              key: rec.key,
              value: rec.value,
              headers: rec.headers,
            });
            next = rec.offset + 1;
            got++;
            bytes += frameBytes;
          }
          p += frameBytes;
        }
        pos += p;
      }
    } finally {
      segment.release();
    }
    return got === 0 ? start : next;
  }

  /** The segment holding `offset`, or the next one after a gap; null at or past the end. */
  private segmentFor(offset: number): Segment | null {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    for (let i = found; i < segs.length; i++) {
      if (segs[i].nextOffset > offset) return segs[i];
    }
    return null;
  }

  /** First offset whose timestamp is >= `timestamp`, or the high watermark when none is. */
  async offsetForTime(timestamp: number): Promise<number> {
    // A copy: retention may shift segments out while this awaits.
    for (const segment of this.segments.slice()) {
      if (segment.retired || segment.maxTimestamp < timestamp || segment.recordCount === 0) continue;
      const found = await this.scanForTime(segment, timestamp);
      if (found !== null) return found;
    }
    return this.highWatermark;
  }

  private async scanForTime(segment: Segment, timestamp: number): Promise<number | null> {
    const end = segment.size;
    let pos = segment.index.positionForTime(timestamp);
    const fd = segment.acquire();
    try {
      while (pos < end) {
        const head = await readExactly(fd, Math.min(FRAME_PREFIX_BYTES + 16, end - pos), pos);
        if (frameTimestamp(head, 0) >= timestamp) return frameOffset(head, 0);
        pos += FRAME_PREFIX_BYTES + head.readUInt32BE(0);
      }
    } finally {
      segment.release();
    }
    return null;
  }

  /** Deletes oldest segments whose newest record is older than the cutoff; never the active one. */
  applyRetention(cutoffTimestamp: number): number {
    return this.deleteOldestWhile((oldest) => oldest.maxTimestamp < cutoffTimestamp, 'bus: retention deleted segments');
  }

  /** Bytes of durable records in all segments. */
  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  /**
   * Deletes oldest segments while the partition holds more than the topic's retentionBytes,
   * never the active one. It stops once under the cap rather than, as Kafka does, once the
   * next deletion would go under: the cap is a disk budget (the agent's buffer) first.
   */
  applySizeRetention(): number {
    const cap = this.options.retentionBytes?.();
    if (cap === undefined) return 0;
    let total = this.sizeBytes;
    if (total <= cap) return 0;
    return this.deleteOldestWhile((oldest) => {
      if (total <= cap) return false;
      total -= oldest.size;
      return true;
    }, 'bus: size retention deleted segments');
  }

  /** A roll is when the size grows past the cap by a whole segment: act at once, without failing the append. */
  private applySizeRetentionAfterRoll(): void {
    try {
      this.applySizeRetention();
    } catch (err) {
      this.options.logger.warn({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'bus: size retention failed');
    }
  }

  private deleteOldestWhile(shouldDelete: (oldest: Segment) => boolean, message: string): number {
    let deleted = 0;
    while (this.segments.length > 1 && shouldDelete(this.segments[0])) {
      const segment = this.segments.shift()!;
      segment.retire();
      deleted++;
    }
    if (deleted > 0) {
      fsyncDirSync(this.dir);
      this.options.logger.info({ topic: this.topic, partition: this.partition, deleted, logStartOffset: this.logStartOffset }, message);
    }
    return deleted;
  }

  /** Waits for every accepted record to be written (or failed). */
  async drain(): Promise<void> {
    while (this.flushLoop !== null) await this.flushLoop;
  }

  /** Flushes, then closes files once reads in flight finish. Enqueue fails afterwards. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    this.segments[this.segments.length - 1].seal();
    this.wakeConsumers();
  }
}

interface WrittenBatch {
  batch: PendingBatch;
  segment: Segment;
  fd: number;
  base: number;
  startPosition: number;
  headSizes: number[];
}

function newBatch(): PendingBatch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { records: [], timestamps: [], done, resolve, reject };
}
