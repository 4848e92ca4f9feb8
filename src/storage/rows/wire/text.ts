/**
 * Text out of protobuf bytes: strict UTF-8 strings and JSON string literals,
 * read straight from the input Buffer.
 *
 * JSON.stringify escapes exactly '"', '\\', characters below U+0020 and lone surrogates. Strict
 * UTF-8 decoding never yields a lone surrogate, so a string whose bytes hold none of the first
 * three needs no escaping: quoting it is provably what JSON.stringify returns. Every other
 * string goes through JSON.stringify itself.
 */
import { OtlpDecodeError } from '../../../otlp/index.ts';

/** Node's Buffer has native per-encoding slicers; toString(encoding, ...) adds argument checks on top. */
interface SlicingBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

/** A Buffer view of the bytes (no copy), so the native slicers are available. */
export function asSlicingBuffer(bytes: Uint8Array): SlicingBuffer {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b as SlicingBuffer;
}

// The same decoder protobufjs's stringVerify uses (fatal, BOM kept), so both accept the same strings.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Byte classes: 1 = must be escaped in JSON, 2 = not ASCII. */
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) BYTE_CLASS[b] = 1;
BYTE_CLASS[0x22] = 1;
BYTE_CLASS[0x5c] = 1;
for (let b = 0x80; b < 0x100; b++) BYTE_CLASS[b] = 2;

function decodeUtf8(buf: SlicingBuffer, start: number, end: number): string {
  try {
    return strictUtf8.decode(buf.subarray(start, end));
  } catch (err) {
    throw new OtlpDecodeError('invalid UTF-8 in a string field', `byte ${start}`, { cause: err });
  }
}

/** Set by readString: whether the last string read needs JSON escaping. */
export let lastNeedsEscape = false;

/** The string stored in bytes [start, end); throws OtlpDecodeError on invalid UTF-8. */
export function readString(buf: SlicingBuffer, start: number, end: number): string {
  let cls = 0;
  for (let i = start; i < end; i++) cls |= BYTE_CLASS[buf[i]];
  lastNeedsEscape = (cls & 1) !== 0;
  if (start === end) return '';
  return (cls & 2) === 0 ? buf.latin1Slice(start, end) : decodeUtf8(buf, start, end);
}

/** Throws OtlpDecodeError when bytes [start, end) are not valid UTF-8 (for strings we do not keep). */
export function checkUtf8(buf: SlicingBuffer, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) {
      decodeUtf8(buf, i, end);
      return;
    }
  }
}

/** JSON string literal of the string in bytes [start, end). */
export function jsonStringAt(buf: SlicingBuffer, start: number, end: number): string {
  const s = readString(buf, start, end);
  return lastNeedsEscape ? JSON.stringify(s) : '"' + s + '"';
}

/** JSON string literal of a JS string; identical to JSON.stringify(s). */
export function jsonQuote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

export type { SlicingBuffer };
