import { test } from 'node:test';
import assert from 'node:assert/strict';
import Long from 'long';
import { anyValueJson, anyValueText, attributesMap, durationText, idToHex, int64Text, nanosText, uint64Text } from './values.ts';

/** Reference conversions through BigInt, independent of the fast paths under test. */
function refSigned(l: Long): string {
  return BigInt.asIntN(64, (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)).toString();
}
function refUnsigned(l: Long): string {
  return ((BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)).toString();
}

function randomLong(unsigned: boolean): Long {
  const hi = (Math.random() * 2 ** 32) | 0;
  const lo = (Math.random() * 2 ** 32) | 0;
  // Mix in small and boundary highs so every branch gets exercised.
  const pick = Math.random();
  const high = pick < 0.2 ? 0 : pick < 0.3 ? 0x1fffff : pick < 0.4 ? 0x200000 : pick < 0.5 ? -1 : hi;
  return new Long(lo, high, unsigned);
}

test('int64Text and uint64Text match BigInt on extremes and random values', () => {
  const extremes = [Long.MAX_VALUE, Long.MIN_VALUE, Long.NEG_ONE, Long.ZERO, Long.ONE, Long.fromNumber(2 ** 53), Long.fromNumber(-(2 ** 53) - 1)];
  for (const l of extremes) assert.equal(int64Text(l), refSigned(l), `signed ${l.toString()}`);
  assert.equal(uint64Text(Long.MAX_UNSIGNED_VALUE), '18446744073709551615');
  assert.equal(int64Text(Long.MIN_VALUE), '-9223372036854775808');
  for (let i = 0; i < 20000; i++) {
    const s = randomLong(false);
    assert.equal(int64Text(s), refSigned(s));
    const u = randomLong(true);
    assert.equal(uint64Text(u), refUnsigned(u));
    assert.equal(int64Text(u), refUnsigned(u));
  }
  assert.equal(int64Text(-42), '-42');
  assert.equal(int64Text(null), '0');
});

test('nanosText keeps every nanosecond and zero-pads seconds', () => {
  for (let i = 0; i < 20000; i++) {
    const l = new Long((Math.random() * 2 ** 32) | 0, (Math.random() * 0x7fffffff) | 0, true);
    const ref = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
    const text = nanosText(l);
    const [secs, frac] = text.split('.');
    assert.equal(secs.length >= 10, true);
    assert.equal(frac.length, 9);
    assert.equal(BigInt(secs) * 1_000_000_000n + BigInt(frac), ref);
  }
  assert.equal(nanosText(Long.ZERO), '0000000000.000000000');
  assert.equal(nanosText(Long.fromString('1700000000123456789', true)), '1700000000.123456789');
  assert.equal(nanosText(5), '0000000000.000000005');
  // Beyond DateTime64(9)'s range: clamped to its end.
  assert.equal(nanosText(Long.MAX_UNSIGNED_VALUE), '9223372036.854775807');
});

test('durationText is end - start exactly, 0 when negative', () => {
  for (let i = 0; i < 5000; i++) {
    const a = new Long((Math.random() * 2 ** 32) | 0, (Math.random() * 2 ** 31) | 0, true);
    const b = new Long((Math.random() * 2 ** 32) | 0, (Math.random() * 2 ** 31) | 0, true);
    const d = BigInt(a.toString()) - BigInt(b.toString());
    assert.equal(durationText(a, b), d > 0n ? d.toString() : '0');
  }
  assert.equal(durationText(0, 0), '0');
});

test('idToHex is lowercase hex, empty for empty ids', () => {
  const id = Uint8Array.from([0, 1, 0xab, 0xff, 0x10]);
  assert.equal(idToHex(id), Buffer.from(id).toString('hex'));
  assert.equal(idToHex(new Uint8Array(0)), '');
  assert.equal(idToHex(null), '');
  const rnd = new Uint8Array(16).map(() => (Math.random() * 256) | 0);
  assert.equal(idToHex(rnd), Buffer.from(rnd).toString('hex'));
});

test('attribute values flatten per type', () => {
  assert.equal(anyValueText({ stringValue: 'x' }), 'x');
  assert.equal(anyValueText({ boolValue: false }), 'false');
  assert.equal(anyValueText({ intValue: Long.MIN_VALUE }), '-9223372036854775808');
  assert.equal(anyValueText({ doubleValue: 1.5e-7 }), String(1.5e-7));
  assert.equal(anyValueText({ bytesValue: Uint8Array.from([1, 2, 3]) }), Buffer.from([1, 2, 3]).toString('base64'));
  const nested = {
    arrayValue: { values: [{ stringValue: 'a"b' }, { intValue: Long.MAX_VALUE }, { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } }] },
  };
  assert.equal(anyValueText(nested), '["a\\"b",9223372036854775807,{"k":true}]');
  assert.deepEqual(JSON.parse(anyValueJson({ kvlistValue: { values: [{ key: 'n', value: { doubleValue: 2 } }] } })), { n: 2 });
  assert.deepEqual(attributesMap([{ key: 'a', value: { intValue: 7 } }, { key: 'b', value: { stringValue: 's' } }]), { a: '7', b: 's' });
});
