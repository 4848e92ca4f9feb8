import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { summaryMerger } from './merge-summary.ts';
import { u64 } from './test-longs.ts';

describe('summary merge', () => {
  test('the latest point wins, counts read from Longs', () => {
    const m = summaryMerger();
    const q = (v: number) => [
      { quantile: 0.5, value: v },
      { quantile: 0.99, value: v * 2 },
    ];
    m.add({ startTimeUnixNano: 0, timeUnixNano: 30, count: u64(9), sum: 4.5, quantileValues: q(0.4) });
    m.add({ startTimeUnixNano: 0, timeUnixNano: 10, count: 3, sum: 1.5, quantileValues: q(0.3) });
    assert.deepEqual(m.take([]), [{ attributes: [], startTimeUnixNano: 0, timeUnixNano: 30, count: 9, sum: 4.5, quantileValues: q(0.4) }]);
  });
});
