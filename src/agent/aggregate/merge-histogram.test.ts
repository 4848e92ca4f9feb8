import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { str } from '../../otlp/index.ts';
import { DeltaHistogramMerger, cumulativeHistogramMerger } from './merge-histogram.ts';
import { u64 } from './test-longs.ts';

const attrs = [str('route', '/a')];
describe('histogram merge', () => {
  test('delta with equal bounds: buckets, count and sum add; min and max take the extremes', () => {
    const m = new DeltaHistogramMerger();
    m.add({ startTimeUnixNano: 10, timeUnixNano: 20, count: 6, sum: 10, min: 0.5, max: 9, explicitBounds: [1, 5], bucketCounts: [1, 2, 3] });
    m.add({ startTimeUnixNano: 20, timeUnixNano: 30, count: u64(2), sum: 7, min: 3, max: 12, explicitBounds: [1, 5], bucketCounts: [u64(0), 1, 1] });
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, startTimeUnixNano: 10, timeUnixNano: 30, count: 8, sum: 17, min: 0.5, max: 12, explicitBounds: [1, 5], bucketCounts: [1, 3, 4] }]);
  });

  test('delta with new bounds: what was accumulated is its own point and the series starts again', () => {
    const m = new DeltaHistogramMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 10, count: 3, sum: 3, explicitBounds: [1, 5], bucketCounts: [1, 1, 1] });
    m.add({ startTimeUnixNano: 10, timeUnixNano: 20, count: 2, sum: 4, explicitBounds: [2], bucketCounts: [1, 1] });
    m.add({ startTimeUnixNano: 20, timeUnixNano: 30, count: 1, sum: 1, explicitBounds: [2], bucketCounts: [1, 0] });
    assert.deepEqual(m.take(attrs), [
      { attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 10, count: 3, sum: 3, explicitBounds: [1, 5], bucketCounts: [1, 1, 1] },
      { attributes: attrs, startTimeUnixNano: 10, timeUnixNano: 30, count: 3, sum: 5, explicitBounds: [2], bucketCounts: [2, 1] },
    ]);
  });

  test('delta: a point with observations but no sum makes the total unknown', () => {
    const m = new DeltaHistogramMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 1, count: 1, sum: 2, explicitBounds: [], bucketCounts: [1] });
    m.add({ startTimeUnixNano: 1, timeUnixNano: 2, count: 1, explicitBounds: [], bucketCounts: [1] });
    const [p] = m.take(attrs);
    assert.equal(p.count, 2);
    assert.equal('sum' in p, false);
  });

  test('cumulative: the latest point wins', () => {
    const m = cumulativeHistogramMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 20, count: 5, sum: 9, explicitBounds: [1], bucketCounts: [2, 3] });
    m.add({ startTimeUnixNano: 0, timeUnixNano: 10, count: 4, sum: 7, explicitBounds: [1], bucketCounts: [2, 2] });
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 20, count: 5, sum: 9, explicitBounds: [1], bucketCounts: [2, 3] }]);
  });
});
