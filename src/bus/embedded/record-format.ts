/**
 * On-disk record frame (big-endian), one after another in a segment file:
 *
 *   u32 bodyLength   bytes after the crc field
 *   u32 crc32        zlib.crc32 of the body
 *   body:
 *     u32,u32 offset       high and low 32 bits (offsets stay below 2^53)
 *     u32,u32 timestamp    Unix ms, same split
 *     i32 keyLength        -1 for a null key
 *     key bytes
 *     u32 headerCount
 *       u16 nameLength, name (utf8), u32 valueLength, value (utf8)   per header
 *     u32 valueLength
 *     value bytes
 *
 * The length + CRC pair is what lets recovery find a torn or corrupt tail after a crash.
 */
import { crc32 } from 'node:zlib';

export const FRAME_PREFIX_BYTES = 8;
/** offset + timestamp + keyLength + headerCount + valueLength. */
export const MIN_BODY_BYTES = 28;
/** Sanity bound on one frame: anything larger is treated as corruption, not a record. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

const TWO_32 = 0x1_0000_0000;
const EMPTY = Buffer.alloc(0);

/** Bytes of a record's frame up to (not including) the value. */
export function frameHeadBytes(key: Buffer | null, headers: Record<string, string> | undefined): number {
  let n = FRAME_PREFIX_BYTES + MIN_BODY_BYTES + (key === null ? 0 : key.length);
  if (headers !== undefined) {
    for (const name in headers) {
      n += 2 + Buffer.byteLength(name) + 4 + Buffer.byteLength(headers[name]);
    }
  }
  return n;
}

/**
 * Writes the frame head of one record into `buf` at `pos` (exactly frameHeadBytes long),
 * including the CRC, which covers the head's body part and then the value in place, so
 * the value itself is never copied.
 */
export function writeFrameHead(
  buf: Buffer,
  pos: number,
  headBytes: number,
  offset: number,
  timestamp: number,
  key: Buffer | null,
  headers: Record<string, string> | undefined,
  value: Buffer,
): void {
  let p = pos + FRAME_PREFIX_BYTES;
  buf.writeUInt32BE(Math.floor(offset / TWO_32), p);
  buf.writeUInt32BE(offset >>> 0, p + 4);
  buf.writeUInt32BE(Math.floor(timestamp / TWO_32), p + 8);
  buf.writeUInt32BE(timestamp >>> 0, p + 12);
  p += 16;
  if (key === null) {
    buf.writeInt32BE(-1, p);
    p += 4;
  } else {
    buf.writeInt32BE(key.length, p);
    p += 4;
    p += key.copy(buf, p);
  }
  const countPos = p;
  p += 4;
  let count = 0;
  if (headers !== undefined) {
    for (const name in headers) {
      const nameLen = buf.write(name, p + 2);
      buf.writeUInt16BE(nameLen, p);
      p += 2 + nameLen;
      const valueLen = buf.write(headers[name], p + 4);
      buf.writeUInt32BE(valueLen, p);
      p += 4 + valueLen;
      count++;
    }
  }
  buf.writeUInt32BE(count, countPos);
  buf.writeUInt32BE(value.length, p);
  p += 4;
  const end = pos + headBytes;
  if (p !== end) throw new Error(`record frame size mismatch: wrote ${p - pos} bytes, planned ${headBytes}`);
  buf.writeUInt32BE(headBytes - FRAME_PREFIX_BYTES + value.length, pos);
  const crc = crc32(value, crc32(buf.subarray(pos + FRAME_PREFIX_BYTES, end)));
  buf.writeUInt32BE(crc, pos + 4);
}

export function readUint53(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** Offset of the frame starting at `pos` (its body must be in `buf`'s first 16 body bytes). */
export function frameOffset(buf: Buffer, pos: number): number {
  return readUint53(buf, pos + FRAME_PREFIX_BYTES);
}

export function frameTimestamp(buf: Buffer, pos: number): number {
  return readUint53(buf, pos + FRAME_PREFIX_BYTES + 8);
}

/** True when the frame at `pos` (fully inside `buf`) has a matching CRC. */
export function frameCrcOk(buf: Buffer, pos: number, bodyLength: number): boolean {
  const body = buf.subarray(pos + FRAME_PREFIX_BYTES, pos + FRAME_PREFIX_BYTES + bodyLength);
  return crc32(body) === buf.readUInt32BE(pos + 4);
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Decodes a complete frame at `pos`. Key and value are views into `buf` (no copy).
 * Returns null when the body's inner lengths disagree with the frame length (corruption).
 */
export function decodeFrame(buf: Buffer, pos: number, bodyLength: number): DecodedRecord | null {
  const end = pos + FRAME_PREFIX_BYTES + bodyLength;
  let p = pos + FRAME_PREFIX_BYTES;
  const offset = readUint53(buf, p);
  const timestamp = readUint53(buf, p + 8);
  p += 16;
  const keyLen = buf.readInt32BE(p);
  p += 4;
  let key: Buffer | null = null;
  if (keyLen >= 0) {
    if (p + keyLen > end) return null;
    key = buf.subarray(p, p + keyLen);
    p += keyLen;
  } else if (keyLen !== -1) {
    return null;
  }
  if (p + 4 > end) return null;
  const count = buf.readUInt32BE(p);
  p += 4;
  const headers: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    if (p + 2 > end) return null;
    const nameLen = buf.readUInt16BE(p);
    p += 2;
    if (p + nameLen + 4 > end) return null;
    const name = buf.toString('utf8', p, p + nameLen);
    p += nameLen;
    const valueLen = buf.readUInt32BE(p);
    p += 4;
    if (p + valueLen > end) return null;
    headers[name] = buf.toString('utf8', p, p + valueLen);
    p += valueLen;
  }
  if (p + 4 > end) return null;
  const valueLen = buf.readUInt32BE(p);
  p += 4;
  if (p + valueLen !== end) return null;
  const value = valueLen === 0 ? EMPTY : buf.subarray(p, end);
  return { offset, timestamp, key, value, headers };
}
