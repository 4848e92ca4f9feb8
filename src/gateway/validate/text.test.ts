import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { test } from 'node:test';
import { OtlpDecodeError } from '../../otlp/index.ts';
import { TextCheck } from './text.ts';

/** `bytes` placed `shift` bytes past a 4-byte boundary of a larger buffer (as a pooled Buffer slice is), with room after. */
function placed(bytes: Uint8Array, shift: number, after: number): Uint8Array {
  const host = new Uint8Array(shift + bytes.length + after).fill(0xff); // non-ASCII all around: must be masked off
  host.set(bytes, shift);
  return host.subarray(shift, shift + bytes.length);
}

test('isAscii reads only [start, end), at every alignment, length and position of a high byte', () => {
  const ascii = Uint8Array.from({ length: 48 }, (_, i) => 0x20 + i);
  for (let shift = 0; shift < 4; shift++) {
    for (const after of [0, 1, 2, 3, 8]) {
      const buf = placed(ascii, shift, after);
      const check = new TextCheck(buf);
      for (let start = 0; start <= buf.length; start++) {
        for (let end = start; end <= buf.length; end++) {
          assert.equal(check.isAscii(start, end), true, `shift ${shift}, after ${after}, [${start}, ${end})`);
        }
      }
      for (let high = 0; high < buf.length; high++) {
        buf[high] = 0x80;
        for (const [start, end] of [[0, buf.length], [high, high + 1], [Math.max(0, high - 9), Math.min(buf.length, high + 9)], [high, buf.length], [0, high + 1]]) {
          assert.equal(check.isAscii(start, end), false, `shift ${shift}, high byte ${high} in [${start}, ${end})`);
        }
        assert.equal(check.isAscii(0, high), true);
        assert.equal(check.isAscii(high + 1, buf.length), true);
        buf[high] = ascii[high];
      }
    }
  }
});

test('utf8 agrees with the strict decoder on short and long strings, and names the offset when it refuses', () => {
  const samples = ['', 'plain', 'naïve café', '€uro ✓ 𝄞', 'x'.repeat(600), 'é'.repeat(400)].map((s) => Buffer.from(s));
  const broken = [Uint8Array.of(0x80), Uint8Array.of(0x61, 0xc3), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xc0, 0xaf), Buffer.concat([Buffer.from('y'.repeat(700)), Uint8Array.of(0xff)])];
  for (const bytes of [...samples, ...broken]) {
    const buf = placed(Buffer.concat([Buffer.from('ab'), bytes]), 1, 2);
    const check = new TextCheck(buf);
    assert.equal(check.isUtf8(2, buf.length), isUtf8(bytes), Buffer.from(bytes).toString('hex').slice(0, 40));
    if (isUtf8(bytes)) check.utf8(2, buf.length);
    else assert.throws(() => check.utf8(2, buf.length), (err: unknown) => err instanceof OtlpDecodeError && err.message === 'byte 2: invalid UTF-8 in a string field');
  }
});
