/** Cutting an over-long string attribute value without breaking UTF-8, and marking the cut. */

export const TRUNCATION_MARKER = '...[truncated]';
const MARKER = new TextEncoder().encode(TRUNCATION_MARKER);

/**
 * The first at most `maxBytes` bytes of a UTF-8 string, marker included: the cut backs off to a
 * character boundary, so a multi-byte character is kept whole or left out, never split.
 * `maxBytes` is at least 16 (config), so there is room for the marker.
 */
export function truncateUtf8(bytes: Uint8Array, maxBytes: number): Uint8Array {
  let cut = Math.max(0, maxBytes - MARKER.length);
  // A continuation byte (10xxxxxx) at the cut means the cut falls inside a character; a valid
  // character has at most 3 of them, so back off at most 3 (invalid input stays bounded too).
  for (let i = 0; i < 3 && cut > 0 && (bytes[cut] & 0xc0) === 0x80; i++) cut--;
  const out = new Uint8Array(cut + MARKER.length);
  out.set(bytes.subarray(0, cut));
  out.set(MARKER, cut);
  return out;
}
