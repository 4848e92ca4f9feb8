/** UTF-8 helpers for cutting and decoding log lines without ever throwing on bad bytes. */
import { isUtf8 } from 'node:buffer';

/** Drops an incomplete multi-byte character at the end (left by cutting a line at a byte limit). */
export function trimToCharBoundary(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n === 0 || bytes[n - 1] < 0x80) return bytes;
  // Find the lead byte of the last character: at most 3 continuation bytes (10xxxxxx) back.
  let lead = n - 1;
  while (lead > 0 && lead > n - 4 && (bytes[lead] & 0xc0) === 0x80) lead--;
  const b = bytes[lead];
  const want = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return lead + want > n ? bytes.subarray(0, lead) : bytes;
}

export interface Decoded {
  text: string;
  /** The bytes were not valid UTF-8; bad sequences became U+FFFD. */
  invalid: boolean;
}

export function decodeUtf8(bytes: Uint8Array): Decoded {
  const invalid = !isUtf8(bytes);
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // A byte-order mark says nothing about the record; drop it so JSON and level parsing see the text.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text, invalid };
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8. */
export function cutText(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return decodeUtf8(trimToCharBoundary(bytes.subarray(0, maxBytes))).text;
}
