import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { msToNanos } from '../../otlp/index.ts';
import { compareNanos, earliest, intKey, latest, toNumber } from './numbers.ts';
import { i64, longFromBits, u64 } from './test-longs.ts';

describe('64-bit values', () => {
  test('toNumber reads Longs with their sign, numbers, strings and bigints', () => {
    assert.equal(toNumber(i64(-5)), -5);
    assert.equal(toNumber(u64(2 ** 40 + 3)), 2 ** 40 + 3);
    assert.equal(toNumber(longFromBits(0xffffffff, 0xffffffff, true)), 2 ** 64 - 1);
    assert.equal(toNumber(7), 7);
    assert.equal(toNumber('-12'), -12);
    assert.equal(toNumber(12n), 12);
    assert.equal(toNumber(null), 0);
    assert.throws(() => toNumber('nope'), /expected an integer/);
  });

  test('compareNanos orders times past 2^53 exactly, whatever their form', () => {
    // 1 ns apart, which doubles at this magnitude cannot tell apart.
    const a = u64('1735689600000000001');
    const b = u64('1735689600000000002');
    assert.equal(Number(a.toString()), Number(b.toString()));
    assert.ok(compareNanos(a, b) < 0);
    assert.ok(compareNanos(b, a) > 0);
    assert.equal(compareNanos(a, longFromBits(a.low, a.high, true)), 0);
    assert.equal(compareNanos(msToNanos(Date.UTC(2025, 0, 1)), 1735689600000000000), 0);
    assert.ok(compareNanos(1000, u64(999)) > 0);
    assert.ok(compareNanos('1700000000000000001', '1700000000000000000') > 0);
    assert.ok(compareNanos(undefined, 1) < 0);
    assert.equal(earliest(b, a), a);
    assert.equal(latest(a, b), b);
  });

  test('intKey is the same for one value in every form', () => {
    const forms = [42, i64(42), '42', 42n];
    assert.deepEqual(new Set(forms.map(intKey)), new Set(['42']));
    assert.equal(intKey(longFromBits(0xffffffff, 0xffffffff, false)), '-1');
    assert.equal(intKey(i64('9223372036854775807')), '9223372036854775807');
    assert.equal(intKey('9223372036854775807'), '9223372036854775807');
  });
});
