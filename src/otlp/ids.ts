/**
 * Hex <-> bytes for trace and span ids. OTLP/JSON and the storage layer use lowercase hex;
 * these run once per span, so they avoid Buffer allocations and regexes.
 */
import { OtlpDecodeError } from './errors.ts';

export const TRACE_ID_BYTES = 16;
export const SPAN_ID_BYTES = 8;

const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(i.toString(16).padStart(2, '0'));

/** Nibble value per char code, -1 for non-hex characters. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

/** Lowercase hex of the bytes ('' for an empty array). */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_HEX[bytes[i]];
  return out;
}

/** Bytes of a hex string (either case); throws OtlpDecodeError naming `field` on odd length or a non-hex character. */
export function hexToBytes(hex: string, field = 'hex'): Uint8Array {
  if ((hex.length & 1) !== 0) throw new OtlpDecodeError(`expected an even number of hex digits, got ${hex.length}`, field);
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0, j = 0; i < hex.length; i += 2, j++) {
    const a = hex.charCodeAt(i);
    const b = hex.charCodeAt(i + 1);
    const hi = a < 128 ? NIBBLE[a] : -1;
    const lo = b < 128 ? NIBBLE[b] : -1;
    if (hi < 0 || lo < 0) throw new OtlpDecodeError(`invalid hex character at index ${hi < 0 ? i : i + 1}`, field);
    out[j] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Bytes of a trace id (16 bytes) or span id (8 bytes) written as hex; '' means "no id" and gives
 * an empty array, as OTLP/JSON allows.
 */
export function idFromHex(hex: string, byteLength: number, field: string): Uint8Array {
  if (hex.length !== 0 && hex.length !== byteLength * 2) {
    throw new OtlpDecodeError(`expected ${byteLength * 2} hex digits or an empty string, got ${hex.length} characters`, field);
  }
  return hexToBytes(hex, field);
}

/** True for an all-zero id (the OpenTelemetry "invalid" id) or an empty one. */
export function isZeroId(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
