import assert from 'node:assert/strict';
import { test } from 'node:test';
import { longToNumber, msToNanos } from '../otlp/index.ts';
import { Prng } from './prng.ts';

test('msToNanos is exact to the nanosecond where a plain number is not', () => {
  const cases: Array<[number, bigint]> = [
    [0, 0n],
    [1, 1_000_000n],
    [1_736_942_400_000, 1_736_942_400_000_000_000n],
    [1_736_942_400_123.25, 1_736_942_400_123_250_000n],
    [4_102_444_800_000.5, 4_102_444_800_000_500_000n],
  ];
  for (const [ms, expected] of cases) {
    const got = BigInt(String(msToNanos(ms)));
    // Sub-ms parts of a double near 1.7e12 are good to ~0.25 µs.
    const diff = got > expected ? got - expected : expected - got;
    assert.ok(diff <= 250n, `msToNanos(${ms}) = ${got}, expected ${expected}`);
    if (Number.isInteger(ms)) assert.equal(got, expected);
  }
  // Whole milliseconds land on exact multiples of 1e6, which ms * 1e6 as a double would not.
  const ms = 1_736_942_400_007;
  assert.notEqual(BigInt(ms * 1e6), BigInt(ms) * 1_000_000n);
  assert.equal(BigInt(String(msToNanos(ms))), BigInt(ms) * 1_000_000n);
  assert.equal(longToNumber(msToNanos(1234)), 1_234_000_000);
});

test('prng: same seed same stream, values in range, distributions centred', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  for (let i = 0; i < 100; i++) assert.equal(a.uint32(), b.uint32());
  const p = new Prng(1);
  let sum = 0;
  const draws: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const u = p.next();
    assert.ok(u >= 0 && u < 1);
    sum += p.exponential(10);
    draws.push(p.lognormal(50, 0.5));
    const n = p.int(3, 5);
    assert.ok(n >= 3 && n <= 5 && Number.isInteger(n));
  }
  assert.ok(Math.abs(sum / 20_000 - 10) < 0.5, `exponential mean ${sum / 20_000}`);
  const sorted = draws.toSorted((x, y) => x - y);
  assert.ok(Math.abs(sorted[10_000] - 50) < 2.5, `lognormal median ${sorted[10_000]}`);
  const id = p.fillBytes(new Uint8Array(8));
  assert.ok(id.some((x) => x !== 0));
});
