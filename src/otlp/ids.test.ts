import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OtlpDecodeError } from './errors.ts';
import { seededRandom } from './fixtures.ts';
import { bytesToHex, hexToBytes, idFromHex, isZeroId } from './ids.ts';

test('bytesToHex matches Buffer hex and hexToBytes inverts it, for random lengths and bytes', () => {
  const random = seededRandom(7);
  for (let n = 0; n < 200; n++) {
    const bytes = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
    const hex = bytesToHex(bytes);
    assert.equal(hex, Buffer.from(bytes).toString('hex'));
    assert.deepEqual(hexToBytes(hex), bytes);
    assert.deepEqual(hexToBytes(hex.toUpperCase()), bytes);
  }
});

test('hexToBytes rejects odd lengths and non-hex characters, naming the field', () => {
  assert.throws(() => hexToBytes('abc', 'spanId'), (e: unknown) => e instanceof OtlpDecodeError && e.message.includes('spanId'));
  for (const bad of ['0g', 'zz', '  ', '0x', '\u00e90']) {
    assert.throws(() => hexToBytes(bad), OtlpDecodeError, bad);
  }
});

test('idFromHex accepts exactly the id length or empty', () => {
  assert.deepEqual(idFromHex('', 16, 'traceId'), new Uint8Array(0));
  assert.equal(idFromHex('0102030405060708090a0b0c0d0e0f10', 16, 'traceId')[15], 0x10);
  assert.throws(() => idFromHex('0102', 16, 'traceId'), /traceId.*32 hex digits/);
  assert.throws(() => idFromHex('0102030405060708090a0b0c0d0e0f10', 8, 'spanId'), /spanId/);
});

test('isZeroId', () => {
  assert.equal(isZeroId(new Uint8Array(16)), true);
  assert.equal(isZeroId(Uint8Array.of(0, 0, 1)), false);
});
