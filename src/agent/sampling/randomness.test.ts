import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explicitRandomness, keeps, thresholdFor, traceRandomness } from './randomness.ts';
import { randomTraceId, seededRandom } from './testing.ts';

const TWO_56 = 1n << 56n;

test('traceRandomness is the last 7 bytes of the trace id, big-endian', () => {
  const id = Uint8Array.from([0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]);
  assert.equal(traceRandomness(id), 0x123456789abcden);
  assert.equal(traceRandomness(new Uint8Array(16).fill(0xff)), TWO_56 - 1n);
  assert.equal(traceRandomness(new Uint8Array(16)), 0n);
});

test('traceRandomness rejects ids that are not 16 bytes, naming traceId', () => {
  assert.throws(() => traceRandomness(new Uint8Array(8)), /traceId: expected 16 bytes, got 8 bytes/);
});

test('thresholdFor encodes (1 - p) * 2^56 as hex without trailing zeros, as OpenTelemetry does', () => {
  assert.equal(thresholdFor(1).thHex, '');
  assert.equal(thresholdFor(1).threshold, 0n);
  assert.equal(thresholdFor(0.5).thHex, '8');
  assert.equal(thresholdFor(0.25).thHex, 'c');
  assert.equal(thresholdFor(0.75).thHex, '4');
  // The double nearest 1/3 is a little below it, so its threshold is a little above 0xaaaaaaaaaaaaab.
  assert.equal(thresholdFor(1 / 3).thHex, 'aaaaaaaaaaaaac');
  assert.equal(thresholdFor(2 ** -20).thHex, 'fffff');
  // Below the smallest representable probability (2^-56): the largest threshold.
  assert.equal(thresholdFor(1e-30).thHex, 'ffffffffffffff');
  assert.equal(thresholdFor(1e-30).adjustedCount, 2 ** 56);
});

test('adjusted count is the inverse of the probability the threshold stands for', () => {
  for (const p of [1, 0.5, 0.1, 0.01234, 1e-6]) {
    const t = thresholdFor(p);
    assert.equal(t.adjustedCount, 1 / t.probability);
    assert.ok(Math.abs(t.probability - p) / p < 1e-9, `p=${p} became ${t.probability}`);
    assert.equal(BigInt('0x' + (t.thHex || '0').padEnd(14, '0')), t.threshold);
  }
});

test('thresholdFor rejects probabilities outside (0, 1]', () => {
  for (const p of [0, -0.1, 1.5, Number.NaN]) assert.throws(() => thresholdFor(p), /probability/);
});

test('keeps about p of random trace ids, and a higher p keeps a superset', () => {
  const random = seededRandom(7);
  const ids = Array.from({ length: 20_000 }, () => traceRandomness(randomTraceId(random)));
  const low = thresholdFor(0.1);
  const high = thresholdFor(0.3);
  const keptLow = ids.filter((r) => keeps(r, low));
  const keptHigh = new Set(ids.filter((r) => keeps(r, high)));
  assert.ok(Math.abs(keptLow.length / ids.length - 0.1) < 0.01, `kept ${keptLow.length}`);
  assert.ok(Math.abs(keptHigh.size / ids.length - 0.3) < 0.015, `kept ${keptHigh.size}`);
  for (const r of keptLow) assert.ok(keptHigh.has(r));
});

test('explicitRandomness reads ot=rv from a tracestate', () => {
  assert.equal(explicitRandomness('ot=rv:00000000000001'), 1n);
  assert.equal(explicitRandomness('vendor=a,ot=th:8;rv:ffffffffffffff'), TWO_56 - 1n);
  assert.equal(explicitRandomness('ot=th:8'), undefined);
  assert.equal(explicitRandomness('ot=rv:123'), undefined);
  assert.equal(explicitRandomness('other=rv:00000000000001'), undefined);
  assert.equal(explicitRandomness(''), undefined);
  assert.equal(explicitRandomness(undefined), undefined);
});
