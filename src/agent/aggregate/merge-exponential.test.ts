import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeltaExponentialHistogramMerger, MAX_BUCKETS, cumulativeExponentialMerger, downscale } from './merge-exponential.ts';
import { u64 } from './test-longs.ts';

describe('exponential histogram merge', () => {
  test('downscaling merges neighbouring buckets, negative indices included', () => {
    // Indices -3..0 at scale s are floor(i / 2) = -2, -1, -1, 0 at scale s - 1.
    assert.deepEqual(downscale({ offset: -3, counts: [1, 1, 1, 1] }, 1), { offset: -2, counts: [1, 2, 1] });
    // Lowering by 2: indices 0..5 become 0, 0, 0, 0, 1, 1.
    assert.deepEqual(downscale({ offset: 0, counts: [1, 2, 3, 4, 5, 6] }, 2), { offset: 0, counts: [10, 11] });
  });

  test('delta across scales: the finer point is downscaled to the coarser scale, then everything adds', () => {
    const m = new DeltaExponentialHistogramMerger();
    // Scale 1: positive buckets 0..3, one negative bucket at -1, one zero.
    m.add({ startTimeUnixNano: 0, timeUnixNano: 10, scale: 1, count: 12, sum: 20, zeroCount: 1, min: -1.2, max: 4, positive: { offset: 0, bucketCounts: [1, 2, 3, 4] }, negative: { offset: -1, bucketCounts: [1] } });
    // Scale 0: positive buckets 1..2, a negative bucket at 0.
    m.add({ startTimeUnixNano: 10, timeUnixNano: 20, scale: 0, count: u64(13), sum: 30, zeroCount: 0, min: -1.5, max: 7, positive: { offset: 1, bucketCounts: [5, u64(6)] }, negative: { offset: 0, bucketCounts: [2] } });
    // At scale 0 the first point's positive buckets are [1+2, 3+4] at offset 0; adding [5, 6]
    // at offset 1 gives [3, 12, 6]. Negative: index -1 stays -1 (floor(-1 / 2)); with [2] at 0
    // that is [1, 2] at offset -1.
    assert.deepEqual(m.take([]), [
      {
        attributes: [],
        startTimeUnixNano: 0,
        timeUnixNano: 20,
        scale: 0,
        count: 25,
        sum: 50,
        zeroCount: 1,
        min: -1.5,
        max: 7,
        positive: { offset: 0, bucketCounts: [3, 12, 6] },
        negative: { offset: -1, bucketCounts: [1, 2] },
      },
    ]);
  });

  test('delta: a merged range wider than MAX_BUCKETS is downscaled until it fits', () => {
    const m = new DeltaExponentialHistogramMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 1, scale: 0, count: 1, sum: 1, positive: { offset: 0, bucketCounts: [1] } });
    m.add({ startTimeUnixNano: 1, timeUnixNano: 2, scale: 0, count: 1, sum: 2 ** 1000, positive: { offset: 1000, bucketCounts: [1] } });
    const [p] = m.take([]);
    // Indices 0 and 1000 span 1001 buckets; at scale -3 they are 0 and 125 (126 buckets).
    assert.equal(MAX_BUCKETS, 160);
    assert.equal(p.scale, -3);
    const counts = p.positive!.bucketCounts as number[];
    assert.equal(counts.length, 126);
    assert.equal(counts[0], 1);
    assert.equal(counts[125], 1);
    assert.equal(counts.reduce((a, b) => a + b, 0), 2);
  });

  test('cumulative: the latest point wins', () => {
    const m = cumulativeExponentialMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 20, scale: 2, count: 3, sum: 3, zeroCount: 0, positive: { offset: 4, bucketCounts: [1, 2] } });
    m.add({ startTimeUnixNano: 0, timeUnixNano: 10, scale: 2, count: 1, sum: 1, zeroCount: 0, positive: { offset: 4, bucketCounts: [1] } });
    const [p] = m.take([]);
    assert.equal(p.count, 3);
    assert.deepEqual(p.positive, { offset: 4, bucketCounts: [1, 2] });
  });
});
