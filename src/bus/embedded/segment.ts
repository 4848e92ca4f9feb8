/**
 * One segment file of a partition: records with offsets [baseOffset, nextOffset), named by
 * its zero-padded base offset like Kafka's. Holds the in-memory sparse index and the file
 * descriptor, which is reference counted so retention or close never pulls an fd from
 * under a read in flight (a reused fd number would read another file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SparseIndex, INDEX_INTERVAL_BYTES } from './sparse-index.ts';
import { FRAME_PREFIX_BYTES, MIN_BODY_BYTES, MAX_BODY_BYTES, frameOffset, frameTimestamp, frameCrcOk, decodeFrame } from './record-format.ts';
import { readExactlySync } from './fs-util.ts';

export const SEGMENT_SUFFIX = '.log';

export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** Base offset from a segment file name, or null for files that are not segments. */
export function parseSegmentFileName(name: string): number | null {
  if (!name.endsWith(SEGMENT_SUFFIX)) return null;
  const digits = name.slice(0, -SEGMENT_SUFFIX.length);
  if (!/^\d{20}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

export class Segment {
  readonly baseOffset: number;
  readonly file: string;
  readonly index = new SparseIndex();
  nextOffset: number;
  /** Bytes of complete, durable records (reads never go past it). */
  size = 0;
  maxTimestamp = -Infinity;
  /** The one segment appends go to; its fd stays open. */
  writable: boolean;
  retired = false;
  private fd: number;
  private refs = 0;
  private lastIndexedPosition = -Infinity;

  constructor(baseOffset: number, file: string, fd: number, writable: boolean) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.file = file;
    this.fd = fd;
    this.writable = writable;
  }

  get recordCount(): number {
    return this.nextOffset - this.baseOffset;
  }

  /** Accounts one durable record that starts at `position` and is `frameBytes` long. */
  noteRecord(offset: number, position: number, frameBytes: number, timestamp: number): void {
    if (position - this.lastIndexedPosition >= INDEX_INTERVAL_BYTES) {
      this.index.add(offset, position, this.maxTimestamp);
      this.lastIndexedPosition = position;
    }
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.nextOffset = offset + 1;
    this.size = position + frameBytes;
  }

  /** The write fd of the active segment (never closed while writable). */
  writeFd(): number {
    if (!this.writable || this.fd < 0) throw new Error(`segment ${this.file} is not writable`);
    return this.fd;
  }

  acquire(): number {
    if (this.retired) throw new Error(`segment ${this.file} was deleted by retention`);
    if (this.fd < 0) this.fd = fs.openSync(this.file, 'r');
    this.refs++;
    return this.fd;
  }

  release(): void {
    this.refs--;
    this.closeIfIdle();
  }

  /** Stops appends; the fd closes once no read holds it. */
  seal(): void {
    this.writable = false;
    this.closeIfIdle();
  }

  /** Deletes the file (retention). Reads in flight keep their fd until they release it. */
  retire(): void {
    this.retired = true;
    this.writable = false;
    fs.rmSync(this.file, { force: true });
    this.closeIfIdle();
  }

  private closeIfIdle(): void {
    if (this.refs === 0 && !this.writable && this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

const SCAN_CHUNK_VERIFY = 1024 * 1024;
const SCAN_CHUNK_HEADS = 64 * 1024;
const HEAD_PROBE = FRAME_PREFIX_BYTES + 16;

/**
 * Rebuilds a segment's index from its file. With `verify`, each record's CRC, inner lengths
 * and offset sequence are checked and the scan stops at the first bad one; otherwise only
 * the heads are read (sealed segments were fsynced whole before the next one was created).
 * Returns the file position where the valid records end.
 */
export function scanSegment(fd: number, fileSize: number, segment: Segment, verify: boolean): number {
  const chunkSize = verify ? SCAN_CHUNK_VERIFY : SCAN_CHUNK_HEADS;
  let buf = Buffer.allocUnsafe(chunkSize);
  let bufStart = 0;
  let bufLen = 0;
  const ensure = (from: number, need: number): number => {
    if (from >= bufStart && from + need <= bufStart + bufLen) return from - bufStart;
    const len = Math.min(Math.max(need, chunkSize), fileSize - from);
    if (buf.length < len) buf = Buffer.allocUnsafe(len);
    readExactlySync(fd, buf, len, from);
    bufStart = from;
    bufLen = len;
    return 0;
  };
  let pos = 0;
  while (pos + HEAD_PROBE <= fileSize) {
    let at = ensure(pos, HEAD_PROBE);
    const bodyLength = buf.readUInt32BE(at);
    if (bodyLength < MIN_BODY_BYTES || bodyLength > MAX_BODY_BYTES) break;
    const frameBytes = FRAME_PREFIX_BYTES + bodyLength;
    if (pos + frameBytes > fileSize) break;
    if (verify) {
      at = ensure(pos, frameBytes);
      if (!frameCrcOk(buf, at, bodyLength) || decodeFrame(buf, at, bodyLength) === null) break;
    }
    const offset = frameOffset(buf, at);
    if (offset !== segment.nextOffset) break;
    segment.noteRecord(offset, pos, frameBytes, frameTimestamp(buf, at));
    pos += frameBytes;
  }
  return pos;
}

export function listSegmentBases(dir: string): number[] {
  const bases: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const base = parseSegmentFileName(name);
    if (base !== null) bases.push(base);
  }
  return bases.sort((a, b) => a - b);
}

export function segmentPath(dir: string, baseOffset: number): string {
  return path.join(dir, segmentFileName(baseOffset));
}
