/**
 * A file's identity beyond its name: device and inode, plus a hash of its first bytes. The inode
 * alone is not enough: once a file is deleted its inode number is handed to the next new file,
 * and copy-truncate rotation keeps the inode while replacing the content. The first bytes of a
 * log file (its first lines, with their timestamps) tell the two apart.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** How many leading bytes are hashed once the file has that many. */
export const FINGERPRINT_BYTES = 1024;

export interface Fingerprint {
  /** How many leading bytes the hash covers (less than FINGERPRINT_BYTES while the file is short). */
  length: number;
  /** Hex digest of those bytes. */
  hash: string;
}

export function hashPrefix(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/** Reads up to `limit` leading bytes (fewer if the file is shorter). */
export async function readPrefix(handle: FileHandle, limit: number = FINGERPRINT_BYTES): Promise<Buffer> {
  const buf = Buffer.alloc(limit);
  let filled = 0;
  while (filled < limit) {
    const { bytesRead } = await handle.read(buf, filled, limit - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}

export function fingerprintOf(prefix: Uint8Array): Fingerprint {
  const length = Math.min(prefix.length, FINGERPRINT_BYTES);
  return { length, hash: hashPrefix(prefix.subarray(0, length)) };
}

/** Whether `prefix` (the file's current leading bytes) starts with the content `fp` was taken from. */
export function prefixMatches(fp: Fingerprint, prefix: Uint8Array): boolean {
  if (prefix.length < fp.length) return false;
  return hashPrefix(prefix.subarray(0, fp.length)) === fp.hash;
}

/** Device and inode as one key (strings: inode numbers may pass 2^53). */
export function fileKey(dev: bigint, ino: bigint): string {
  return `${dev}:${ino}`;
}
